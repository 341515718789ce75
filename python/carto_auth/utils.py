"""Helpers with the names and behaviour of the reference's carto_auth.utils.

The cache-file functions work on the files the reference reads and writes
(~/.carto-auth/token_<mode>.json: api_base_url, access_token, expiration).
`expiration` in those files is in the reference's frame: the reference
reads the UTC wall clock as local time, so its "now" is
datetime.utcnow().timestamp(), which differs from Unix time by the local
UTC offset.  reference_time() and unix_time() convert between the two.

The token functions get their tokens from the carto-auth program; none of
them sends anything over the network from Python.
"""

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from carto_auth import _helper
from carto_auth.errors import CredentialsError

CACHE_KEYS = ("api_base_url", "access_token", "expiration")


def reference_time(unix_seconds):
    """Unix seconds expressed as the reference writes them."""
    wall = datetime.fromtimestamp(unix_seconds, timezone.utc).replace(tzinfo=None)
    return wall.timestamp()


def unix_time(reference_seconds):
    """The reference's seconds expressed as Unix seconds."""
    wall = datetime.fromtimestamp(reference_seconds)
    return wall.replace(tzinfo=timezone.utc).timestamp()


def reference_now():
    """The reference's "now" (the UTC wall clock read as local time)."""
    return datetime.now(timezone.utc).replace(tzinfo=None).timestamp()


def api_headers(access_token):
    """The headers of a CARTO API request made with access_token."""
    return {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {access_token}",
    }


def _token_info(answer):
    token = answer.get("access_token") or answer.get("password")
    expiry = answer.get("expiration") or answer.get("password_expiry_utc")
    if not token or not expiry or not expiry.isdigit():
        raise CredentialsError("carto-auth answered without a token and its expiry")
    return {"access_token": token, "expiration": int(reference_time(int(expiry)))}


def get_oauth_token_info(open_browser=True, org=None):
    """A new OAuth token (a login), as {"access_token", "expiration"}.

    The login is done by the carto-auth program; expiration is in the
    reference's frame, as the reference returns it.
    """
    request = {"mode": "oauth", "use_cache": False, "org": org}
    if not open_browser:
        request["open_browser"] = False
    return _token_info(_helper.run_locked(request, login=True))


def get_m2m_token_info(client_id, client_secret, api_base_url=None):
    """A new M2M token for client_id, as {"access_token", "expiration"}.

    api_base_url (not in the reference, which needs none to ask for a
    token) names the account the carto-auth program files the token under;
    without it this raises CredentialsError.
    """
    if not client_id or not client_secret:
        raise CredentialsError("client_id and client_secret are required for an M2M token")
    if not api_base_url:
        raise CredentialsError(
            "the carto-auth program needs the account's api_base_url to ask for "
            "an M2M token: use CartoAuth.from_m2m(credentials file)"
        )
    request = {
        "mode": "m2m",
        "client_id": client_id,
        "client_secret": client_secret,
        "api_base_url": api_base_url,
        "use_cache": False,
    }
    return _token_info(_helper.run_locked(request))


def get_api_base_url(access_token):
    """Not offered: the carto-auth program discovers the API base URL as
    part of a login (CartoAuth.from_oauth()), not for a given token."""
    raise CredentialsError(
        "the API base URL of a given token cannot be discovered by the "
        "carto-auth drop-in: pass api_base_url, or use CartoAuth.from_oauth()"
    )


def get_home_dir():
    """~/.carto-auth, created (mode 0700) when missing."""
    home_dir = Path.home() / ".carto-auth"
    home_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home_dir


def get_cache_filepath(mode):
    """The reference's default token file for mode: ~/.carto-auth/token_<mode>.json."""
    return get_home_dir() / f"token_{mode}.json"


def load_cache_file(cache_filepath):
    """The token file's content when it has the three keys, else None.

    A file that is not JSON raises ValueError (json.JSONDecodeError), as
    in the reference.
    """
    if not cache_filepath or not os.path.exists(cache_filepath):
        return None
    with open(cache_filepath, "r") as f:
        data = json.load(f)
    if isinstance(data, dict) and all(k in data for k in CACHE_KEYS):
        return data
    return None


def save_cache_file(cache_filepath, data):
    """Writes data to the token file as the reference does (one line of
    JSON), when it has the three keys.

    Unlike the reference, the file is replaced in one step (a reader never
    sees half of it) and is readable by its owner only (mode 0600).
    """
    if not all(k in data for k in CACHE_KEYS):
        return
    path = os.fspath(cache_filepath)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def is_token_expired(expiration):
    """Whether expiration (the reference's frame) has passed; a missing or
    zero expiration counts as expired."""
    if not expiration:
        return True
    return reference_now() > expiration
