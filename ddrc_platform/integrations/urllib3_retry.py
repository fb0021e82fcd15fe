"""urllib3's `Retry` with every wait bounded by one per-request deadline.

pyairtable retries through urllib3 (its `retry_strategy=` takes any `Retry`), which honours
a `Retry-After` of up to six hours and sleeps it, outside any deadline of ours: a 429 with
`Retry-After: 3600` held a run for an hour. `DeadlineRetry` is such a strategy whose
`sleep` (urllib3's one place of waiting, before each retry) first checks the wait against
what is left of the request's deadline and refuses it with `WaitBeyondDeadline`.

The library internal it leans on (guarded by tests/test_integrations_sources.py): urllib3
builds each retry's successor with `new(**kw)`, passing `kw` on to the constructor, so
the deadline and the request's start travel from one retry to the next.
"""

from __future__ import annotations

import math
import time
from typing import Any, Self

from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from ddrc_platform.ingest.sources.http import Deadline


class DeadlineRetry(Retry):
    """A `Retry` whose waits (`Retry-After` honoured, or backoff) must fit the deadline.

    The deadline of a request starts at its first retry decision: urllib3 gives the
    strategy no earlier moment, and the first answer itself is bounded by the timeout.
    """

    def __init__(
        self, *args: Any, deadline: float = math.inf, started: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline
        self.started = started

    def new(self, **kw: Any) -> Self:
        started = self.started if self.started is not None else time.monotonic()
        return super().new(**{"deadline": self.deadline, "started": started, **kw})

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """Wait as urllib3 would (a `Retry-After` of 0 means backoff), if the wait fits."""
        asked = None
        if self.respect_retry_after_header and response is not None:
            asked = self.get_retry_after(response)
        wait = asked or self.get_backoff_time()
        started = self.started if self.started is not None else time.monotonic()
        Deadline(self.deadline, started).check_wait(wait, asked=bool(asked))
        if wait > 0:
            time.sleep(wait)
