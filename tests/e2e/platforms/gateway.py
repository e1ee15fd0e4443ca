"""One local server that is every messaging platform's API, as the Rasa process sees it.

Rasa's channels reach their platforms in two ways, and the gateway is both:
- an HTTPS proxy (the documented HTTPS_PROXY of `requests` and `slack_sdk`): a CONNECT to
  `graph.facebook.com:443`, `api.twilio.com:443` or `slack.com:443` is answered here, TLS is
  terminated with a certificate from the run's own CA (`tls.py`), and the requests inside go to
  that host's stand-in. A CONNECT to any other host is refused and recorded in `refused`;
- a plain HTTP base URL for a client that has its own API-server setting (Telegram's local Bot
  API server): `http://127.0.0.1:<port>/<prefix>/...` goes to the stand-in of that prefix.

Every tunnel is recorded in `tunnels`, so a test can show that the platform traffic it expected
went through here and nowhere else.
"""

from __future__ import annotations

import json
import socketserver
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.e2e.platforms.tls import TestCertificates


@dataclass
class ApiRequest:
    method: str
    host: str  # the tunnelled host, or "127.0.0.1" for a plain request
    path: str  # without the query string (and without the plain-HTTP prefix)
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def form(self) -> dict[str, list[str]]:
        """The body as form fields, url-encoded or multipart (aiogram sends either)."""
        content_type = self.header("content-type") or ""
        if content_type.startswith("multipart/form-data"):
            return _multipart_fields(self.body, content_type)
        return urllib.parse.parse_qs(self.body.decode(), keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def fields(self) -> dict[str, Any]:
        """JSON or form fields as one flat mapping (a repeated form field keeps its last value)."""
        content_type = self.header("content-type") or ""
        if content_type.startswith("application/json"):
            data = self.json()
            return data if isinstance(data, dict) else {}
        return {name: values[-1] for name, values in self.form().items()}


@dataclass
class ApiResponse:
    status: int
    body: Any  # serialised as JSON
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[ApiRequest], ApiResponse]


def _multipart_fields(body: bytes, content_type: str) -> dict[str, list[str]]:
    boundary = content_type.split("boundary=", 1)[1].strip().strip('"').encode()
    fields: dict[str, list[str]] = {}
    for part in body.split(b"--" + boundary):
        part = part.strip(b"\r\n")
        if not part or part == b"--":
            continue
        head, _, value = part.partition(b"\r\n\r\n")
        disposition = next(
            (
                line
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-disposition")
            ),
            b"",
        ).decode()
        params = dict(
            item.strip().split("=", 1) for item in disposition.split(";")[1:] if "=" in item
        )
        name = params.get("name", "").strip('"')
        fields.setdefault(name, []).append(value.decode(errors="replace"))
    return fields


class PlatformGateway:
    """The HTTPS proxy and plain base URL in front of the platform stand-ins."""

    def __init__(
        self,
        certificates: TestCertificates,
        hosts: dict[str, Handler],
        prefixes: dict[str, Handler] | None = None,
    ) -> None:
        self.hosts = hosts
        self.prefixes = prefixes or {}
        self.tunnels: list[str] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()
        context = certificates.server_context()
        gateway = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            tunnel_host: str | None = None

            def do_CONNECT(self) -> None:
                host, _, port = self.path.rpartition(":")
                with gateway._lock:
                    gateway.tunnels.append(self.path)
                if host not in gateway.hosts or port != "443":
                    with gateway._lock:
                        gateway.refused.append(self.path)
                    self._answer(ApiResponse(403, {"error": f"no stand-in for {self.path}"}))
                    self.close_connection = True
                    return
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                tls = context.wrap_socket(self.connection, server_side=True)
                self.connection = tls
                self.rfile = tls.makefile("rb")
                self.wfile = socketserver._SocketWriter(tls)  # type: ignore[attr-defined]
                self.tunnel_host = host
                self.close_connection = False

            def _dispatch(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = urllib.parse.urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.tunnel_host is not None:
                    handler, host, path = (
                        gateway.hosts[self.tunnel_host],
                        self.tunnel_host,
                        target.path,
                    )
                else:
                    prefix, _, rest = target.path.lstrip("/").partition("/")
                    if target.scheme or prefix not in gateway.prefixes:
                        # A plain-HTTP proxy request (http://host/...) or an unknown prefix.
                        with gateway._lock:
                            gateway.refused.append(self.path)
                        self._answer(ApiResponse(403, {"error": f"no stand-in for {self.path}"}))
                        return
                    handler, host, path = gateway.prefixes[prefix], "127.0.0.1", "/" + rest
                request = ApiRequest(
                    self.command, host, path, urllib.parse.parse_qs(target.query), headers, body
                )
                try:
                    answer = handler(request)
                except Exception as error:  # a bug in a stand-in must show, not hang a client
                    answer = ApiResponse(500, {"error": f"stand-in failed: {error!r}"})
                self._answer(answer)

            do_GET = do_POST = do_DELETE = do_PUT = _dispatch

            def _answer(self, answer: ApiResponse) -> None:
                payload = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def base_url(self, prefix: str) -> str:
        return f"{self.url}/{prefix}"

    def start(self) -> PlatformGateway:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
