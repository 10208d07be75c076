"""A tiny OpenID Connect issuer on loopback, for tests and the local stack.

It serves `/.well-known/openid-configuration` and a JWKS over plain HTTP on 127.0.0.1
(the authorizer accepts http only for loopback hosts), holds RSA signing keys, and mints
RS256/RS384/RS512 tokens. Tests can rotate or withdraw keys, bend the discovery document,
take the issuer down, and count the requests it served.

    with OidcIssuer(audience="dashboard") as issuer:
        token = issuer.mint(sub="analyst", accounts=["111122223333"])
        # OIDC_ISSUER=issuer.url OIDC_AUDIENCES=dashboard

For a local stack it also hands out tokens of named demo users, in place of a sign-in page:
`GET /demo/token?persona=<name>` answers `{"token": ..., "expiresAt": <epoch s>}` for a name
in `personas` (name → claims), to browser pages of the origins in `cors_origins`.

Needs `cryptography` (a dev dependency); no pytest, so the demo can use it too.
"""

from __future__ import annotations

import base64
import collections
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/jwks.json"
PERSONA_TOKEN_PATH = "/demo/token"
HASHES = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}
OMIT = object()  # mint(kid=OMIT): a header without `kid`

_kid_numbers = itertools.count(1)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def b64url_uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass
class SigningKey:
    kid: str
    private_key: RSAPrivateKey
    alg: str | None = "RS256"  # published as the JWK's `alg`; None publishes none
    use: str | None = "sig"

    @classmethod
    def generate(cls, bits: int = 2048, kid: str | None = None, **jwk: Any) -> SigningKey:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        return cls(kid or f"key-{next(_kid_numbers)}", private_key, **jwk)

    def jwk(self) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        entry = {"kty": "RSA", "kid": self.kid, "n": b64url_uint(numbers.n)}
        entry["e"] = b64url_uint(numbers.e)
        entry.update({k: v for k, v in (("alg", self.alg), ("use", self.use)) if v is not None})
        return entry

    def sign(self, signing_input: bytes, alg: str = "RS256") -> bytes:
        return self.private_key.sign(signing_input, padding.PKCS1v15(), HASHES[alg]())


@dataclass
class OidcIssuer:
    audience: str = "incident-websocket"
    key_bits: int = 2048
    host: str = "127.0.0.1"
    keys: list[SigningKey] = field(default_factory=list)  # published, newest last
    discovery_overrides: dict[str, Any] = field(default_factory=dict)
    down: bool = False  # drop every connection without an answer, like an unreachable host
    redirects: dict[str, str] = field(default_factory=dict)  # path → Location of a 302
    raw_responses: dict[str, bytes] = field(default_factory=dict)  # path → body served as is
    requests: collections.Counter = field(default_factory=collections.Counter)
    personas: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → claims
    persona_token_lifetime: int = 3600
    cors_origins: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys.append(SigningKey.generate(self.key_bits))
        self._server: ThreadingHTTPServer | None = None

    # -- serving -----------------------------------------------------------------------

    def start(self) -> OidcIssuer:
        self._server = ThreadingHTTPServer((self.host, 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OidcIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The issuer identifier: OIDC_ISSUER, and the `iss` of every minted token."""
        if self._server is None:
            raise RuntimeError("the issuer is not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def jwks_uri(self) -> str:
        return self.url + JWKS_PATH

    @property
    def persona_token_url(self) -> str:
        return self.url + PERSONA_TOKEN_PATH

    def discovery_document(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": self.jwks_uri,
            "id_token_signing_alg_values_supported": sorted(HASHES),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            **self.discovery_overrides,
        }

    def jwks_document(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in self.keys]}

    # -- keys ----------------------------------------------------------------------------

    @property
    def current_key(self) -> SigningKey:
        return self.keys[-1]

    def rotate(self, bits: int | None = None, keep_previous: bool = False) -> SigningKey:
        """Publish a new key that signs from now on; withdraw the others unless kept."""
        key = SigningKey.generate(bits or self.key_bits)
        self.keys[:] = [*self.keys, key] if keep_previous else [key]
        return key

    # -- tokens --------------------------------------------------------------------------

    def claims(self, lifetime: int = 300, **claims: Any) -> dict[str, Any]:
        """Valid ID-token claims for `sub` (default `analyst`), overridden by `claims`."""
        now = int(time.time())
        return {
            "iss": self.url,
            "sub": "analyst",
            "aud": self.audience,
            "iat": now,
            "exp": now + lifetime,
            **claims,
        }

    def mint(
        self,
        alg: str = "RS256",
        key: SigningKey | None = None,
        kid: Any = None,
        header: dict[str, Any] | None = None,
        lifetime: int = 300,
        **claims: Any,
    ) -> str:
        """A signed token: `claims` override the defaults; a claim set to OMIT is left out."""
        key = key or self.current_key
        protected = {"alg": alg, "typ": "JWT", "kid": key.kid if kid is None else kid}
        protected.update(header or {})
        payload = self.claims(lifetime, **claims)
        return sign_compact(
            {k: v for k, v in protected.items() if v is not OMIT},
            {k: v for k, v in payload.items() if v is not OMIT},
            key,
            alg,
        )

    def persona_token(self, name: str) -> dict[str, Any] | None:
        """`{"token", "expiresAt"}` of a persona, or None for a name it does not know."""
        if name not in self.personas:
            return None
        lifetime = self.persona_token_lifetime
        token = self.mint(lifetime=lifetime, **self.personas[name])
        return {"token": token, "expiresAt": int(time.time()) + lifetime}


def sign_compact(header: dict[str, Any], payload: dict[str, Any], key: SigningKey, alg: str) -> str:
    signing_input = f"{b64url_json(header)}.{b64url_json(payload)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii'), alg))}"


def _handler_for(issuer: OidcIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.requests[self.path] += 1
            if issuer.down:
                self.close_connection = True
                self.connection.close()
                return
            url = urlsplit(self.path)
            if url.path == PERSONA_TOKEN_PATH:
                self._persona_token(parse_qs(url.query).get("persona", [""])[0])
                return
            if self.path in issuer.redirects:
                self.send_response(302)
                self.send_header("Location", issuer.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            documents = {DISCOVERY_PATH: issuer.discovery_document, JWKS_PATH: issuer.jwks_document}
            if self.path in issuer.raw_responses:
                body = issuer.raw_responses[self.path]
            elif self.path in documents:
                body = json.dumps(documents[self.path]()).encode()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _persona_token(self, name: str) -> None:
            answer = issuer.persona_token(name)
            body = json.dumps(answer or {"message": f"no persona {name!r}"}).encode()
            self.send_response(200 if answer else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            origin = self.headers.get("Origin")
            if origin in issuer.cors_origins:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Vary", "Origin")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
