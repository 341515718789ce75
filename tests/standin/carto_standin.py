#!/usr/bin/env python3
"""Local stand-in for the CARTO platform, for carto-auth's tests.

One threaded HTTP/1.1 server plays every remote party carto-auth talks to,
with the wire formats of the CARTO platform reference (carto-platform.md):

  the Auth0 tenant (auth.carto.com)   GET /authorize, POST /oauth/token
  the accounts endpoint               GET /accounts
  the account's tenant                GET /config.yaml
  the CARTO API (api_base_url)        GET /v3/connections/carto-dw/token

Its base URL (http[s]://127.0.0.1:PORT) therefore serves as auth_url, as
accounts URL (+ "/accounts"), as tenant domain and as API base URL.

Tests drive it through a control API under /_control/ (register clients,
inject faults, read the request log); see README.md beside this file for the
reference.  Only the Python 3 standard library is used (3.11 or later).

Usage:
  carto_standin.py --port-file F [--host 127.0.0.1] [--tls-cert C --tls-key K]
                   [--log REQUESTS.jsonl] [--expires-in N] [--parent-pid PID]
                   [--verbose]

The server listens on an ephemeral port, writes it to F (atomically, via
F.tmp and a rename) and serves until SIGTERM or SIGINT, then exits with
status 0.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import hmac
import html
import http.server
import io
import json
import os
import re
import secrets
import select
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse

AUDIENCE = "carto-cloud-native-api"
DEFAULT_EXPIRES_IN = 86400          # seconds, like CARTO's real tokens
DEFAULT_CODE_LIFETIME = 300         # authorization codes expire after 5 min
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_ANSWERS = ("pending", "slow_down", "approve", "deny", "expire")
M2M_SCOPE = "read:tokens write:tokens"
DEMO_USER = "auth0|demo-user"
DW_PROJECT_ID = "carto-dw-ac-demo1234"
TENANT_ID = "ac_demo1234"
MAX_REQUEST_BODY = 1 << 20          # larger request bodies get 413
BIG_BODY_SIZE = 5 * 1024 * 1024     # size of the "big" fault's answer
FORM_TYPE = "application/x-www-form-urlencoded"

# Registered at start-up: (client_id, client_secret).  Their api_base_url is
# the server's own base URL.
DEMO_CLIENTS = (
    ("demo-client-id-0001", "demo-secret-0001-" + "x" * 48),
    ("demo-client-id-0002", "demo-secret-0002-" + "y" * 48),
)

PKCE_VERIFIER_RE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
PKCE_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 / RFC 7636)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(claims: dict) -> str:
    """A token shaped like Auth0's RS256 JWTs: the header and the claims
    decode as JSON; the signature is random bytes (nobody verifies it)."""
    header = {"alg": "RS256"}
    parts = [b64url(json.dumps(part, separators=(",", ":")).encode())
             for part in (header, claims)]
    parts.append(b64url(secrets.token_bytes(16)))
    return ".".join(parts)


def pkce_challenge(verifier: str) -> str:
    """S256 code challenge of a PKCE code verifier."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def first_values(query: str) -> dict:
    """Parse a query string or urlencoded form; keep the first of repeated keys."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    result: dict = {}
    for key, value in pairs:
        result.setdefault(key, value)
    return result


def as_lifetime(value, default: float) -> float:
    """Seconds a token lives, from an expires_in value of any JSON type."""
    if isinstance(value, bool):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class GrantError(Exception):
    """An OAuth error answer: HTTP status plus {"error", "error_description"}."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


def invalid_refresh() -> GrantError:
    return GrantError(403, "invalid_grant", "Unknown or invalid refresh token.")


# --------------------------------------------------------------------------
# Request log
# --------------------------------------------------------------------------

class RequestLog:
    """Every non-control request, in memory and as JSON lines in a file.

    Thread safe: handler threads record concurrently.  The file keeps the
    whole history; /_control/reset clears only the in-memory list.
    """

    def __init__(self, path: str | None):
        self._lock = threading.Lock()
        self._entries: list[dict] = []
        self._seq = 0
        self._file = open(path, "a", encoding="utf-8") if path else None

    def record(self, entry: dict) -> dict:
        with self._lock:
            self._seq += 1
            entry = {"n": self._seq, **entry}
            self._entries.append(entry)
            if self._file is not None:
                self._file.write(json.dumps(entry) + "\n")
                self._file.flush()
        return entry

    def entries(self, path: str | None = None) -> list[dict]:
        with self._lock:
            return [e for e in self._entries if path is None or e["path"] == path]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


# --------------------------------------------------------------------------
# Fault injection
# --------------------------------------------------------------------------

# Faults that replace (or, for "delay", postpone) the answer to a request.
RESPONSE_KINDS = frozenset({"status", "hang", "reset", "truncate", "nonjson",
                            "wrongtypes", "big", "redirect", "delay", "drip"})
# Faults that change what a later successful answer contains; they are
# consumed when that answer is produced, not when a request arrives.
MODIFIER_KINDS = frozenset({"expires_in", "authorize_error"})


def validate_fault(raw) -> dict:
    """Check one fault description from the control API; return a clean copy.

    Common fields: kind (required), path, method, grant_type (filters; absent
    means "any"), count (default 1; 0 or negative: until /_control/reset).
    """
    if not isinstance(raw, dict):
        raise ValueError("a fault must be a JSON object")
    fault = dict(raw)
    kind = fault.get("kind")
    if kind not in RESPONSE_KINDS | MODIFIER_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}")
    for key in ("path", "method", "grant_type"):
        if key in fault and not isinstance(fault[key], str):
            raise ValueError(f"fault field {key!r} must be a string")
    count = fault.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool):
        raise ValueError("fault field 'count' must be an integer")
    fault["count"] = count
    fault["remaining"] = count if count > 0 else None   # None: unlimited
    if kind == "status":
        status = fault.setdefault("status", 500)
        if not isinstance(status, int) or not 200 <= status <= 599:
            raise ValueError("fault field 'status' must be an HTTP status 200..599")
    if kind in ("hang", "delay"):
        seconds = fault.setdefault("seconds", 120 if kind == "hang" else 1)
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError("fault field 'seconds' must be a number >= 0")
    if kind == "drip":
        for key, default in (("interval", 1), ("seconds", 120)):
            value = fault.setdefault(key, default)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"fault field {key!r} must be a number > 0")
        fault.setdefault("body", {})
    if kind == "redirect" and not isinstance(fault.get("url"), str):
        raise ValueError("a redirect fault needs 'url'")
    if kind == "expires_in" and "value" not in fault:
        raise ValueError("an expires_in fault needs 'value'")
    if kind == "big":
        size = fault.setdefault("size", BIG_BODY_SIZE)
        if not isinstance(size, int) or size < 64:
            raise ValueError("fault field 'size' must be an integer >= 64")
    return fault


class FaultQueue:
    """Pending faults, matched in the order they were added."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[dict] = []

    def add(self, faults: list[dict]) -> int:
        with self._lock:
            self._faults.extend(faults)
            return len(self._faults)

    def take(self, kinds, path: str, method: str, grant_type: str | None):
        """Consume one use of the first pending fault of one of `kinds` that
        matches the request; return (a copy of) it, or None."""
        with self._lock:
            for fault in self._faults:
                if fault["kind"] not in kinds:
                    continue
                if fault.get("path", path) != path:
                    continue
                if fault.get("method", method).upper() != method:
                    continue
                if "grant_type" in fault and fault["grant_type"] != grant_type:
                    continue
                if fault["remaining"] is not None:
                    fault["remaining"] -= 1
                    if fault["remaining"] <= 0:
                        self._faults.remove(fault)
                return dict(fault)
        return None

    def pending(self) -> list[dict]:
        with self._lock:
            return [dict(f) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


# --------------------------------------------------------------------------
# The platform's data: clients, authorization codes, tokens
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Grant:
    """Who a token is being issued to, once a grant has been checked."""
    grant_type: str
    subject: str                 # JWT "sub": "<client_id>@clients" or a user id
    client_id: str
    scope: str
    offline: bool = False        # also issue a refresh token
    family: int | None = None    # refresh-token family, for rotations
    organization: str = ""


class Platform:
    """Everything the auth server and the API know.  One lock guards it all."""

    def __init__(self, base_url: str, expires_in: int):
        self.lock = threading.Lock()
        netloc = urllib.parse.urlsplit(base_url).netloc
        # Values the control API may override (POST /_control/settings) and
        # /_control/reset restores.
        self.defaults = {
            "expires_in": expires_in,
            "tenant_domain": netloc,
            "api_base_url": base_url,
            "code_lifetime": DEFAULT_CODE_LIFETIME,
            # Auth0's rotation overlap period ("reuse interval"): seconds after
            # its first use in which a rotated refresh token may be used again
            # without reuse detection; 0: none (Auth0's default).
            "refresh_reuse_interval": 0,
            "config_yaml": None,         # None: the built-in document
            # The device authorization grant (RFC 8628, Auth0's answers):
            "device_grant": True,        # False: unauthorized_client
            "device_interval": 5,        # None: no "interval" in the answer
            "device_lifetime": 600,
            "device_complete": True,     # send verification_uri_complete
            "device_verification_uri": None,  # None: {base}/activate
            "device_user_code": None,    # None: a random XXXX-XXXX
            # What the user does, one entry per poll (then "pending"):
            # pending, slow_down, approve, deny, expire.
            "device_script": [],
        }
        self.settings = dict(self.defaults)
        self.base_url = base_url
        self.clients: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.refresh_tokens: dict[str, dict] = {}
        self.families = 0
        self.revoked_families: set[int] = set()
        self.reuse_detected = 0
        self.issued_by_grant: dict[str, int] = {}
        self.codes_issued = 0
        self.codes_redeemed = 0
        self.devices: dict[str, dict] = {}   # device_code -> its state
        self.device_too_fast = 0
        self.revocations = 0

    # -- clients ----------------------------------------------------------

    def register_client(self, client_id: str, secret: str, api_base_url: str | None):
        with self.lock:
            self.clients[client_id] = {
                "client_secret": secret,
                "api_base_url": api_base_url or self.base_url,
            }

    def client_list(self) -> list[dict]:
        with self.lock:
            return [{"client_id": cid, "api_base_url": c["api_base_url"]}
                    for cid, c in self.clients.items()]

    # -- grants -----------------------------------------------------------

    def client_credentials(self, form: dict) -> Grant:
        client_id = form.get("client_id", "")
        secret = form.get("client_secret", "")
        with self.lock:
            client = self.clients.get(client_id)
        if client is None or not hmac.compare_digest(
                client["client_secret"].encode(), secret.encode()):
            raise GrantError(401, "access_denied", "Unauthorized")
        check_audience(form)
        return Grant("client_credentials", f"{client_id}@clients", client_id, M2M_SCOPE)

    def new_code(self, query: dict) -> str:
        code = secrets.token_urlsafe(24)
        organization = query.get("organization", "")
        # Stand-in only: "account" logs in as another user (an attacker's
        # own account, for the login-hijack tests).
        account = query.get("account", "")
        if account:
            user = f"auth0|{account}"
        else:
            user = f"auth0|sso-user-{organization}" if organization else DEMO_USER
        with self.lock:
            self.codes[code] = {
                "client_id": query["client_id"],
                "redirect_uri": query["redirect_uri"],
                "challenge": query["code_challenge"],
                "scope": query.get("scope", ""),
                "organization": organization,
                "user": user,
                "expires_at": time.time() + self.settings["code_lifetime"],
                "used": False,
            }
            self.codes_issued += 1
        return code

    def authorization_code(self, form: dict) -> Grant:
        client_id = form.get("client_id", "")
        code = form.get("code", "")
        verifier = form.get("code_verifier", "")
        for name, value in (("client_id", client_id), ("code", code),
                            ("code_verifier", verifier)):
            if not value:
                raise GrantError(400, "invalid_request",
                                 f"Missing required parameter: {name}")
        check_audience(form)
        with self.lock:
            entry = self.codes.get(code)
            if entry is None or entry["used"]:
                raise GrantError(403, "invalid_grant", "Invalid authorization code")
            if time.time() > entry["expires_at"]:
                raise GrantError(403, "invalid_grant", "Authorization code has expired")
            if entry["client_id"] != client_id:
                raise GrantError(403, "invalid_grant",
                                 "client_id does not match the authorization request")
            if form.get("redirect_uri", "") != entry["redirect_uri"]:
                raise GrantError(403, "invalid_grant",
                                 "redirect_uri does not match the authorization request")
            if (not PKCE_VERIFIER_RE.fullmatch(verifier)
                    or not hmac.compare_digest(pkce_challenge(verifier), entry["challenge"])):
                # A failed attempt does not consume the code.
                raise GrantError(403, "invalid_grant", "PKCE verification failed")
            entry["used"] = True
            self.codes_redeemed += 1
        scopes = entry["scope"].split()
        return Grant("authorization_code", entry["user"], client_id,
                     entry["scope"] or M2M_SCOPE, offline="offline_access" in scopes,
                     organization=entry["organization"])

    def refresh(self, form: dict) -> Grant:
        client_id = form.get("client_id", "")
        token = form.get("refresh_token", "")
        for name, value in (("client_id", client_id), ("refresh_token", token)):
            if not value:
                raise GrantError(400, "invalid_request",
                                 f"Missing required parameter: {name}")
        with self.lock:
            entry = self.refresh_tokens.get(token)
            if entry is None or entry["family"] in self.revoked_families:
                raise invalid_refresh()
            overlap = self.settings["refresh_reuse_interval"]
            if entry["used"] and not (overlap and time.time() - entry["used_at"] <= overlap):
                # Reuse of a rotated token: Auth0 revokes the whole family.
                self.revoked_families.add(entry["family"])
                self.reuse_detected += 1
                raise invalid_refresh()
            if entry["client_id"] != client_id:
                raise invalid_refresh()
            if not entry["used"]:
                entry["used"], entry["used_at"] = True, time.time()
        return Grant("refresh_token", entry["subject"], client_id, entry["scope"],
                     offline=True, family=entry["family"],
                     organization=entry["organization"])

    # -- the device authorization grant (RFC 8628) ---------------------------

    def device_code(self, form: dict) -> dict:
        client_id = form.get("client_id", "")
        if not client_id:
            raise GrantError(400, "invalid_request", "Missing required parameter: client_id")
        check_audience(form)
        settings = self.settings
        if not settings["device_grant"]:
            raise GrantError(403, "unauthorized_client",
                             "Grant type 'urn:ietf:params:oauth:grant-type:device_code' "
                             "not allowed for the client.")
        device_code = secrets.token_urlsafe(30)
        user_code = settings["device_user_code"] or (
            "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(4)) + "-" +
            "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(4)))
        uri = settings["device_verification_uri"] or self.base_url + "/activate"
        organization = form.get("organization", "")
        with self.lock:
            self.devices[device_code] = {
                "user_code": user_code, "client_id": client_id,
                "scope": form.get("scope", ""), "organization": organization,
                "user": f"auth0|sso-user-{organization}" if organization else DEMO_USER,
                "expires_at": time.time() + settings["device_lifetime"],
                "interval": (5 if settings["device_interval"] is None
                             else settings["device_interval"]),
                "script": list(settings["device_script"] or []),
                "status": "pending", "last_poll": None, "polls": 0,
            }
        answer = {"device_code": device_code, "user_code": user_code,
                  "verification_uri": uri, "expires_in": settings["device_lifetime"]}
        if settings["device_interval"] is not None:
            answer["interval"] = settings["device_interval"]
        if settings["device_complete"]:
            answer["verification_uri_complete"] = (
                uri + "?user_code=" + urllib.parse.quote(user_code))
        return answer

    def device_act(self, action: str, user_code: str | None) -> int:
        """The user's answer on the verification page, for one code (or all)."""
        if action not in ("approve", "deny", "expire"):
            raise ValueError("action is one of approve, deny, expire")
        done = 0
        with self.lock:
            for entry in self.devices.values():
                if user_code is None or entry["user_code"] == user_code:
                    entry["status"] = {"approve": "approved", "deny": "denied",
                                       "expire": "expired"}[action]
                    done += 1
        return done

    def device_list(self) -> list[dict]:
        with self.lock:
            return [{"user_code": e["user_code"], "status": e["status"],
                     "polls": e["polls"], "interval": e["interval"],
                     "scope": e["scope"], "organization": e["organization"]}
                    for e in self.devices.values()]

    def device_poll(self, form: dict) -> Grant:
        client_id = form.get("client_id", "")
        code = form.get("device_code", "")
        for name, value in (("client_id", client_id), ("device_code", code)):
            if not value:
                raise GrantError(400, "invalid_request",
                                 f"Missing required parameter: {name}")
        now = time.time()
        with self.lock:
            entry = self.devices.get(code)
            if entry is None or entry["client_id"] != client_id:
                raise GrantError(403, "invalid_grant", "Invalid or expired device code.")
            entry["polls"] += 1
            last, entry["last_poll"] = entry["last_poll"], now
            if entry["script"]:
                step = entry["script"].pop(0)
                if step == "slow_down":
                    entry["interval"] += 5
                    raise GrantError(429, "slow_down",
                                     "You are polling faster than allowed.")
                if step != "pending":
                    entry["status"] = {"approve": "approved", "deny": "denied",
                                       "expire": "expired"}[step]
            if entry["status"] == "used":
                raise GrantError(403, "invalid_grant", "Invalid or expired device code.")
            if entry["status"] == "expired" or now > entry["expires_at"]:
                raise GrantError(403, "expired_token", "The device code has expired.")
            if entry["status"] == "denied":
                raise GrantError(403, "access_denied", "User denied the authorization.")
            if last is not None and now - last < entry["interval"] - 0.2:
                # Auth0 counts a poll within the interval as too fast.
                self.device_too_fast += 1
                entry["interval"] += 5
                raise GrantError(429, "slow_down", "You are polling faster than allowed.")
            if entry["status"] != "approved":
                raise GrantError(403, "authorization_pending",
                                 "User has yet to authorize device code.")
            entry["status"] = "used"
        scopes = entry["scope"].split()
        return Grant(DEVICE_GRANT, entry["user"], client_id, entry["scope"] or M2M_SCOPE,
                     offline="offline_access" in scopes, organization=entry["organization"])

    def revoke(self, form: dict) -> None:
        """Auth0's /oauth/revoke: a refresh token's whole family dies."""
        client_id = form.get("client_id", "")
        token = form.get("token", "")
        for name, value in (("client_id", client_id), ("token", token)):
            if not value:
                raise GrantError(400, "invalid_request",
                                 f"Missing required parameter: {name}")
        with self.lock:
            entry = self.refresh_tokens.get(token)
            if entry is not None and entry["client_id"] != client_id:
                raise GrantError(401, "invalid_client",
                                 "The refresh token was issued to another client.")
            if entry is not None:
                self.revoked_families.add(entry["family"])
                self.revocations += 1

    # -- issuing and checking tokens ----------------------------------------

    def issue(self, grant: Grant, expires_in) -> dict:
        """Issue the tokens for a checked grant; return the JSON answer.

        `expires_in` is sent as given (a test may make it a string); the
        token's real lifetime is its numeric value, else the default.
        """
        lifetime = as_lifetime(expires_in, self.settings["expires_in"])
        now = time.time()
        # Auth0's access-token claims: azp names the client the token was
        # issued to (sub is "<client_id>@clients" for M2M), org_id the SSO
        # organization of the login.
        claims = {"iss": self.base_url + "/", "sub": grant.subject,
                  "aud": AUDIENCE, "iat": int(now), "exp": int(now + lifetime),
                  "azp": grant.client_id, "scope": grant.scope,
                  "jti": b64url(secrets.token_bytes(6))}
        if grant.grant_type == "client_credentials":
            claims["gty"] = "client-credentials"
        if grant.organization:
            claims["org_id"] = grant.organization
        token = make_jwt(claims)
        answer = {"access_token": token}
        with self.lock:
            self.access_tokens[token] = {
                "subject": grant.subject, "client_id": grant.client_id,
                "grant": grant.grant_type, "expires_at": now + lifetime,
                "revoked": False,
            }
            self.issued_by_grant[grant.grant_type] = \
                self.issued_by_grant.get(grant.grant_type, 0) + 1
            if grant.offline:
                family = grant.family
                if family is None:
                    self.families += 1
                    family = self.families
                refresh = "v1." + secrets.token_urlsafe(48)
                self.refresh_tokens[refresh] = {
                    "family": family, "used": False, "client_id": grant.client_id,
                    "subject": grant.subject, "scope": grant.scope,
                    "organization": grant.organization,
                }
                answer["refresh_token"] = refresh
        if "openid" in grant.scope.split():
            answer["id_token"] = make_jwt({
                "iss": self.base_url + "/", "sub": grant.subject,
                "aud": grant.client_id, "iat": int(now), "exp": int(now + 36000),
                "email": grant.subject.split("|")[-1] + "@example.com",
                **({"org_id": grant.organization} if grant.organization else {}),
            })
        answer.update({"scope": grant.scope, "expires_in": expires_in,
                       "token_type": "Bearer"})
        return answer

    def token_valid(self, token: str) -> bool:
        with self.lock:
            entry = self.access_tokens.get(token)
            return (entry is not None and not entry["revoked"]
                    and time.time() < entry["expires_at"])

    def revoke_refresh_tokens(self) -> int:
        with self.lock:
            families = {e["family"] for e in self.refresh_tokens.values()}
            self.revoked_families |= families
            return len(families)

    def revoke_access_tokens(self) -> int:
        with self.lock:
            for entry in self.access_tokens.values():
                entry["revoked"] = True
            return len(self.access_tokens)

    def state(self) -> dict:
        now = time.time()
        with self.lock:
            return {
                "tokens_issued": len(self.access_tokens),
                "tokens_valid": sum(1 for e in self.access_tokens.values()
                                    if not e["revoked"] and now < e["expires_at"]),
                "tokens_by_grant": dict(self.issued_by_grant),
                "refresh_tokens_issued": len(self.refresh_tokens),
                "refresh_tokens_active": sum(
                    1 for e in self.refresh_tokens.values()
                    if not e["used"] and e["family"] not in self.revoked_families),
                "refresh_families": self.families,
                "revoked_families": len(self.revoked_families),
                "refresh_reuse_detected": self.reuse_detected,
                "codes_issued": self.codes_issued,
                "codes_redeemed": self.codes_redeemed,
                "device_codes": len(self.devices),
                "device_too_fast": self.device_too_fast,
                "revocations": self.revocations,
                "clients": len(self.clients),
                "settings": dict(self.settings),
            }


def check_audience(form: dict) -> None:
    audience = form.get("audience", "")
    if audience != AUDIENCE:
        raise GrantError(403, "access_denied",
                         f"Service not enabled within domain: {audience or '(none)'}")


# --------------------------------------------------------------------------
# The tenant's config.yaml
# --------------------------------------------------------------------------

# A realistic tenant document.  carto-auth needs only apis.baseUrl; the decoy
# workspace.baseUrl before it, nesting, flow and block lists and comments make
# sure a real YAML parser is used.
CONFIG_YAML = """\
# CARTO tenant configuration (served by the carto-auth test stand-in)
version: 3
tenant:
  id: @TENANT_ID@
  name: "Demo tenant"
  domain: @TENANT_DOMAIN@
  region: local-east1
workspace:
  # The web application, not the API.
  baseUrl: https://workspace.invalid
  features: [maps, builder, workflows]
auth:
  domain: @TENANT_DOMAIN@
  audience: carto-cloud-native-api
  clientId: 0dxb8HR3ATXCxJiPOJVHsLoHoAtbRX6u
  scopes:
    - openid
    - profile
    - offline_access
apis:
  # Base URL of the CARTO APIs for this account.
  baseUrl: @API_BASE_URL@
  mapsUrl: @API_BASE_URL@/v3/maps
  sqlUrl: @API_BASE_URL@/v3/sql
  importsUrl: '@API_BASE_URL@/v3/imports'
dataWarehouse:
  provider: bigquery
  projectId: @DW_PROJECT_ID@
limits:
  requestsPerMinute: 600
  maxConnections: 20
"""


def render_config(settings: dict) -> str:
    text = settings["config_yaml"]
    if text is None:
        text = CONFIG_YAML
    for name, value in (("@TENANT_ID@", TENANT_ID),
                        ("@TENANT_DOMAIN@", settings["tenant_domain"]),
                        ("@API_BASE_URL@", settings["api_base_url"]),
                        ("@DW_PROJECT_ID@", DW_PROJECT_ID)):
        text = text.replace(name, value)
    return text


# --------------------------------------------------------------------------
# HTTP handling
# --------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "carto-standin/1.0"
    sys_version = ""
    timeout = 60                     # idle keep-alive connections are closed

    server: "StandinServer"

    def version_string(self):
        return self.server_version

    # Public routes: path -> {method: handler method name}.
    ROUTES = {
        "/oauth/token": {"POST": "_token"},
        "/oauth/device/code": {"POST": "_device_code"},
        "/oauth/revoke": {"POST": "_revoke"},
        "/authorize": {"GET": "_authorize"},
        "/accounts": {"GET": "_accounts"},
        "/config.yaml": {"GET": "_config"},
        "/v3/connections/carto-dw/token": {"GET": "_dw_token"},
    }

    # -- plumbing -----------------------------------------------------------

    def setup(self):
        # TLS handshakes run here, in the connection's own thread, so a slow
        # or failing client never blocks the accept loop.
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        if self.server.verbose:
            sys.stderr.write("standin: %s - %s\n" % (self.address_string(), format % args))

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked); None once an error
        answer has been sent."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self._error_and_close(400, "bad chunk size")
                    return None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass                 # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_REQUEST_BODY:
                    self._error_and_close(413, "request body too large")
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self._error_and_close(400, "bad Content-Length")
            return None
        if length > MAX_REQUEST_BODY:
            self._error_and_close(413, "request body too large")
            return None
        return self.rfile.read(length) if length else b""

    def _error_and_close(self, status: int, message: str) -> None:
        self.close_connection = True
        self._json(status, {"error": "invalid_request", "error_description": message})

    def _send(self, status: int, body: bytes, content_type: str,
              headers: dict | None = None) -> None:
        """Send a complete answer; every answer carries Content-Length."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj, headers: dict | None = None) -> None:
        headers = {"Cache-Control": "no-store", **(headers or {})}
        self._send(status, json.dumps(obj).encode(), "application/json", headers)

    def _html(self, status: int, title: str, lines: list[str]) -> None:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        page = (f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head>"
                f"<body><h1>{html.escape(title)}</h1><ul>{items}</ul></body></html>")
        self._send(status, page.encode(), "text/html; charset=utf-8")

    def _bearer(self) -> str:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def _dispatch(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, first_values(url.query)
        body = self._read_body()
        if body is None:
            return
        if path.startswith("/_control/"):
            self._control(path[len("/_control/"):], query, body)
            return

        form = {}
        if self._media_type() == FORM_TYPE:
            form = first_values(body.decode("utf-8", "replace"))
        headers: dict = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        record = {"time": time.time(), "method": self.command, "path": path,
                  "query": query, "headers": headers, "body_len": len(body)}
        if self._media_type() == FORM_TYPE:
            record["form"] = form
        self.server.log.record(record)

        fault = self.server.faults.take(RESPONSE_KINDS, path, self.command,
                                        form.get("grant_type"))
        if fault is not None and self._inject(fault):
            return

        routes = self.ROUTES.get(path)
        if routes is None:
            self._json(404, {"error": "not_found",
                             "error_description": f"No such endpoint: {path}"})
            return
        name = routes.get(self.command)
        if name is None:
            self._json(405, {"error": "method_not_allowed",
                             "error_description": f"{self.command} not allowed on {path}"},
                       {"Allow": ", ".join(routes)})
            return
        getattr(self, name)(query, form)

    # -- faults -------------------------------------------------------------

    def _inject(self, fault: dict) -> bool:
        """Apply a response fault.  True when it replaced the answer."""
        kind = fault["kind"]
        if kind == "delay":
            self.server.stopping.wait(fault["seconds"])
            return False
        if kind == "status":
            self._fault_status(fault)
        elif kind == "hang":
            self._hang(fault["seconds"])
        elif kind == "reset":
            self._reset()
        elif kind == "truncate":
            body = json.dumps({"access_token": "eyJ" + "A" * 40}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        elif kind == "nonjson":
            self._send(200, b"<html>oops</html>", "text/html")
        elif kind == "wrongtypes":
            self._json(200, {"access_token": 12345, "expires_in": "soon"})
        elif kind == "big":
            self._big(fault["size"])
        elif kind == "drip":
            self._drip(fault)
        elif kind == "redirect":
            self._send(fault.get("status", 302), b"", "text/plain",
                       {"Location": fault["url"]})
        return True

    def _fault_status(self, fault: dict) -> None:
        status = fault["status"]
        headers = {}
        if "retry_after" in fault:
            headers["Retry-After"] = fault["retry_after"]
        body = fault.get("body")
        if body is None:
            error = {429: "too_many_requests", 503: "temporarily_unavailable"}.get(
                status, "server_error" if status >= 500 else "invalid_request")
            body = {"error": error, "error_description": f"Injected fault: HTTP {status}"}
        if isinstance(body, str):
            ctype = fault.get("content_type", "text/plain; charset=utf-8")
            self._send(status, body.encode(), ctype, headers)
        else:
            self._json(status, body, headers)

    def _hang(self, seconds: float) -> None:
        """Answer nothing until the client gives up (sends more data or
        closes), `seconds` pass or the server stops; then close."""
        deadline = time.monotonic() + seconds
        while not self.server.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            readable, _, _ = select.select([self.connection], [], [], min(remaining, 0.2))
            if readable:
                break
        self.close_connection = True

    def _reset(self) -> None:
        """Close the connection with a TCP RST and no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.rfile.close()           # drop the makefile reference, so that
        self.connection.close()      # this close() really closes (and resets)
        # The base class still flushes and closes these: give it dummies.
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
        self.close_connection = True

    def _drip(self, fault: dict) -> None:
        """A 200 whose body comes one byte every `interval` s: leading
        spaces for `seconds`, then the JSON `body` (a complete, valid answer
        for a client that waits it out).  Every byte is well within any
        per-read timeout; only a limit on the whole answer stops it.  Ends
        early when the client closes or the server stops."""
        interval, seconds = fault["interval"], fault["seconds"]
        spaces = max(1, int(seconds / interval))
        tail = json.dumps(fault["body"]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(spaces + len(tail)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.flush()
            for _ in range(spaces):
                self.wfile.write(b" ")
                self.wfile.flush()
                if self.server.stopping.wait(interval):
                    return
            self.wfile.write(tail)
        except OSError:
            pass                     # the client gave up: what it should do

    def _big(self, size: int) -> None:
        """A syntactically valid JSON token answer of `size` bytes."""
        head = json.dumps({"access_token": "eyJ" + "B" * 40, "expires_in": 86400,
                           "token_type": "Bearer"})[:-1] + ', "padding": "'
        tail = '"}'
        padding = size - len(head) - len(tail)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.write(head.encode())
        chunk = b"x" * 65536
        while padding > 0:
            self.wfile.write(chunk[:padding])
            padding -= len(chunk)
        self.wfile.write(tail.encode())

    # -- public endpoints -----------------------------------------------------

    def _token(self, query: dict, form: dict) -> None:
        if self._media_type() != FORM_TYPE:
            self._json(400, {"error": "invalid_request",
                             "error_description": f"Content-Type must be {FORM_TYPE}"})
            return
        platform = self.server.platform
        grant_type = form.get("grant_type", "")
        try:
            if grant_type == "client_credentials":
                grant = platform.client_credentials(form)
            elif grant_type == "authorization_code":
                grant = platform.authorization_code(form)
            elif grant_type == "refresh_token":
                grant = platform.refresh(form)
            elif grant_type == DEVICE_GRANT:
                grant = platform.device_poll(form)
            elif not grant_type:
                raise GrantError(400, "invalid_request",
                                 "Missing required parameter: grant_type")
            else:
                raise GrantError(400, "unsupported_grant_type",
                                 f"Unsupported grant type: {grant_type}")
        except GrantError as err:
            self._json(err.status, err.body())
            return
        override = self.server.faults.take({"expires_in"}, "/oauth/token", "POST", grant_type)
        expires_in = override["value"] if override else platform.settings["expires_in"]
        self._json(200, platform.issue(grant, expires_in), {"Pragma": "no-cache"})

    def _form_only(self) -> bool:
        if self._media_type() == FORM_TYPE:
            return True
        self._json(400, {"error": "invalid_request",
                         "error_description": f"Content-Type must be {FORM_TYPE}"})
        return False

    def _device_code(self, query: dict, form: dict) -> None:
        if not self._form_only():
            return
        try:
            answer = self.server.platform.device_code(form)
        except GrantError as err:
            self._json(err.status, err.body())
            return
        self._json(200, answer, {"Pragma": "no-cache"})

    def _revoke(self, query: dict, form: dict) -> None:
        if not self._form_only():
            return
        try:
            self.server.platform.revoke(form)
        except GrantError as err:
            self._json(err.status, err.body())
            return
        self._send(200, b"", "application/json")

    def _authorize(self, query: dict, form: dict) -> None:
        problems = []
        if not query.get("client_id"):
            problems.append("client_id is missing")
        if query.get("response_type") != "code":
            problems.append("response_type must be 'code'")
        if query.get("audience") != AUDIENCE:
            problems.append(f"audience must be '{AUDIENCE}'")
        if not query.get("redirect_uri"):
            problems.append("redirect_uri is missing")
        if query.get("code_challenge_method") != "S256":
            problems.append("code_challenge_method must be 'S256'")
        if not PKCE_CHALLENGE_RE.fullmatch(query.get("code_challenge", "")):
            problems.append("code_challenge must be 43 characters of base64url")
        if not query.get("state"):
            problems.append("state is missing")
        if "account" in query and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", query["account"]):
            problems.append("account must be 1 to 64 characters of [A-Za-z0-9_-]")
        if problems:
            self._html(400, "Invalid authorization request", problems)
            return

        fault = self.server.faults.take({"authorize_error"}, "/authorize", "GET", None)
        if fault is not None:
            params = {"error": fault.get("error", "access_denied"),
                      "error_description": fault.get("error_description", "User cancelled"),
                      "state": query["state"]}
        else:
            params = {"code": self.server.platform.new_code(query), "state": query["state"]}
        redirect_uri = query["redirect_uri"]
        location = (redirect_uri + ("&" if "?" in redirect_uri else "?")
                    + urllib.parse.urlencode(params, quote_via=urllib.parse.quote))
        self._send(302, b"<html><body>Redirecting</body></html>",
                   "text/html; charset=utf-8", {"Location": location})

    def _require_token(self) -> bool:
        if self.server.platform.token_valid(self._bearer()):
            return True
        self._json(401, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"})
        return False

    def _accounts(self, query: dict, form: dict) -> None:
        if self._require_token():
            self._json(200, {"tenant_domain": self.server.platform.settings["tenant_domain"]})

    def _config(self, query: dict, form: dict) -> None:
        text = render_config(self.server.platform.settings)
        self._send(200, text.encode(), "text/yaml; charset=utf-8")

    def _dw_token(self, query: dict, form: dict) -> None:
        if self._require_token():
            self._json(200, {"projectId": DW_PROJECT_ID,
                             "token": "ya29." + secrets.token_urlsafe(48)})

    # -- control API ----------------------------------------------------------

    def _control(self, name: str, query: dict, body: bytes) -> None:
        server = self.server
        platform = server.platform
        try:
            data = json.loads(body) if body.strip() else None
        except ValueError:
            self._json(400, {"error": "control body is not JSON"})
            return
        key = (self.command, name)
        try:
            if key == ("GET", "requests"):
                self._json(200, server.log.entries(query.get("path")))
            elif key == ("GET", "state"):
                state = platform.state()
                state["requests"] = len(server.log.entries())
                state["faults_pending"] = len(server.faults.pending())
                self._json(200, state)
            elif key == ("GET", "faults"):
                self._json(200, server.faults.pending())
            elif key == ("GET", "clients"):
                self._json(200, platform.client_list())
            elif key == ("POST", "clients"):
                if (not isinstance(data, dict) or not data.get("client_id")
                        or not isinstance(data.get("client_secret"), str)):
                    raise ValueError("need {client_id, client_secret[, api_base_url]}")
                platform.register_client(data["client_id"], data["client_secret"],
                                         data.get("api_base_url"))
                self._json(200, {"ok": True})
            elif key == ("POST", "faults"):
                items = data if isinstance(data, list) else [data]
                faults = [validate_fault(item) for item in items]
                self._json(200, {"ok": True, "pending": server.faults.add(faults)})
            elif key == ("POST", "reset"):
                server.log.clear()
                server.faults.clear()
                with platform.lock:
                    platform.settings = dict(platform.defaults)
                self._json(200, {"ok": True})
            elif key == ("POST", "settings"):
                if not isinstance(data, dict) or not set(data) <= set(platform.defaults):
                    raise ValueError(f"settings are some of {sorted(platform.defaults)}")
                with platform.lock:
                    platform.settings.update(data)
                    settings = dict(platform.settings)
                self._json(200, settings)
            elif key == ("POST", "revoke_refresh"):
                self._json(200, {"ok": True, "families": platform.revoke_refresh_tokens()})
            elif key == ("GET", "device"):
                self._json(200, platform.device_list())
            elif key == ("POST", "device"):
                if not isinstance(data, dict) or not isinstance(data.get("action"), str):
                    raise ValueError("need {action[, user_code]}")
                done = platform.device_act(data["action"], data.get("user_code"))
                self._json(200, {"ok": True, "codes": done})
            elif key == ("POST", "revoke_access"):
                self._json(200, {"ok": True, "tokens": platform.revoke_access_tokens()})
            else:
                self._json(404, {"error": f"no control endpoint {self.command} {name}"})
        except ValueError as err:
            self._json(400, {"error": str(err)})


class StandinServer(http.server.ThreadingHTTPServer):
    daemon_threads = True            # hanging handlers never block exit
    request_queue_size = 128

    def __init__(self, host: str, tls: ssl.SSLContext | None, log: RequestLog,
                 expires_in: int, verbose: bool):
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, 0), Handler)
        self.tls = tls
        self.log = log
        self.verbose = verbose
        self.faults = FaultQueue()
        self.stopping = threading.Event()
        self.port = self.server_address[1]
        scheme = "https" if tls else "http"
        netloc = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        self.base_url = f"{scheme}://{netloc}"
        self.platform = Platform(self.base_url, expires_in)
        for client_id, secret in DEMO_CLIENTS:
            self.platform.register_client(client_id, secret, self.base_url)

    def server_bind(self):
        # HTTPServer.server_bind() resolves the host name (getfqdn), which can
        # stall without DNS; nothing here needs it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        # Clients that go away, time out or reject our certificate are part
        # of the tests; only real bugs deserve a traceback.
        if isinstance(sys.exc_info()[1], (OSError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def write_port_file(path: str, port: int) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def parent_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Local CARTO stand-in for tests.")
    parser.add_argument("--port-file", required=True,
                        help="file to write the listening port to")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tls-cert", help="PEM certificate (chain): serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--log", help="append each request as a JSON line to this file")
    parser.add_argument("--expires-in", type=int, default=DEFAULT_EXPIRES_IN,
                        help="expires_in of issued tokens (default %(default)s)")
    parser.add_argument("--parent-pid", type=int,
                        help="exit when this process is gone (test-script watchdog)")
    parser.add_argument("--verbose", action="store_true",
                        help="log each request to standard error")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")

    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
        tls.set_alpn_protocols(["http/1.1"])

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())

    log = RequestLog(args.log)
    server = StandinServer(args.host, tls, log, args.expires_in, args.verbose)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    write_port_file(args.port_file, server.port)

    while not stop.wait(0.5):
        if args.parent_pid and not parent_alive(args.parent_pid):
            break
    server.stopping.set()
    server.shutdown()
    server.server_close()
    log.close()
    try:
        os.unlink(args.port_file)
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
