"""carto_auth: CARTO access tokens for Python, through the carto-auth helper.

A drop-in for the carto-auth Python package: the same CartoAuth class and
CredentialsError, with tokens obtained, stored and renewed by the installed
carto-auth program. Standard library only.

    from carto_auth import CartoAuth

    carto_auth = CartoAuth.from_m2m("./carto-credentials.json")
    access_token = carto_auth.get_access_token()

The program is found through $CARTO_AUTH_BIN, next to this package's install
prefix (<prefix>/bin/carto-auth, also recorded in the package when it is
installed with pip from an install prefix), in the Python environment's
bin directory, or on PATH.

The reference's modules are here under the same names: carto_auth.auth,
carto_auth.errors, carto_auth.pkce and carto_auth.utils.
"""

from carto_auth._version import __version__
from carto_auth.auth import CartoAuth
from carto_auth.errors import CredentialsError

__all__ = [
    "__version__",
    "CartoAuth",
    "CredentialsError",
]
