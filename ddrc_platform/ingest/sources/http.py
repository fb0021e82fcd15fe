"""HTTP for sources that lie: timeouts, retries with backoff and jitter, clear errors.

The public servers we read fail in every way a server can: the city's permit server
drops connections, ArcGIS answers errors with HTTP 200, a federal server's TLS chain
has been broken, a server may trickle its answer a byte at a time. One client handles
all of it, so every loader gets the same patience, every request ends within a deadline
(connect and the whole body, not each socket read), and every failure names the source
and the URL (never a credential: URLs pass through the one redaction).
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
import urllib3

from ddrc_platform.core.redact import Redactor
from ddrc_platform.settings import HttpSettings

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_CHUNK = 64 * 1024
_PATTERNS_ONLY = Redactor()  # URL credentials and token parameters, whatever their values


class SourceError(RuntimeError):
    """A source could not be read. The message names the source, the URL and what went wrong.

    The URL is shown without credentials (`user:pass@`, `token=`): the message reaches
    logs, the event log, incidents and Slack.
    """

    def __init__(self, source: str, url: str, problem: str, *, retryable: bool = False) -> None:
        url = _PATTERNS_ONLY(url)
        super().__init__(f"{source}: {problem} (GET {url})")
        self.source = source
        self.url = url
        self.problem = problem
        self.retryable = retryable


class SourceDataError(SourceError):
    """The source answered, but what it delivered is wrong: retrying cannot help.

    Bad values, undecodable bytes, a layer whose object ids repeat: the owner of the
    data has to fix it (or we revert their change), so it is never retried.
    """

    def __init__(self, source: str, url: str, problem: str) -> None:
        super().__init__(source, url, problem, retryable=False)


class AnswerRejected(Exception):
    """Raised by a protocol `check` on a well-formed answer that is a failure (ArcGIS errors)."""

    def __init__(self, problem: str, *, retryable: bool) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retryable = retryable


def decode_strictly(body: bytes, encoding: str | None, source: str, url: str) -> str:
    """The body as text; undecodable bytes fail, never silently replaced by "\ufffd"
    (a wrong character would end up in the warehouse, and on the site)."""
    try:
        return body.decode(encoding or "utf-8")
    except UnicodeDecodeError as exc:
        raise SourceDataError(
            source,
            url,
            f"undecodable bytes at offset {exc.start} of a {len(body)}-byte answer "
            f"(not valid {exc.encoding})",
        ) from None


def _describe_body(body: bytes) -> str:
    text = body.decode("utf-8", errors="backslashreplace").strip().replace("\n", " ")
    return text[:200] + ("…" if len(text) > 200 else "")


@dataclass
class SourceClient:
    """GETs JSON from one source with the deployment's patience.

    `check` lets a protocol (ArcGIS) turn a well-formed answer into a failure, e.g. an
    error object sent with HTTP 200; such failures are retried like a 5xx when the
    check says so.
    """

    source: str  # the settings endpoint name (its CA bundle variable is named after it)
    http: HttpSettings
    tries: int | None = None
    ca_bundle: str | None = None  # None: the system trust store; verification is always on
    headers: Mapping[str, str] | None = None
    sleep: Callable[[float], None] = time.sleep
    title: str = ""  # how errors name the source (its catalog title); default: `source`

    def __post_init__(self) -> None:
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "ddrc-platform (+https://github.com/cagov)"
        self._session.headers.update(self.headers or {})
        self.title = self.title or self.source

    def error(self, url: str, problem: str, *, retryable: bool = False) -> SourceError:
        """A failure of this source at `url`, named by its title."""
        return SourceError(self.title, url, problem, retryable=retryable)

    def get_json(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        check: Callable[[Any], None] | None = None,
    ) -> Any:
        """The JSON answer; `check` may raise `AnswerRejected` for a failure sent as data."""
        shown = f"{url}?{urlencode(params)}" if params else url
        tries = self.tries or self.http.tries
        for attempt in range(1, tries + 1):
            try:
                payload = self._get_once(url, params, shown)
                if check is not None:
                    try:
                        check(payload)
                    except AnswerRejected as rejected:
                        raise self.error(
                            shown, rejected.problem, retryable=rejected.retryable
                        ) from None
                return payload
            except SourceError as error:
                if not error.retryable or attempt == tries:
                    if attempt > 1:
                        raise self.error(
                            shown, f"{error.problem}; gave up after {attempt} tries"
                        ) from error
                    raise
            # full jitter: spread retries of concurrent pages so they don't stampede
            cap = min(self.http.max_backoff, self.http.backoff * 2 ** (attempt - 1))
            self.sleep(random.uniform(cap / 2, cap))
        raise AssertionError("unreachable")

    def _get_once(self, url: str, params: Mapping[str, Any] | None, shown: str) -> Any:
        deadline = time.monotonic() + self.http.deadline
        try:
            # verify per request: requests lets REQUESTS_CA_BUNDLE override a Session.verify
            response = self._session.get(
                url,
                params=params,
                timeout=min(self.http.timeout, self.http.deadline),
                verify=self.ca_bundle or True,
                stream=True,
            )
            try:
                body = self._read_body(response, deadline, shown)
            finally:
                response.close()
        except requests.exceptions.SSLError as exc:
            raise self.error(
                shown,
                f"TLS verification failed ({type(exc).__name__}); if the server's chain is "
                f"broken, set DDRC_{self.source.upper()}_CA_BUNDLE to a CA bundle for it",
            ) from None
        except requests.exceptions.Timeout:
            raise self.error(
                shown, f"timed out after {self.http.timeout:g} s", retryable=True
            ) from None
        except (
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.ProtocolError,
            urllib3.exceptions.ReadTimeoutError,
        ) as exc:
            raise self.error(
                shown,
                f"connection dropped mid-answer ({type(exc).__name__}): a truncated body",
                retryable=True,
            ) from None
        except requests.exceptions.ConnectionError as exc:
            reason = type(exc.args[0]).__name__ if exc.args else type(exc).__name__
            raise self.error(shown, f"connection failed ({reason})", retryable=True) from None
        if response.status_code != 200:
            raise self.error(
                shown,
                f"HTTP {response.status_code}: {_describe_body(body)}",
                retryable=response.status_code in RETRYABLE_STATUS,
            )
        text = decode_strictly(body, response.encoding, self.title, shown)
        try:
            return json.loads(text)
        except ValueError:
            raise self.error(
                shown,
                f"malformed JSON in a {len(body)}-byte answer: {_describe_body(body)}",
                retryable=True,
            ) from None

    def _read_body(self, response: requests.Response, deadline: float, shown: str) -> bytes:
        """The whole body by the deadline: a server trickling bytes cannot hold a run forever.

        `read1` returns whatever one socket read brings, so the deadline is checked between
        reads however slowly the bytes come; each read waits at most the read timeout.
        A body shorter than its Content-Length raises (urllib3 enforces it): retried.
        """
        chunks: list[bytes] = []
        while True:
            if time.monotonic() > deadline:
                raise self.error(
                    shown,
                    f"no complete answer within {self.http.deadline:g} s "
                    f"({sum(map(len, chunks))} bytes so far): the server is trickling",
                    retryable=True,
                )
            chunk = response.raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def close(self) -> None:
        self._session.close()
