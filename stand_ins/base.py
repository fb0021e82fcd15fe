"""A small threaded HTTP server on 127.0.0.1 that stand-ins for the real services build on.

Tests, benchmarks and local demos need servers that speak the real protocols (ArcGIS
REST, the Malibu permit server, Airtable, Slack, Fivetran). Each stand-in subclasses
`StandIn` and implements `handle`; faults (HTTP errors, error bodies, malformed
JSON, slow answers, bodies trickled a byte at a time, connections dropped mid-body) are
queued per path so a test can say "fail this page twice,
then answer" without touching the stand-in's logic. Faults also cover what a server
asks of its client: wait (`429` with `Retry-After`) or go elsewhere (a redirect).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

POLL_SECONDS = 0.02  # how often the serve loop checks for stop()


@dataclass
class Request:
    """What a stand-in sees of one request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)
    trickle: float = 0.0  # seconds between single bytes of the body (a server that stalls)
    drop_after: int | None = None  # close the connection after this many body bytes

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> Response:
        return cls(
            status,
            json.dumps(payload, separators=(",", ":")).encode(),
            {"Content-Type": "application/json", **headers},
        )


@dataclass(frozen=True)
class Fault:
    """One planned misbehaviour, served instead of the real answer to a matching request."""

    response: Response
    then_answer: bool = False  # with a delay: answer normally after waiting

    @classmethod
    def status(cls, status: int, body: str = "", **headers: str) -> Fault:
        return cls(Response(status, body.encode(), {"Content-Type": "text/plain", **headers}))

    @classmethod
    def arcgis_error(
        cls, code: int = 500, message: str = "Error performing query operation"
    ) -> Fault:
        """ArcGIS's way of failing: HTTP 200 with an error object in the body."""
        return cls(Response.json({"error": {"code": code, "message": message, "details": []}}))

    @classmethod
    def rate_limited(cls, retry_after: int | str) -> Fault:
        """HTTP 429 asking the client to come back after `retry_after` (seconds or a date)."""
        return cls.status(429, "Too Many Requests", **{"Retry-After": str(retry_after)})

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Fault:
        """A redirect to `location` (another path, or another host or port)."""
        return cls(Response(status, b"", {"Location": location}))

    @classmethod
    def malformed_json(cls) -> Fault:
        return cls(
            Response(200, b'{"features": [{"attributes": ', {"Content-Type": "application/json"})
        )

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls(Response(delay=seconds), then_answer=True)

    @classmethod
    def trickle(cls, seconds_per_byte: float) -> Fault:
        """The real answer, one byte at a time: each read succeeds, the body never ends."""
        return cls(Response(trickle=seconds_per_byte), then_answer=True)

    @classmethod
    def dropped(cls, after_bytes: int = 10) -> Fault:
        """The real answer's headers and first bytes, then the connection closes."""
        return cls(Response(drop_after=after_bytes), then_answer=True)


class StandIn:
    """Base of the stand-ins: start(), stop(), url, faults, and a log of requests."""

    def __init__(self) -> None:
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._always: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._scheme = "http"

    # -- lifecycle -------------------------------------------------------------------
    def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> StandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                stand_in._dispatch(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        if tls is not None:  # a source whose certificate the system does not trust
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._scheme = "https" if tls is not None else "http"
        # stop() waits for the serve loop's next poll: at the default 0.5 s every test that
        # starts a stand-in paid half a second just to stop it
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StandIn:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "stand-in not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self.port}"

    # -- faults ----------------------------------------------------------------------
    def fail_next(self, path: str, *faults: Fault) -> None:
        """Serve these faults, in order, to the next requests whose path starts with `path`."""
        with self._lock:
            self._faults[path].extend(faults)

    def fail_always(self, path: str, fault: Fault) -> None:
        with self._lock:
            self._always[path] = fault

    def heal(self) -> None:
        with self._lock:
            self._faults.clear()
            self._always.clear()

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(path)]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for prefix, queue in self._faults.items():
                if queue and path.startswith(prefix):
                    return queue.popleft()
            for prefix, fault in self._always.items():
                if path.startswith(prefix):
                    return fault
        return None

    # -- dispatch --------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(
            method=handler.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        if request.method == "POST" and "form" in request.headers.get("content-type", ""):
            request.query = {**request.query, **request.form()}
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(request.path)
        if fault is not None and not fault.then_answer:
            response = fault.response
        else:
            if fault is not None:
                time.sleep(fault.response.delay)
            try:
                response = self.handle(request)
            except Exception as exc:  # a stand-in bug should look like a server error
                response = Response(500, f"stand-in error: {exc!r}".encode())
            if fault is not None:  # how the real answer is sent
                planned = fault.response
                response = replace(response, trickle=planned.trickle, drop_after=planned.drop_after)
        if response.delay:
            time.sleep(response.delay)
        try:
            handler.send_response(response.status)
            for name, value in response.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(response.body)))
            handler.end_headers()
            if response.drop_after is not None:
                handler.wfile.write(response.body[: response.drop_after])
                handler.wfile.flush()
                handler.close_connection = True
            elif response.trickle:
                for byte in range(len(response.body)):
                    handler.wfile.write(response.body[byte : byte + 1])
                    handler.wfile.flush()
                    time.sleep(response.trickle)
            else:
                handler.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass
