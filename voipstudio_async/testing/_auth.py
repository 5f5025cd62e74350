"""Authentication as the real API does it: Basic, `X-Auth-Token`, login, 2FA, idle expiry."""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._http import ApiError

#: Session tokens expire after 30 minutes without a request (the API's documented default).
TOKEN_TTL = 30 * 60.0
#: The sign-in email of a fake account unless told otherwise.
DEFAULT_EMAIL = "jsmith@example.com"


@dataclass(frozen=True)
class Credentials:
    """What a test needs to sign in to the fake."""

    user_id: int
    """The user id that signs in with ``api_key`` (HTTP Basic)."""
    api_key: str
    """The API key (also accepted as an ``X-Auth-Token``)."""
    email: str
    """The e-mail address of ``POST /login``."""
    password: str
    """The password of ``POST /login``."""


def unauthorized(reason: str) -> ApiError:
    """The real API's 401 body."""
    return ApiError(401, "Unauthorized", [{"field": None, "message": reason}])


class Authenticator:
    """Checks credentials and keeps session tokens with their idle timers."""

    def __init__(
        self,
        seed: int,
        user_id: int,
        now: Callable[[], float],
        token_ttl: float = TOKEN_TTL,
        two_factor_code: str | None = None,
        email: str = DEFAULT_EMAIL,
    ) -> None:
        self._rng = random.Random(f"{seed}:auth")
        self.credentials = Credentials(
            user_id=user_id,
            api_key=f"{self._rng.getrandbits(160):040x}",
            email=email,
            password=f"fake-password-{seed}",
        )
        self._now = now
        self.token_ttl = token_ttl
        self.two_factor_code = two_factor_code
        self.login_count = 0
        self.login2fa_count = 0
        self._tokens: dict[str, float] = {}
        self._nonces: set[str] = set()
        # Header value -> secret, so the per-request cost of Basic is one dict lookup.
        self._basic: dict[bytes, str | None] = {}

    def _secret_ok(self, secret: str) -> bool:
        if secret == self.credentials.api_key:
            return True
        last = self._tokens.get(secret)
        if last is None:
            return False
        now = self._now()
        if now - last > self.token_ttl:
            del self._tokens[secret]
            return False
        self._tokens[secret] = now
        return True

    def issued(self, token: str) -> bool:
        """Whether ``token`` is a live session token of this account (no idle refresh)."""
        last = self._tokens.get(token)
        return last is not None and self._now() - last <= self.token_ttl

    def _basic_secret(self, header: bytes) -> str | None:
        secret = self._basic.get(header, "")
        if secret != "":
            return secret
        scheme, _, encoded = header.partition(b" ")
        parsed: str | None = None
        if scheme.lower() == b"basic":
            try:
                user, sep, pwd = base64.b64decode(encoded, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, sep, pwd = "", "", ""
            if sep and user == str(self.credentials.user_id):
                parsed = pwd
        if len(self._basic) < 1024:
            self._basic[header] = parsed
        return parsed

    def check(self, authorization: bytes | None, token: bytes | None) -> None:
        """Raise the 401 answer unless the request carries valid credentials."""
        if token is not None:
            if self._secret_ok(token.decode("latin-1")):
                return
            raise unauthorized("Invalid or expired token")
        if authorization is None:
            raise unauthorized("Authentication required")
        secret = self._basic_secret(authorization)
        if secret is None or not self._secret_ok(secret):
            raise unauthorized("Invalid credentials")

    def _new_token(self) -> str:
        token = f"{self._rng.getrandbits(160):040x}"
        self._tokens[token] = self._now()
        return token

    def _signed_in(self) -> dict[str, Any]:
        return {
            "message": "Login success",
            "user_token": self._new_token(),
            "user_id": self.credentials.user_id,
        }

    def login(self, body: Any) -> tuple[int, dict[str, Any]]:
        """`POST /login`: 200 with a token, or 202 with a nonce when 2FA is on."""
        self.login_count += 1
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("email", "password")
        ):
            raise ApiError(
                400,
                "Validation error",
                [{"field": "email", "message": "Email and password are required."}],
            )
        creds = self.credentials
        if body["email"].lower() != creds.email or body["password"] != creds.password:
            raise unauthorized("Invalid credentials")
        if self.two_factor_code is not None:
            nonce = f"{self._rng.getrandbits(128):032x}"
            self._nonces.add(nonce)
            return 202, {"nonce": nonce}
        return 200, self._signed_in()

    def login2fa(self, body: Any) -> tuple[int, dict[str, Any]]:
        """`POST /login2fa`: the code and a nonce from `login` give a token, once."""
        self.login2fa_count += 1
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("code", "nonce")
        ):
            raise ApiError(
                400,
                "Validation error",
                [{"field": "code", "message": "Code and nonce are required."}],
            )
        if body["nonce"] not in self._nonces or body["code"] != self.two_factor_code:
            raise unauthorized("Invalid code")
        self._nonces.discard(body["nonce"])
        return 200, self._signed_in()

    def expire_tokens(self) -> None:
        """Forget every session token, as if each had been idle too long."""
        self._tokens.clear()
