"""carto_auth: CARTO access tokens for Python, through the carto-auth helper.

A drop-in for the carto-auth Python package: the same CartoAuth class and
CredentialsError, with tokens obtained, stored and renewed by the installed
carto-auth program. Standard library only.

    from carto_auth import CartoAuth

    carto_auth = CartoAuth.from_m2m("./carto-credentials.json")
    access_token = carto_auth.get_access_token()

The program is found through $CARTO_AUTH_BIN, next to this package's install
prefix (<prefix>/bin/carto-auth), or on PATH.
"""

from carto_auth.auth import CartoAuth
from carto_auth.errors import CredentialsError

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "CartoAuth",
    "CredentialsError",
]
