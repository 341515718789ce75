"""The CARTO Data Warehouse credentials for a given access token.

The reference asks {api_base_url}/v3/connections/carto-dw/token with the
object's own token.  The carto-auth program offers the Data Warehouse
credentials only together with a token it hands out itself, so the drop-in
makes this one request from Python (standard library only), with the same
rules as the program: https:// only (plain http:// only to a loopback
address, for tests), no user-info, no redirect followed (the token would go
with it), only a 200 answer accepted, an answer of at most 1 MiB, and values
with control characters refused.

The whole request has one deadline, the program's network budget of 60 s
(HTTP_BUDGET_MS): name resolution, connect (at most 10 s, as the program),
TLS handshake, sending and every read get the time left, and the answer is
read in chunks with the deadline checked between them, so a server that
answers one byte at a time cannot keep the caller waiting past it.
CARTO_AUTH_HTTP_TIMEOUT_MS, read as the program reads it (1..30000 ms, at
least 100), lowers the deadline; it never raises it.

Proxies are read as the program's libcurl reads them (https_proxy,
HTTPS_PROXY, all_proxy, ALL_PROXY; no_proxy, NO_PROXY).  An http:// proxy
is asked for a CONNECT tunnel to the API host; any other configured proxy
(socks, https://, no host, a bad port) is refused, never gone around.
"""

import base64
import http.client
import ipaddress
import json
import os
import select
import socket
import ssl
import threading
import time
from urllib.parse import unquote, urlsplit

from carto_auth._helper import _UNSAFE
from carto_auth.errors import CredentialsError, NetworkError
from carto_auth.utils import api_headers

DW_PATH = "/v3/connections/carto-dw/token"
BUDGET_MS = 60000          # auth/net/http.h HTTP_BUDGET_MS
CONNECT_MS = 10000         # auth/net/http.c CONNECT_TIMEOUT_MS
REQUEST_MS = 30000         # auth/net/http.c REQUEST_TIMEOUT_MS: the override's ceiling
MIN_MS = 100               # auth/net/http.c MIN_TIMEOUT_MS
TIMEOUT_ENV = "CARTO_AUTH_HTTP_TIMEOUT_MS"
MAX_ANSWER = 1 << 20
CHUNK = 16384
MAX_SERVER_TEXT = 200


def _budget_ms():
    """The deadline of one request, in ms: BUDGET_MS, or less when
    CARTO_AUTH_HTTP_TIMEOUT_MS asks for less (as the program reads it)."""
    value = os.environ.get(TIMEOUT_ENV, "")
    if not value.isdigit() or not value.isascii():
        return BUDGET_MS
    ms = int(value)
    if ms <= 0 or ms > REQUEST_MS:
        return BUDGET_MS
    return max(ms, MIN_MS)


class _TimeUp(socket.timeout):
    """The deadline passed."""


class _Deadline:
    def __init__(self, ms):
        self.seconds = ms / 1000
        self.end = time.monotonic() + self.seconds

    def left(self):
        """Seconds left; _TimeUp when none."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise _TimeUp("deadline")
        return left


def _limit(sock):
    """Give sock's next wait the time left (no deadline yet: as it is)."""
    if sock.deadline is not None:
        sock.settimeout(sock.deadline.left())


class _Timed:
    """Every read and send of the socket it is mixed into waits at most the
    time left (http.client reads through recv_into; TLS also through read)."""

    deadline = None

    def recv_into(self, *args, **kwargs):
        _limit(self)
        return super().recv_into(*args, **kwargs)

    def recv(self, *args, **kwargs):
        _limit(self)
        return super().recv(*args, **kwargs)

    def read(self, *args, **kwargs):
        _limit(self)
        return super().read(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        _limit(self)
        return super().sendall(*args, **kwargs)


class _TimedSocket(_Timed, socket.socket):
    """A plain socket within the deadline."""


class _TimedSSLSocket(_Timed, ssl.SSLSocket):
    """The same over TLS, and a handshake that as a whole ends by the
    deadline."""

    def handshake(self):
        """The TLS handshake, non-blocking, each wait cut to the time left."""
        self.settimeout(0.0)
        while True:
            try:
                super().do_handshake()
                break
            except ssl.SSLWantReadError:
                ready = select.select([self], [], [], self.deadline.left())[0]
            except ssl.SSLWantWriteError:
                ready = select.select([], [self], [], self.deadline.left())[1]
            if not ready:
                raise _TimeUp("TLS handshake")
        _limit(self)


def _resolve(host, port, deadline):
    """getaddrinfo, bounded by the deadline (it has no timeout of its own)."""
    result = {}

    def run():
        try:
            result["addrs"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except OSError as e:
            result["error"] = e

    worker = threading.Thread(target=run, name="carto-auth-resolve", daemon=True)
    worker.start()
    worker.join(deadline.left())
    if worker.is_alive():
        raise _TimeUp("name resolution")
    if "error" in result:
        raise result["error"]
    return result["addrs"]


def _connect(host, port, deadline):
    """A connected _TimedSocket: at most CONNECT_MS, and within the deadline."""
    error = None
    for family, socktype, proto, _, addr in _resolve(host, port, deadline):
        sock = _TimedSocket(family, socktype, proto)
        try:
            sock.settimeout(min(CONNECT_MS / 1000, deadline.left()))
            sock.connect(addr)
        except socket.timeout:
            sock.close()
            deadline.left()   # _TimeUp when it was the deadline
            error = ConnectionError(f"no connection within {CONNECT_MS // 1000} s")
            continue
        except OSError as e:
            sock.close()
            error = e
            continue
        sock.deadline = deadline
        _limit(sock)
        return sock
    raise error or ConnectionError("no address")


class _HTTPConnection(http.client.HTTPConnection):
    """http.client's connection on _connect: every step within the deadline.
    host is the address as urlsplit gives it (an IPv6 literal without
    brackets) and port always a number: given None, http.client would split
    an IPv6 literal at its last colon."""

    def __init__(self, host, port, deadline):
        super().__init__(host, self.default_port if port is None else port)
        self._create_connection = lambda address, *_: _connect(*address, deadline)


def _authority(host, port):
    """host:port as a CONNECT target (RFC 9110 authority-form), an IPv6
    literal in brackets: [2001:db8::1]:443."""
    try:
        name = host.encode("ascii")
    except UnicodeEncodeError:
        name = host.encode("idna")
    if b":" in name:
        name = b"[" + name + b"]"
    return b"%s:%d" % (name, port)


class _HTTPSConnection(http.client.HTTPSConnection):
    """The API host's connection, directly or through an http:// proxy's
    CONNECT tunnel (proxy: (host, port, headers)); TLS checks host."""

    def __init__(self, host, port, deadline, proxy=None):
        context = ssl.create_default_context()
        context.sslsocket_class = _TimedSSLSocket
        super().__init__(host, self.default_port if port is None else port, context=context)
        self._tls = context
        self._deadline = deadline
        self._proxy = proxy

    def connect(self):
        # TCP (to the proxy, then its tunnel to host:port), then TLS, the
        # handshake bounded too.  The tunnel is written here: set_tunnel's
        # request line differs between Python versions, and in some of them
        # does not bracket an IPv6 literal.
        if self._proxy:
            sock = _connect(self._proxy[0], self._proxy[1], self._deadline)
            try:
                _tunnel(sock, self.host, self.port, self._proxy[2])
            except BaseException:
                sock.close()
                raise
        else:
            sock = _connect(self.host, self.port, self._deadline)
        self.sock = sock
        tls = self._tls.wrap_socket(sock, server_hostname=self.host,
                                    do_handshake_on_connect=False)
        self.sock = tls
        tls.deadline = self._deadline
        tls.handshake()


def _tunnel(sock, host, port, headers):
    """Ask the proxy on sock for a tunnel to host:port; OSError unless 200."""
    target = _authority(host, port)
    lines = [b"CONNECT %s HTTP/1.0\r\n" % target, b"Host: %s\r\n" % target]
    lines += [f"{name}: {value}\r\n".encode("latin-1") for name, value in headers.items()]
    sock.sendall(b"".join(lines) + b"\r\n")
    response = http.client.HTTPResponse(sock, method="CONNECT")
    try:
        response.begin()
        if response.status != 200:
            reason = "".join(c if " " <= c < "\x7f" else "?" for c in response.reason[:80])
            raise OSError(f"the proxy refused the tunnel: {response.status} {reason}".rstrip())
    finally:
        response.close()


def _env(*names):
    """The first of the variables that is set and not empty (as libcurl)."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return name, value
    return None, None


def _bypass(host, no_proxy):
    """Whether no_proxy exempts host, as Debian 12's libcurl (7.88) reads it:
    "*" only as the whole value; names (a leading dot optional) matching
    host or a domain it is in; IPv4 addresses and CIDR ranges; an IPv6
    address only written plainly, as the host is. Where a reading is in
    doubt, the proxy is used: the request never goes around it."""
    host = host.lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if no_proxy.strip() == "*":
        return True
    for entry in no_proxy.replace(",", " ").split():
        entry = entry.lower()
        if address is not None:
            if address.version == 6:
                try:
                    if ipaddress.ip_address(entry) == address:
                        return True
                except ValueError:
                    pass
                continue
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.lstrip(".").rstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def _proxy(host):
    """(host, port, tunnel headers) of the proxy for https://host, or None,
    from the variables libcurl (the program) reads: https_proxy, HTTPS_PROXY,
    all_proxy, ALL_PROXY (the first not empty) and no_proxy, NO_PROXY.  A
    proxy it cannot use (not http://, no host, a bad port) raises: the
    request never goes around a proxy the user configured.  No message
    repeats the proxy's user-info."""
    name, proxy = _env("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
    if not proxy:
        return None
    _, no_proxy = _env("no_proxy", "NO_PROXY")
    if no_proxy and _bypass(host, no_proxy):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    parts = urlsplit(proxy)

    def refuse(what):
        return CredentialsError(
            f"refusing to send the token: {name} {what}; the drop-in uses only an "
            "http:// proxy with a host and a valid port, and does not go around it"
        )

    if parts.scheme != "http":
        # urlsplit's scheme is letters, digits and "+-." only (else empty)
        if parts.scheme and len(parts.scheme) <= 16:
            raise refuse(f"names a {parts.scheme}:// proxy")
        raise refuse("is not a proxy URL")
    try:
        port = parts.port
    except ValueError:
        raise refuse("names a proxy with a bad port") from None
    if not parts.hostname or port == 0 or _UNSAFE.search(proxy) or " " in proxy:
        raise refuse("names a proxy without a usable host and port")
    headers = {}
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return parts.hostname, port or 1080, headers


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


def _printable(text):
    """text as printable ASCII, cut short: nothing of it can drive a terminal."""
    return "".join(c if " " <= c < "\x7f" else "?" for c in text[:MAX_SERVER_TEXT])


def _server_text(body):
    """The server's own words for a refusal: printable ASCII, cut short."""
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("error_description", "message", "error"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return _printable(value)
    return ""


def _request(url, access_token, deadline):
    """(status, body) of one GET of url, body at most MAX_ANSWER + 1 bytes."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise CredentialsError("refusing to send the token: api_base_url has a bad port") from None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        conn = _HTTPSConnection(parts.hostname, port, deadline, _proxy(parts.hostname))
    else:
        conn = _HTTPConnection(parts.hostname, port, deadline)
    try:
        conn.request("GET", target, headers={**api_headers(access_token), "Connection": "close"})
        response = conn.getresponse()
        body = b""
        while len(body) <= MAX_ANSWER:
            deadline.left()
            chunk = response.read(CHUNK)
            if not chunk:
                break
            body += chunk
        return response.status, body
    finally:
        conn.close()


def get_credentials(api_base_url, access_token):
    """(project, token) of the CARTO Data Warehouse for access_token."""
    url = _url(api_base_url)
    host = urlsplit(url).netloc
    deadline = _Deadline(_budget_ms())
    try:
        status, body = _request(url, access_token, deadline)
    except socket.timeout:       # _TimeUp, or a wait cut to the time left
        raise NetworkError(
            f"Data Warehouse token request to {host} failed: "
            f"no full answer within {deadline.seconds:g} s"
        ) from None
    except (OSError, http.client.HTTPException) as e:
        # A proxy's or a server's bytes may be in it (a bad status line).
        reason = _printable(str(e)) or type(e).__name__
        raise NetworkError(
            f"Data Warehouse token request to {host} failed: {reason}"
        ) from None
    if len(body) > MAX_ANSWER:
        raise _invalid("larger than 1 MiB")
    if 300 <= status < 400:
        raise CredentialsError(
            f"the Data Warehouse token request was redirected (HTTP {status}); "
            "not followed, please make sure api_base_url is correctly defined"
        )
    if status != 200:
        text = _server_text(body)
        raise CredentialsError(
            f"CARTO Data Warehouse token request refused (HTTP {status}"
            f"{': ' + text if text else ''}); "
            "please make sure api_base_url is correctly defined"
        )
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        raise _invalid("not JSON") from None
    if not isinstance(data, dict) or "projectId" not in data or "token" not in data:
        raise _invalid("no projectId or token")
    project, token = data["projectId"], data["token"]
    for value in (project, token):
        if not isinstance(value, str) or not value or _UNSAFE.search(value):
            raise _invalid("a value that is not a plain string")
    return project, token
