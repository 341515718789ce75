"""CartoAuth: the Python reference's interface over the carto-auth helper."""

import base64
import json
import os
import sys
import threading
import time

from carto_auth import _dw, _helper
from carto_auth.errors import CredentialsError, MissingDependencyError
from carto_auth.utils import (
    is_token_expired,
    reference_time,
    save_cache_file,
    unix_time,
)

# A token from the helper with less than this left, or half its lifetime
# when that is less, is asked for again (the helper then renews it: its
# min_ttl default is the same rule).
MIN_TTL = 300


def _lifetime(token):
    """exp - iat of a JWT's claims, or None (the signature is not checked)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        lifetime = int(claims["exp"]) - int(claims["iat"])
    except (IndexError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return lifetime if lifetime > 0 else None


def _margin(token):
    lifetime = _lifetime(token)
    return MIN_TTL if lifetime is None else min(MIN_TTL, lifetime // 2)


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

    The constructor takes the reference's arguments.  A token given to it
    (access_token, expiration) is used until it expires, and written to
    cache_filepath as the reference writes it; a new one then comes from the
    carto-auth program (for m2m only when client_id and client_secret were
    given too).

    Args:
        mode (str): "oauth" or "m2m".
        api_base_url (str, optional): Base URL for a CARTO account.
        access_token (str, optional): A token already obtained.
        expiration (int, optional): Its expiry, as the reference writes it
            (datetime.utcnow().timestamp() plus the token's lifetime).
        client_id (str, optional): Client id of an M2M application.
        client_secret (str, optional): Client secret of an M2M application.
        cache_filepath (str, optional): File where the token is stored.
        use_cache (bool, optional): Whether a stored token may be used.
            Default True.
        open_browser (bool, optional): Whether the web browser is opened
            for a login. Default True.
        org (str, optional): Single Sign-On (SSO) organization (OAuth).
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
            raise CredentialsError("Mode not supported. Available modes: oauth, m2m")
        self._mode = mode
        self._api_base_url = api_base_url
        self._access_token = access_token
        self._expiration = expiration
        self._client_id = client_id
        self._client_secret = client_secret
        self._cache_filepath = cache_filepath
        self._use_cache = use_cache
        self._open_browser = open_browser
        self._org = org
        # Seconds a held token must have left to be handed out: none for a
        # token the caller gave (the reference's rule), MIN_TTL or half the
        # token's lifetime (the less) for one the helper gave.
        self._margin = 0
        self._lock = threading.RLock()

        request = {"mode": mode}
        if mode == "m2m":
            if _credentials_filepath is not None:
                request["credentials_file"] = _path(_credentials_filepath)
            elif client_id and client_secret:
                request["client_id"] = client_id
                request["client_secret"] = client_secret
                request["api_base_url"] = api_base_url
            else:
                request = None  # a token alone: nothing to renew it with
        else:
            if api_base_url:
                request["api_base_url"] = api_base_url
            if org:
                request["org"] = org
            # Left out unless off, so the helper's own default (off on
            # Databricks) applies.
            if not open_browser or _in_colab():
                request["open_browser"] = False
        if request is not None:
            if cache_filepath is not None:
                request["cache_file"] = _path(cache_filepath)
            if not use_cache:
                request["use_cache"] = False
        self._request = request

        # As the reference, which writes even a token of None (emptying
        # the file); the drop-in writes only a token it was given.
        if access_token is not None:
            self._save_cache_file()

    def _save_cache_file(self):
        """Writes the held token to cache_filepath as the reference does."""
        if self._use_cache and self._cache_filepath:
            save_cache_file(
                self._cache_filepath,
                {
                    "api_base_url": self._api_base_url,
                    "access_token": self._access_token,
                    "expiration": self._expiration,
                },
            )

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
        # The helper hands out (and stores) the token: nothing to write here.
        auth._take(auth._ask())
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
        # The helper hands out (and stores) the token: nothing to write here.
        auth._take(auth._ask())
        return auth

    def _valid(self):
        if not self._access_token or not self._expiration:
            return False
        if not self._margin:
            return not is_token_expired(self._expiration)
        return unix_time(self._expiration) - time.time() >= self._margin

    def _ask(self):
        """The helper's answer to this object's request (a token)."""
        if self._request is None:
            raise CredentialsError(
                "the access token has expired, and this m2m object has no "
                "client_id and client_secret to get another"
            )
        request = dict(self._request)
        if self._mode == "m2m" and "client_id" in request and not request["api_base_url"]:
            raise CredentialsError("api_base_url is required with client_id")
        return _helper.run_locked(request, login=self._mode == "oauth")

    def _take(self, answer):
        token = answer.get("access_token") or answer.get("password")
        if not token:
            raise CredentialsError("carto-auth answered without a token")
        try:
            expiry = int(answer.get("expiration") or answer["password_expiry_utc"])
        except (KeyError, ValueError):
            raise CredentialsError("carto-auth answered without a valid expiration") from None
        self._access_token = token
        # Held as the reference holds it; the helper's answer is Unix time.
        self._expiration = int(reference_time(expiry))
        self._margin = _margin(token)
        if answer.get("api_base_url"):
            self._api_base_url = answer["api_base_url"]

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
                self._take(self._ask())
            return self._access_token

    def get_carto_dw_credentials(self) -> tuple:
        """Get the CARTO Data Warehouse credentials, with this object's token.

        Returns:
            tuple: carto_dw_project, carto_dw_token.

        Raises:
            CredentialsError: If the API Base URL is not provided,
                the response is not JSON or has invalid attributes.
            NetworkError (a ConnectionError too): If the API cannot be
                reached.
        """
        if not self._api_base_url:
            raise CredentialsError("api_base_url required")
        access_token = self.get_access_token()
        return _dw.get_credentials(self._api_base_url, access_token)

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
