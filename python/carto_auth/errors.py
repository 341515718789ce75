"""Exceptions of the carto_auth drop-in.

CredentialsError is the one to catch, as with the Python reference.  A few
failures also derive from the built-in exception the reference raised for
the same mistake, so code written against the reference keeps working:

    missing attribute in the credentials file   AttributeError
    empty value in the credentials file         ValueError
    credentials file not found                  FileNotFoundError
    credentials file is not JSON                ValueError (as json raises)
    the server cannot be reached                ConnectionError
    google-cloud-bigquery not installed         ImportError
"""


class CredentialsError(Exception):
    """carto-auth could not provide a token or the Data Warehouse credentials."""


class MissingAttributeError(CredentialsError, AttributeError):
    """The credentials file lacks api_base_url, client_id or client_secret."""


class MissingValueError(CredentialsError, ValueError):
    """An attribute of the credentials file is empty."""


class CredentialsFileNotFoundError(CredentialsError, FileNotFoundError):
    """The credentials file does not exist."""


class MalformedCredentialsError(CredentialsError, ValueError):
    """The credentials file is not a JSON object (json raised ValueError)."""


class NetworkError(CredentialsError, ConnectionError):
    """A server could not be reached, or did not answer in time."""


class HelperNotFoundError(CredentialsError):
    """The carto-auth program is not installed where this package looks."""


class MissingDependencyError(CredentialsError, ImportError):
    """An optional package (google-cloud-bigquery) is not installed."""


__all__ = [
    "CredentialsError",
    "MissingAttributeError",
    "MissingValueError",
    "CredentialsFileNotFoundError",
    "MalformedCredentialsError",
    "NetworkError",
    "HelperNotFoundError",
    "MissingDependencyError",
]
