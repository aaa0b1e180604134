"""The platform's identity provider and the HTTP API's JWT authorizer, for the browser demo.

`issue` signs a short-lived access token for a contractor (HS256 with a key made per run: the
demo has no JWKS endpoint to publish an RSA key on); `claims` accepts a token only as API
Gateway's JWT authorizer would: a valid signature, not expired, `iss` equal to the template's
JwtIssuer exactly, and `aud` one of its JwtAudience. It returns the claims the authorizer passes
on (`requestContext.authorizer.jwt.claims`), or None, for which the gateway answers 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

TOKEN_LIFETIME = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DemoIdentity:
    def __init__(self, issuer: str, audiences: Sequence[str]) -> None:
        self.issuer = issuer
        self.audiences = list(audiences)
        self._key = secrets.token_bytes(32)

    def issue(self, claims: Mapping[str, Any], now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        payload = {
            **claims,
            "iss": self.issuer,
            "aud": self.audiences[0],
            "iat": issued,
            "exp": issued + TOKEN_LIFETIME,
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(payload).encode())
        return f"{header}.{body}.{self._sign(f'{header}.{body}')}"

    def claims(self, authorization: str | None, now: float | None = None) -> dict[str, Any] | None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or token.count(".") != 2:
            return None
        header, body, signature = token.strip().split(".")
        if not hmac.compare_digest(signature, self._sign(f"{header}.{body}")):
            return None
        try:
            payload: dict[str, Any] = json.loads(_unb64(body))
        except ValueError:
            return None
        return payload if self._acceptable(payload, time.time() if now is None else now) else None

    def _acceptable(self, payload: Mapping[str, Any], now: float) -> bool:
        audience = payload.get("aud", payload.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        return (
            payload.get("iss") == self.issuer
            and any(item in self.audiences for item in audiences)
            and isinstance(payload.get("exp"), int)
            and now < payload["exp"]
        )

    def _sign(self, signing_input: str) -> str:
        return _b64(hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest())
