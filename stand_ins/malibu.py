"""A stand-in for the City of Malibu's permit server: four JSON list endpoints under /Home/.

The real server is an ASP.NET application: routes are case-insensitive, a trailing slash
is optional, query strings such as `sFireView` pick a database view that this stand-in
does not need, and an unknown route gets IIS's HTML 404 page rather than JSON.
"""

from __future__ import annotations

import json
import threading

from stand_ins.base import Request, Response, StandIn

ENDPOINTS = (
    "PalisadesPermitsIssued_Read",
    "OverallRebuildStatsPie_Read",
    "FireRebuildVisitPoints",
    "FireRebuildPoints",
)
_NOT_FOUND = b"<html><body><h2>404 - File or directory not found.</h2></body></html>"


class MalibuServer(StandIn):
    """Serves `endpoints[name]` at `{prefix}/Home/{name}` for each name given."""

    def __init__(self, endpoints: dict[str, object] | None = None, *, prefix: str = "") -> None:
        super().__init__()
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self._endpoints: dict[str, bytes] = {}
        self._endpoints_lock = threading.Lock()
        self.set_endpoints(endpoints or {})

    def set_endpoints(self, endpoints: dict[str, object]) -> None:
        """Replace every answer at once; a missing name is a 404, as a removed route is.

        Values are served as given (normally lists of objects), so a test can make the
        city return something that is not a list.
        """
        encoded = {name.lower(): json.dumps(rows).encode() for name, rows in endpoints.items()}
        with self._endpoints_lock:
            self._endpoints = encoded

    @property
    def base_url(self) -> str:
        """What a client puts before `/Home/...`."""
        return self.url + self.prefix

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/").lower()
        home = f"{self.prefix}/home/".lower()
        if path.startswith(home):
            with self._endpoints_lock:
                body = self._endpoints.get(path.removeprefix(home))
            if body is not None:
                return Response(200, body, {"Content-Type": "application/json; charset=utf-8"})
        return Response(404, _NOT_FOUND, {"Content-Type": "text/html"})
