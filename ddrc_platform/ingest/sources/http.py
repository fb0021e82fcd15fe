"""HTTP for sources that lie: timeouts, retries with backoff and jitter, clear errors.

The public servers we read fail in every way a server can: the city's permit server
drops connections, ArcGIS answers errors with HTTP 200, a federal server's TLS chain
has been broken, a server may trickle its answer a byte at a time. One client handles
all of it, so every loader gets the same patience, every request ends within one deadline
(its tries, their bodies and every wait between them, however the server trickles or
however long its `Retry-After`), redirects stay on the host we were told to read (so a
credential never leaves it), and every failure names the source and the URL (never a
credential: URLs pass through the one redaction).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import urllib3
from urllib3.util.retry import Retry

from ddrc_platform.core.redact import Redactor
from ddrc_platform.settings import HttpSettings

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_REDIRECTS = 5  # a redirect loop on the source's own host ends here, as a clear error
_CHUNK = 64 * 1024
_PATTERNS_ONLY = Redactor()  # URL credentials and token parameters, whatever their values
_DEFAULT_PORTS = {"http": 80, "https": 443}
# how urllib3 reports a connection that dropped mid-body, read outside requests' wrappers
_DROPPED = (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError)
log = logging.getLogger(__name__)


class SourceError(RuntimeError):
    """A source could not be read. The message names the source, the URL and what went wrong.

    The URL is shown without credentials (`user:pass@`, `token=`): the message reaches
    logs, the event log, incidents and Slack.
    """

    def __init__(
        self,
        source: str,
        url: str,
        problem: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        url = _PATTERNS_ONLY(url)
        super().__init__(f"{source}: {problem} (GET {url})")
        self.source = source
        self.url = url
        self.problem = problem
        self.retryable = retryable
        self.retry_after = retry_after  # seconds the server asked us to wait (`Retry-After`)


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


class WaitBeyondDeadline(Exception):
    """A wait before the next try (the server's `Retry-After` or our backoff) that does not
    fit in what is left of the request's deadline: the load fails now, clearly, instead of
    holding the run (an hour, for Airtable's `Retry-After: 3600`); the sensor retries later."""

    def __init__(self, seconds: float, deadline: float, left: float, *, asked: bool) -> None:
        what = "the server asked to retry after" if asked else "the next try would wait"
        # a wait longer than the whole deadline says so; a shorter one, what was left of it
        spent = f" ({max(left, 0):.1f} s of it left)" if seconds <= deadline else ""
        super().__init__(
            f"{what} {seconds:g} s, beyond the {deadline:g} s deadline{spent}; "
            "not waiting (the next run tries again)"
        )
        self.problem = str(self)


@dataclass
class Deadline:
    """One request's deadline: its tries, their bodies and every wait between them."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def check_wait(self, seconds: float, *, asked: bool) -> None:
        """Raise `WaitBeyondDeadline` unless waiting `seconds` leaves the deadline standing."""
        if seconds > self.left:
            raise WaitBeyondDeadline(seconds, self.seconds, self.left, asked=asked)


def retry_after(response: requests.Response) -> float | None:
    """The wait a 429/503 asks for (`Retry-After`: seconds or an HTTP date), if any.

    Parsed as urllib3 parses it for the clients it retries (pyairtable's), so both kinds
    of client read the header alike; an unreadable header is no request at all.
    """
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        return Retry(0).parse_retry_after(header)
    except urllib3.exceptions.InvalidHeader:
        return None


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: what a credential is bound to."""
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme)


def without_query(url: str) -> str:
    """A URL fit for a log line: no query string (tokens travel there), no user part."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host, query="", fragment="").geturl()


def same_host_redirects(source: str) -> Callable[..., None]:
    """A `requests` response hook: follow redirects on the source's own host only.

    requests follows any redirect it is sent; a query-string token travels with it, and an
    answer from another host would be taken for the source's. The hook runs on each answer
    before requests follows it, so a redirect to another scheme, host or port is refused
    before anything is sent there; one on the same host is followed, with a warning.
    """

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if not response.is_redirect:
            return
        target = urljoin(response.url, response.headers["location"])
        if origin(target) != origin(response.url):
            response.close()
            raise SourceError(
                source,
                response.url,
                f"HTTP {response.status_code} redirect to another host "
                f"({without_query(target)}): refused, a source is read from its own host only",
            )
        log.warning(
            "%s: following an HTTP %s redirect from %s to %s",
            source,
            response.status_code,
            without_query(response.url),
            without_query(target),
        )

    return hook


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
        self._session.max_redirects = MAX_REDIRECTS
        self.title = self.title or self.source
        self._session.hooks["response"].append(same_host_redirects(self.title))

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
        """The JSON answer; `check` may raise `AnswerRejected` for a failure sent as data.

        Tries, bodies and waits all count against one deadline: a retry whose wait (the
        server's `Retry-After`, honoured, or our jittered backoff) would pass it fails now.
        """
        shown = f"{url}?{urlencode(params)}" if params else url
        tries = self.tries or self.http.tries
        deadline = Deadline(self.http.deadline)
        for attempt in range(1, tries + 1):
            try:
                return self._checked(self._get_once(url, params, shown, deadline), check, shown)
            except SourceError as error:
                if not error.retryable or attempt == tries or deadline.left <= 0:
                    if attempt == 1:
                        raise
                    problem = f"{error.problem}; gave up after {attempt} tries"
                    raise self.error(shown, problem) from error
                wait = error.retry_after or self._backoff(attempt)
                try:
                    deadline.check_wait(wait, asked=bool(error.retry_after))
                except WaitBeyondDeadline as refused:
                    problem = f"{error.problem}; {refused.problem}"
                    raise self.error(shown, problem) from None
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _checked(self, payload: Any, check: Callable[[Any], None] | None, shown: str) -> Any:
        if check is not None:
            try:
                check(payload)
            except AnswerRejected as rejected:
                raise self.error(shown, rejected.problem, retryable=rejected.retryable) from None
        return payload

    def _backoff(self, attempt: int) -> float:
        """Full jitter: spread retries of concurrent pages so they don't stampede."""
        cap = min(self.http.max_backoff, self.http.backoff * 2 ** (attempt - 1))
        return random.uniform(cap / 2, cap)

    def _get_once(
        self, url: str, params: Mapping[str, Any] | None, shown: str, deadline: Deadline
    ) -> Any:
        # the read timeout, or less when the deadline is nearer: the error names which
        timeout = max(0.001, min(self.http.timeout, deadline.left))
        try:
            # verify per request: requests lets REQUESTS_CA_BUNDLE override a Session.verify
            response = self._session.get(
                url,
                params=params,
                timeout=timeout,
                verify=self.ca_bundle or True,
                stream=True,
            )
            try:
                body = self._read_body(response, deadline, shown)
            finally:
                response.close()
        except (requests.exceptions.RequestException, *_DROPPED) as exc:
            raise self._failed(exc, shown, timeout) from None
        if response.status_code != 200:
            raise SourceError(
                self.title,
                shown,
                f"HTTP {response.status_code}: {_describe_body(body)}",
                retryable=response.status_code in RETRYABLE_STATUS,
                retry_after=retry_after(response),
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

    def _failed(self, exc: Exception, shown: str, timeout: float) -> SourceError:
        """What a failed exchange means, and whether another try can help."""
        if isinstance(exc, requests.exceptions.SSLError):
            return self.error(
                shown,
                f"TLS verification failed ({type(exc).__name__}); if the server's chain is "
                f"broken, set DDRC_{self.source.upper()}_CA_BUNDLE to a CA bundle for it",
            )
        if isinstance(exc, requests.exceptions.Timeout):
            if timeout < self.http.timeout:  # a responder must not hunt a slow 60 s server
                waited = f"{timeout:.2g} s, the rest of its {self.http.deadline:g} s deadline"
            else:
                waited = f"{timeout:g} s"
            return self.error(shown, f"timed out after {waited}", retryable=True)
        if isinstance(exc, (requests.exceptions.ChunkedEncodingError, *_DROPPED)):
            return self.error(
                shown,
                f"connection dropped mid-answer ({type(exc).__name__}): a truncated body",
                retryable=True,
            )
        if isinstance(exc, requests.exceptions.TooManyRedirects):
            return self.error(shown, f"more than {MAX_REDIRECTS} redirects on the source's host")
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = type(exc.args[0]).__name__ if exc.args else type(exc).__name__
            return self.error(shown, f"connection failed ({reason})", retryable=True)
        return self.error(shown, f"request failed ({type(exc).__name__})")

    def _read_body(self, response: requests.Response, deadline: Deadline, shown: str) -> bytes:
        """The whole body by the deadline: a server trickling bytes cannot hold a run forever.

        `read1` returns whatever one socket read brings, so the deadline is checked between
        reads however slowly the bytes come; each read waits at most the read timeout.
        A body shorter than its Content-Length raises (urllib3 enforces it): retried.
        """
        chunks: list[bytes] = []
        while True:
            if deadline.left <= 0:
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
