"""Making an earlier public version live again, and keeping it live until released.

A rollback the next scheduled run undoes is no fix: `rollback` restores a version the
public has seen and **pins** it (`Publisher.set_pin`, beside the file), and the publish
asset holds while a pin is set. `release` lifts the pin; the next publish then goes
through the usual checks. Both run as the job `ddrc_rollback` (`defs/publish/rollback.py`,
launchable from the UI; `./ddrc rollback` launches the same job), which records the
restored version on the publish asset and tells responders through whatever `Responders`
it wires (the incident store), so publishing itself knows nothing of incidents.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ddrc_platform.core import commands
from ddrc_platform.publish import document as publication
from ddrc_platform.publish.targets.base import Pin, Publisher

RELEASE_HINT = f"release with `{commands.release()}` or the job ddrc_rollback with release: true"
SEE_VERSIONS = f"see `{commands.versions()}`"
# the gate's metadata entry naming the pin it held for: a person's choice, not a failed check
PIN_METADATA = "pinned"


def listing(versions: list[str], live_hash: str | None, pin: Pin | None) -> list[str]:
    """`./ddrc versions`: one line per history version, oldest first, then the pin.

    A rollback republishes an old content, so two versions can hold the live file's
    content: the live one is the newest of them (the one that went live last), and only it
    is marked. A pin says it holds the live file, and which version it restored.
    """
    live = f"-{live_hash[:12]}.json" if live_hash else None
    current = next((v for v in reversed(versions) if live and v.endswith(live)), None)
    held = pin is not None and live_hash == pin.content_hash
    lines = []
    for name in versions:
        marks = ["live" + (", held by the pin" if held else "")] if name == current else []
        if pin is not None and name == pin.version:
            marks.append("pinned")
        lines.append(f"{name}  {'; '.join(marks)}".rstrip())
    footer = f"{pin.describe()}; {RELEASE_HINT}" if pin else "not pinned"
    return [*lines, footer]


class RollbackError(RuntimeError):
    """There is nothing (or no such version) to roll back to; nothing changed."""


def unknown_version(to: str) -> RollbackError:
    """The refusal of a version the history does not hold; a path (`../live.json`,
    `/etc/passwd`) is named as one, so a responder sees why it cannot be a version."""
    if any(c in to for c in "/\\") or to.startswith("."):
        return RollbackError(f"{to!r} is a path, not a version name; {SEE_VERSIONS}")
    return RollbackError(f"no version {to!r}; {SEE_VERSIONS}")


def previous_public_version(publisher: Publisher) -> str:
    """The newest history version whose content is not the live file's."""
    current = publisher.current()
    live = publication.content_hash(current)[:12] if current else None
    earlier = [v for v in publisher.versions() if not v.endswith(f"-{live}.json")]
    if not earlier:
        raise RollbackError("no earlier version to roll back to")
    return earlier[-1]


def rollback(publisher: Publisher, to: str | None, at: datetime, by: str) -> Pin:
    """Make a public version live again (recorded as a new history version) and pin it.

    The pin is set before the file is replaced, so a publish starting meanwhile already
    holds rather than overwriting the restored file.
    """
    if to is None:
        to = previous_public_version(publisher)
    elif to not in publisher.versions():
        raise unknown_version(to)
    content = publisher.version(to)
    publication.validate(content)
    pin = Pin(to, publication.content_hash(content), at, by)
    publisher.set_pin(pin)
    if publisher.current() != content:
        publisher.publish(content, at)
    return pin


def release(publisher: Publisher) -> Pin | None:
    """Lift the pin (the one lifted, or None if there was none)."""
    pin = publisher.pin()
    publisher.set_pin(None)
    return pin


@dataclass(frozen=True)
class RollbackDone:
    """What a rollback or a release did, for the record and for responders."""

    pin: Pin  # set by the rollback, or lifted by the release
    released: bool

    @property
    def note(self) -> str:
        if self.released:
            return (
                f"Pin released ({self.pin.describe()}): the next publish goes through the checks."
            )
        return f"Rolled back: {self.pin.describe()}; publishing holds ({RELEASE_HINT})."


def roll_back_or_release(
    publisher: Publisher, *, to: str | None, lift: bool, at: datetime, by: str
) -> RollbackDone | None:
    """None: a release found nothing pinned, so there is nothing to record or tell."""
    if not lift:
        return RollbackDone(rollback(publisher, to, at, by), released=False)
    pin = release(publisher)
    return None if pin is None else RollbackDone(pin, released=True)


class Responders(Protocol):
    """Who hears of a rollback. The caller wires its incident desk in: the incidents' sensor
    imports the publish stage, so an import the other way would close a cycle."""

    def report_hold(self, note: str) -> None:
        """The hold a pin causes, as the incident a pinned publish reports."""
        ...

    def note(self, text: str) -> None:
        """A line on every open incident: what a responder did."""
        ...


def tell_responders(done: RollbackDone, responders: Responders, run_url: str) -> None:
    """The hold itself is an incident (the one a pinned publish run reports), so responders
    see the pin where they look, until the gate passes again."""
    if not done.released:
        responders.report_hold(done.note)
    responders.note(f"{done.note} Run: {run_url}")
