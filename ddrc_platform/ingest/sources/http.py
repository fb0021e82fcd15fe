"""HTTP for sources that lie: timeouts, retries with backoff and jitter, clear errors.

The public servers we read fail in every way a server can: the city's permit server
drops connections, ArcGIS answers errors with HTTP 200, a federal server's TLS chain
has been broken. One client handles all of it, so every loader gets the same patience
and every failure names the source and the URL (never a credential).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from ddrc_platform.settings import HttpSettings

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class SourceError(RuntimeError):
    """A source could not be read. The message names the source, the URL and what went wrong."""

    def __init__(self, source: str, url: str, problem: str, *, retryable: bool = False) -> None:
        super().__init__(f"{source}: {problem} (GET {url})")
        self.source = source
        self.url = url
        self.problem = problem
        self.retryable = retryable


def _describe_body(response: requests.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200] + ("…" if len(text) > 200 else "")


@dataclass
class SourceClient:
    """GETs JSON from one source with the deployment's patience.

    `check` lets a protocol (ArcGIS) turn a well-formed answer into a failure, e.g. an
    error object sent with HTTP 200; such failures are retried like a 5xx when the
    check says so.
    """

    source: str
    http: HttpSettings
    tries: int | None = None
    ca_bundle: str | None = None  # None: the system trust store; verification is always on
    headers: Mapping[str, str] | None = None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "ddrc-platform (+https://github.com/cagov)"
        self._session.headers.update(self.headers or {})

    def get_json(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        check: Callable[[Any, str], None] | None = None,
    ) -> Any:
        shown = f"{url}?{urlencode(params)}" if params else url
        tries = self.tries or self.http.tries
        for attempt in range(1, tries + 1):
            try:
                payload = self._get_once(url, params, shown)
                if check is not None:
                    check(payload, shown)
                return payload
            except SourceError as error:
                if not error.retryable or attempt == tries:
                    if attempt > 1:
                        raise SourceError(
                            self.source, shown, f"{error.problem}; gave up after {attempt} tries"
                        ) from error
                    raise
            # full jitter: spread retries of concurrent pages so they don't stampede
            cap = min(self.http.max_backoff, self.http.backoff * 2 ** (attempt - 1))
            self.sleep(random.uniform(cap / 2, cap))
        raise AssertionError("unreachable")

    def _get_once(self, url: str, params: Mapping[str, Any] | None, shown: str) -> Any:
        try:
            # verify per request: requests lets REQUESTS_CA_BUNDLE override a Session.verify
            response = self._session.get(
                url, params=params, timeout=self.http.timeout, verify=self.ca_bundle or True
            )
        except requests.exceptions.SSLError as exc:
            raise SourceError(
                self.source,
                shown,
                f"TLS verification failed ({type(exc).__name__}); if the server's chain is "
                f"broken, set DDRC_{self.source.upper()}_CA_BUNDLE to a CA bundle for it",
            ) from None
        except requests.exceptions.Timeout:
            raise SourceError(
                self.source, shown, f"timed out after {self.http.timeout:g} s", retryable=True
            ) from None
        except requests.exceptions.ConnectionError as exc:
            reason = type(exc.args[0]).__name__ if exc.args else type(exc).__name__
            raise SourceError(
                self.source, shown, f"connection failed ({reason})", retryable=True
            ) from None
        if response.status_code != 200:
            raise SourceError(
                self.source,
                shown,
                f"HTTP {response.status_code}: {_describe_body(response)}",
                retryable=response.status_code in RETRYABLE_STATUS,
            )
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError):
            # a truncated body is usually a dropped connection: worth another try
            raise SourceError(
                self.source,
                shown,
                f"malformed JSON in a {len(response.content)}-byte answer: "
                f"{_describe_body(response)}",
                retryable=True,
            ) from None

    def close(self) -> None:
        self._session.close()
