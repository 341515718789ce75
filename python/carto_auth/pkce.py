"""carto_auth.pkce: the reference's PKCE module, names and pure parts.

The drop-in's logins are done by the carto-auth program (`carto-auth
login`, or CartoAuth.from_oauth()).  CartoPKCE here builds the same
authorization URL and handshake parameters as the reference's and parses a
pasted code or redirect URL the same way (get_auth_response() without a
browser prompts for it, as the reference's does); exchanging a code for a
token, and the browser login with its local server, are left to the
carto-auth program, so get_token_info() and a get_auth_response() that
would open the browser raise CredentialsError saying so.
"""

import base64
import hashlib
import os
import secrets
import sys
from urllib.parse import parse_qsl, urlencode, urlparse

from carto_auth.errors import CredentialsError

OAUTH_AUTHORIZE_URL = "https://auth.carto.com/authorize"
OAUTH_TOKEN_URL = "https://auth.carto.com/oauth/token"
AUDIENCE = "carto-cloud-native-api"
CLIENT_ID = "0dxb8HR3ATXCxJiPOJVHsLoHoAtbRX6u"
REDIRECT_URI = "http://localhost:10000/callback/"
REDIRECT_URI_CLI = "https://app.carto.com/auth/token"

_LOGIN_BY_HELPER = (
    "the carto-auth drop-in logs in through the carto-auth program: "
    "use CartoAuth.from_oauth() or run `carto-auth login`"
)


class CartoPKCE:
    """The PKCE authorization parameters of a CARTO login.

    Args:
        open_browser (bool, optional): whether the browser would be opened;
            off in Google Colab and on Databricks, as in the reference.
        org (str, optional): Single Sign-On (SSO) organization in CARTO.
    """

    def __init__(self, open_browser=True, org=None):
        hosted = "google.colab" in sys.modules or "DATABRICKS_RUNTIME_VERSION" in os.environ
        self.open_browser = bool(open_browser) and not hosted
        self.org = org
        self.redirect_uri = REDIRECT_URI if self.open_browser else REDIRECT_URI_CLI
        self._code_challenge_method = "S256"
        self._code_verifier = None
        self._code_challenge = None
        self._authorization_code = None

    @staticmethod
    def _get_code_verifier():
        # 33 to 96 random bytes, URL-safe base64 (44 to 128 characters).
        return secrets.token_urlsafe(33 + secrets.randbelow(64))

    def _get_code_challenge(self):
        digest = hashlib.sha256(self._code_verifier.encode("utf-8")).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def get_pkce_handshake_parameters(self):
        """Draws a new code verifier and computes its S256 challenge."""
        self._code_verifier = self._get_code_verifier()
        self._code_challenge = self._get_code_challenge()

    def get_authorize_url(self, state=None):
        """The URL a user opens to log in."""
        if not self._code_challenge:
            self.get_pkce_handshake_parameters()
        params = {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": None,
            "audience": AUDIENCE,
            "redirect_uri": self.redirect_uri,
            "code_challenge_method": self._code_challenge_method,
            "code_challenge": self._code_challenge,
        }
        if state is not None:
            params["state"] = state
        if self.org is not None:
            params["organization"] = self.org
        return OAUTH_AUTHORIZE_URL + "?" + urlencode(params)

    def _input(self, prompt):
        print(prompt)
        return input()

    def parse_response_code(self, url):
        """The code in a pasted redirect URL, or the text itself when it holds none."""
        _, code = self._parse_auth_response_url(url)
        return url if code is None else code

    def get_authorization_code(self, response=None):
        if response:
            return self.parse_response_code(response)
        return self.get_auth_response()

    def get_auth_response(self, open_browser=None):
        """The authorization code, pasted by the user (paste mode only)."""
        if open_browser is None:
            open_browser = self.open_browser
        if open_browser:
            raise CredentialsError(_LOGIN_BY_HELPER)
        url = self.get_authorize_url()
        answer = self._input(f"Go to the following URL:\n{url}\nEnter the Access code: ")
        if "code=" in answer:
            return self._parse_auth_response_url(answer)[1]
        return answer  # the code itself, copied from the page

    def get_token_info(self, code=None):
        raise CredentialsError(_LOGIN_BY_HELPER)

    @staticmethod
    def _parse_auth_response_url(url):
        form = dict(parse_qsl(urlparse(url).query))
        if "error" in form:
            raise CredentialsError(f"Received error from auth server: {form['error']}")
        return form.get("state"), form.get("code")
