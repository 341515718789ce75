"""CartoAuth: the Python reference's interface over the carto-auth helper."""

import os
import sys
import threading
import time

from carto_auth import _helper
from carto_auth.errors import CredentialsError, MissingDependencyError

# A token with less than this left is renewed before it is handed out; the
# helper applies the same margin (its min_ttl default).
MIN_TTL = 300


def _path(value):
    if value is None:
        return None
    return os.path.abspath(os.path.expanduser(os.fspath(value)))


def _in_colab():
    return "google.colab" in sys.modules


class CartoAuth:
    """CARTO authentication: hands out access tokens for a CARTO account.

    Build one with CartoAuth.from_oauth() (a user's login in the browser) or
    CartoAuth.from_m2m(filepath) (a machine-to-machine credentials file).
    Tokens come from the carto-auth program, which stores them safely (the
    desktop keyring or ~/.carto-auth, mode 0600) and renews them before
    they expire.

    Args (as in the reference; prefer the from_* constructors):
        mode (str): "oauth" or "m2m".
        api_base_url (str, optional): Base URL for a CARTO account.
        access_token (str, optional): A token already obtained.
        expiration (int, optional): Its expiry, in Unix seconds.
        client_id (str, optional): Client id of an M2M application.
        client_secret (str, optional): Client secret of an M2M application.
        cache_filepath (str, optional): File where the token is stored.
        use_cache (bool, optional): Whether a stored token may be used.
            Default True.
        open_browser (bool, optional): Whether the web browser is opened
            for a login. Default True.
        org (str, optional): Single Sign-On organization (OAuth).
    """

    def __init__(
        self,
        mode,
        api_base_url=None,
        access_token=None,
        expiration=None,
        client_id=None,
        client_secret=None,
        cache_filepath=None,
        use_cache=True,
        open_browser=True,
        org=None,
        _credentials_filepath=None,
    ):
        if mode not in ("oauth", "m2m"):
            raise CredentialsError(f"mode {mode!r} is not supported: use oauth or m2m")
        self._mode = mode
        self._api_base_url = api_base_url
        self._access_token = access_token
        self._expiration = int(expiration) if expiration is not None else None
        self._cache_filepath = _path(cache_filepath)
        self._use_cache = bool(use_cache)
        self._open_browser = bool(open_browser)
        self._lock = threading.RLock()

        request = {"mode": mode}
        if mode == "m2m":
            if _credentials_filepath is not None:
                request["credentials_file"] = _path(_credentials_filepath)
            elif client_id and client_secret:
                if not api_base_url:
                    raise CredentialsError("api_base_url is required with client_id")
                request["client_id"] = client_id
                request["client_secret"] = client_secret
                request["api_base_url"] = api_base_url
            else:
                raise CredentialsError(
                    "m2m needs a credentials file (CartoAuth.from_m2m) "
                    "or client_id and client_secret"
                )
        else:
            if api_base_url:
                request["api_base_url"] = api_base_url
            if org:
                request["org"] = org
            # Left out unless off, so the helper's own default (off on
            # Databricks) applies.
            if not open_browser or _in_colab():
                request["open_browser"] = False
        if self._cache_filepath:
            request["cache_file"] = self._cache_filepath
        if not self._use_cache:
            request["use_cache"] = False
        self._request = request

    def __repr__(self):
        return (
            f"CartoAuth(mode={self._mode!r}, api_base_url={self._api_base_url!r}, "
            f"expiration={self._expiration!r})"
        )

    @classmethod
    def from_oauth(
        cls,
        cache_filepath=None,
        use_cache=True,
        open_browser=True,
        api_base_url=None,
        org=None,
    ):
        """Create a CartoAuth object using OAuth with CARTO.

        Uses the stored token when it is still valid, renews it with a
        refresh token when it can, and otherwise logs in: in the browser,
        or (open_browser=False, Databricks, Colab) by pasting a code.

        Args:
            cache_filepath (str, optional): File path where the token is stored.
                Default: the keyring, or "home()/.carto-auth/token_oauth.json".
            use_cache (bool, optional): Whether the stored cached token should be used.
                Default True.
            open_browser (bool, optional): Whether the web browser should be opened
                to authorize a user. Default True.
            api_base_url (str, optional): Base URL for a CARTO account.
            org (str, optional): Single Sign-On (SSO) organization in CARTO.

        Raises:
            CredentialsError: when no token can be obtained.
        """
        auth = cls(
            mode="oauth",
            api_base_url=api_base_url,
            cache_filepath=cache_filepath,
            use_cache=use_cache,
            open_browser=open_browser,
            org=org,
        )
        auth._renew()
        return auth

    @classmethod
    def from_m2m(cls, filepath, cache_filepath=None, use_cache=True):
        """Create a CartoAuth object using CARTO credentials file.

        Args:
            filepath (str): File path of the CARTO credentials file.
            cache_filepath (str, optional): File path where the token is stored.
                Default: the keyring, or "home()/.carto-auth/token_m2m.json".
            use_cache (bool, optional): Whether the stored cached token should be used.
                Default True.

        Raises:
            CredentialsError: when the file is missing or incomplete (also
                FileNotFoundError, AttributeError or ValueError, as the
                reference raised), or no token can be obtained.
        """
        auth = cls(
            mode="m2m",
            cache_filepath=cache_filepath,
            use_cache=use_cache,
            _credentials_filepath=filepath,
        )
        auth._renew()
        return auth

    def _valid(self):
        return (
            self._access_token is not None
            and self._expiration is not None
            and self._expiration - time.time() >= MIN_TTL
        )

    def _renew(self, carto_dw=False):
        request = dict(self._request)
        if carto_dw:
            request["carto_dw"] = True
        answer = _helper.run_locked(request, login=self._mode == "oauth")
        token = answer.get("access_token") or answer.get("password")
        if not token:
            raise CredentialsError("carto-auth answered without a token")
        try:
            expiration = int(answer.get("expiration") or answer["password_expiry_utc"])
        except (KeyError, ValueError):
            raise CredentialsError("carto-auth answered without a valid expiration") from None
        self._access_token = token
        self._expiration = expiration
        if answer.get("api_base_url"):
            self._api_base_url = answer["api_base_url"]
        return answer

    def get_api_base_url(self):
        """The account's API base URL, e.g. https://gcp-us-east1.api.carto.com."""
        return self._api_base_url

    @property
    def api_base_url(self):
        """The same, as an attribute (older pydeck-carto versions read it so)."""
        return self._api_base_url

    def get_access_token(self):
        """A valid access token, renewed when it is about to expire."""
        with self._lock:
            if not self._valid():
                self._renew()
            return self._access_token

    def get_carto_dw_credentials(self) -> tuple:
        """Get the CARTO Data Warehouse credentials.

        Returns:
            tuple: carto_dw_project, carto_dw_token.

        Raises:
            CredentialsError: If the credentials cannot be obtained.
        """
        with self._lock:
            answer = self._renew(carto_dw=True)
        project = answer.get("carto_dw_project")
        token = answer.get("carto_dw_token")
        if not project or not token:
            raise CredentialsError("carto-auth answered without Data Warehouse credentials")
        return project, token

    def get_carto_dw_client(self):
        """A BigQuery client for the CARTO Data Warehouse.

        Needs google-cloud-bigquery (pip install google-cloud-bigquery).
        """
        try:
            from google.cloud.bigquery import Client
            from google.oauth2.credentials import Credentials
        except ImportError as e:
            raise MissingDependencyError(
                "the CARTO Data Warehouse client needs google-cloud-bigquery: "
                "pip install google-cloud-bigquery"
            ) from e
        project, token = self.get_carto_dw_credentials()
        return Client(project, credentials=Credentials(token))
