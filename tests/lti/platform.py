"""A test LTI platform: its own RSA keys and JWKS, a token endpoint and an AGS score endpoint,
served over real HTTP by a server the suite starts, and the ID tokens it signs for launches."""

import html
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from lectern.lti import claims as c
from tests.conftest import free_port

ISSUER_PREFIX = "https://platform.test/"
DEPLOYMENT = "deployment-1"
CLIENT_ID = "lectern-client"


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


class PlatformServer:
    """One platform; each test gets its own issuer so registrations never collide."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{ISSUER_PREFIX}{uuid.uuid4().hex[:8]}"
        self.key = rsa_key("platform-key-1")
        self.published = [self.key]
        self.jwks_fetches = 0
        self.token_requests: list[dict[str, str]] = []
        self.scores: list[dict[str, Any]] = []
        self.score_failures = 0  # answer 503 to this many score posts first
        self.launch_claims: dict[str, Any] = {}  # what its auth endpoint puts in ID tokens
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def registration(self, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "Test Moodle",
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "deployment_ids": [DEPLOYMENT],
            "jwks_url": f"{self.url}/jwks",
            "auth_login_url": f"{self.url}/auth",
            "auth_token_url": f"{self.url}/token",
        }
        body.update(fields)
        return body

    def line_item(self, name: str = "1") -> str:
        return f"{self.url}/lineitems/{name}/lineitem?course=7"

    def id_token(
        self,
        nonce: str,
        *,
        key: RSAKey | None = None,
        message_type: str = c.RESOURCE_LINK_REQUEST,
        **overrides: Any,
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "platform-user-1",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": "Ada Lovelace",
            "email": "ada@platform.test",
            c.VERSION: "1.3.0",
            c.MESSAGE_TYPE: message_type,
            c.DEPLOYMENT_ID: DEPLOYMENT,
            c.ROLES: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        }
        if message_type == c.RESOURCE_LINK_REQUEST:
            payload[c.RESOURCE_LINK] = {"id": "link-1"}
        else:
            payload[c.DEEP_LINKING_SETTINGS] = {
                "deep_link_return_url": f"{self.url}/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "data": "opaque-platform-data",
            }
        payload.update(overrides)
        payload = {name: value for name, value in payload.items() if value is not None}
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid, "typ": "JWT"}, payload, signer)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = urlsplit(self.path)
                if path.path == "/auth":
                    self._authenticate({k: v[0] for k, v in parse_qs(path.query).items()})
                elif self.path == "/jwks":
                    with platform.lock:
                        platform.jwks_fetches += 1
                        keys = [key.as_dict(private=False) for key in platform.published]
                    self._answer(200, {"keys": keys})
                else:
                    self._answer(404, {})

            def _authenticate(self, request: dict[str, str]) -> None:
                """The platform's side of the login: the browser posts the signed ID token
                back to the tool's redirect URI at once, as Moodle and Canvas do."""
                token = platform.id_token(request["nonce"], **platform.launch_claims)
                page = (
                    f'<form method="post" action="{html.escape(request["redirect_uri"])}">'
                    f'<input type="hidden" name="id_token" value="{html.escape(token)}">'
                    f'<input type="hidden" name="state" value="{html.escape(request["state"])}">'
                    "</form><script>document.forms[0].submit()</script>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                path = urlsplit(self.path)
                if path.path == "/token":
                    form = {k: v[0] for k, v in parse_qs(body).items()}
                    with platform.lock:
                        platform.token_requests.append(form)
                    self._answer(200, {"access_token": "score-token", "expires_in": 3600})
                elif path.path.endswith("/scores"):
                    with platform.lock:
                        if platform.score_failures > 0:
                            platform.score_failures -= 1
                            self._answer(503, {"error": "busy"})
                            return
                        platform.scores.append(
                            {
                                "path": self.path,
                                "authorization": self.headers.get("Authorization"),
                                "content_type": self.headers.get("Content-Type"),
                                "body": json.loads(body),
                            }
                        )
                    self._answer(200, {})
                else:
                    self._answer(404, {})

        return Handler

    def __enter__(self) -> "PlatformServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serving() -> Iterator[PlatformServer]:
    with PlatformServer() as platform:
        yield platform
