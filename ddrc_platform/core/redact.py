"""Keep secrets out of everything that leaves the process: the one redaction.

Incidents, Slack messages, exceptions of the Snowflake and Azure clients all pass through
`Redactor`. Error text is the riskiest part: connection strings, request URLs with SAS
signatures and tokens end up in exception messages. Two nets catch them: the exact values
of the deployment's secrets (the settings pass every secret), and patterns for
credentials whose value we were never given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

REDACTED = "[REDACTED]"

_KEYS = r"(?:password|passwd|pwd|passphrase|secret|api[_-]?key|token)"

# (pattern, replacement): the replacement keeps the key name so the text stays readable.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # credentials in a URL's user part: https://user:password@host, https://token@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@\"'<>]+@"), rf"\1{REDACTED}@"),
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        REDACTED,
    ),
    (re.compile(r"https://hooks\.slack\.com/services/[^\s\"'<>|]+"), REDACTED),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"\bpat[A-Za-z0-9]{10,}\.[A-Za-z0-9]{20,}"), REDACTED),  # Airtable token
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"(?i)\b(AccountKey|SharedAccessSignature)=[^;\s\"']+"), rf"\1={REDACTED}"),
    (re.compile(r"(?i)([?&]sig=)[^&\s\"']+"), rf"\1{REDACTED}"),
    # key=value (URLs, connection strings, env dumps), any credential-like key name
    (re.compile(rf"(?i)\b([\w-]{{0,40}}?{_KEYS})=[^\s;&,\"']+"), rf"\1={REDACTED}"),
    # "key": "value" (JSON, dict reprs)
    (
        re.compile(rf"(?i)\b([\w-]{{0,40}}?{_KEYS}[\"']?\s*:\s*)([\"'])[^\"']*\2"),
        rf"\1\2{REDACTED}\2",
    ),
    # password: value (YAML, log lines); not "token: ..." which is ordinary error prose
    (re.compile(r"(?i)\b((?:password|passwd|passphrase)\s*:\s*)[^\s;&,\"']+"), rf"\1{REDACTED}"),
)

_MARGIN = 8192  # longer than any secret we redact
_MIN_SECRET_LENGTH = 4  # shorter values would redact ordinary words and digits


_SECRET_PARAMS = re.compile(rf"(?i){_KEYS}$|^(?:sig|code|key)$")


def url_secrets(url: str) -> list[str]:
    """The credential parts of a URL: its user part and the values of token-like parameters.

    A source URL variable may carry them (`https://user:pass@host/...`, `...?token=...`):
    the settings add these to the deployment's secrets, so their exact values are redacted
    even where a message shows them without their URL around them.
    """
    parts = urlsplit(url)
    # a user part alone (`https://TOKEN@host`) is the credential; with a password, the password
    found = [parts.password or parts.username] if parts.username else []
    found += [v for k, v in parse_qsl(parts.query) if v and _SECRET_PARAMS.search(k)]
    return found


class Redactor:
    """Replaces known secret values and credential-shaped text with "[REDACTED]"."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if not secret or len(secret) < _MIN_SECRET_LENGTH:
                continue
            # a message may quote part of a PEM key: each line of its body counts too
            forms |= {
                line for line in secret.splitlines() if len(line) >= 16 and "-----" not in line
            }
            # as written, as repr() escapes it, and as it appears inside URLs
            forms |= {
                secret,
                secret.encode("unicode_escape").decode(),
                quote(secret, safe=""),
                quote_plus(secret),
            }
        self._secrets = sorted(forms, key=len, reverse=True)  # longest first: no partial leftovers

    def knows_secret_in(self, text: str) -> bool:
        """Whether `text` holds one of the known secret values (patterns aside)."""
        return any(secret in text for secret in self._secrets)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def _head_and_tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = limit // 3
    tail = limit - head - 3
    return f"{text[:head]}\n…\n{text[-tail:]}"


def excerpt(text: str, limit: int = 1500) -> str:
    """Shorten error text: its first paragraph (the error's own message) whole, then the head
    (what failed) and the tail (the final exception) of the rest.

    Call it on redacted text only: cutting first could leave a secret's unmatched half.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    message, _, rest = text.partition("\n\n")
    if rest and len(message) <= limit * 2 // 3:
        return f"{message}\n\n{_head_and_tail(rest.strip(), limit - len(message) - 2)}"
    return _head_and_tail(text, limit)


def redacted_excerpt(text: str, redact: Redactor, limit: int = 1500) -> str:
    """Redact, then shorten; huge logs are first cut to the windows the excerpt keeps.

    The windows reach `_MARGIN` characters past what the excerpt keeps, so a secret cut
    in half at a window's edge lies in the part the excerpt drops anyway, while the
    regexes never have to scan megabytes of log.
    """
    text = text.strip()
    if len(text) > limit + 2 * _MARGIN:
        window = limit + _MARGIN  # the excerpt keeps less than `limit` from either end
        text = f"{text[:window]}\n…\n{text[-window:]}"
    return excerpt(redact(text), limit)
