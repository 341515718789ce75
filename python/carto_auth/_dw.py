"""The CARTO Data Warehouse credentials for a given access token.

The reference asks {api_base_url}/v3/connections/carto-dw/token with the
object's own token.  The carto-auth program offers the Data Warehouse
credentials only together with a token it hands out itself, so the drop-in
makes this one request from Python (standard library only), with the same
rules as the program: https:// only (plain http:// only to a loopback
address, for tests), no user-info, no redirect followed (the token would go with it), an
answer of at most 1 MiB, and values with control characters refused.
"""

import ipaddress
import json
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from carto_auth._helper import _UNSAFE
from carto_auth.errors import CredentialsError, NetworkError
from carto_auth.utils import api_headers

DW_PATH = "/v3/connections/carto-dw/token"
TIMEOUT_SECONDS = 30
MAX_ANSWER = 1 << 20


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise CredentialsError(
            f"the Data Warehouse token request was redirected (HTTP {code}); "
            "not followed, please make sure api_base_url is correctly defined"
        )


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(api_base_url):
    if not isinstance(api_base_url, str) or _UNSAFE.search(api_base_url) or any(
        c in api_base_url for c in " \\"
    ):
        raise CredentialsError("refusing to send the token: api_base_url is not a plain URL")
    parts = urlsplit(api_base_url)
    if "@" in parts.netloc:
        raise CredentialsError("refusing to send the token: api_base_url has user-info")
    host = parts.hostname or ""
    if not host or not (
        parts.scheme == "https" or (parts.scheme == "http" and _loopback(host))
    ):
        raise CredentialsError(
            "refusing to send the token to api_base_url: it must be an https:// URL"
        )
    return api_base_url.rstrip("/") + DW_PATH


def _invalid(what):
    return CredentialsError(
        f"Invalid CARTO DW Token response ({what}); "
        "please make sure api_base_url is correctly defined"
    )


def get_credentials(api_base_url, access_token):
    """(project, token) of the CARTO Data Warehouse for access_token."""
    url = _url(api_base_url)
    request = urllib.request.Request(url, headers=api_headers(access_token))
    opener = urllib.request.build_opener(_NoRedirect)
    status = None
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(MAX_ANSWER + 1)
    except urllib.error.HTTPError as e:
        status = e.code
        try:
            body = e.read(MAX_ANSWER + 1)
        except OSError:
            body = b""
        finally:
            e.close()
    except (urllib.error.URLError, socket.timeout, ConnectionError) as e:
        reason = getattr(e, "reason", e)
        raise NetworkError(
            f"Data Warehouse token request to {urlsplit(url).netloc} failed: {reason}"
        ) from None
    if len(body) > MAX_ANSWER:
        raise _invalid("larger than 1 MiB")
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        raise _invalid(f"HTTP {status}, not JSON" if status else "not JSON") from None
    if not isinstance(data, dict) or "projectId" not in data or "token" not in data:
        raise _invalid(f"HTTP {status}" if status else "no projectId or token")
    project, token = data["projectId"], data["token"]
    for value in (project, token):
        if not isinstance(value, str) or not value or _UNSAFE.search(value):
            raise _invalid("a value that is not a plain string")
    return project, token
