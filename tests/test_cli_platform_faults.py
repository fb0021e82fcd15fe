"""`./ddrc run` names the platform's own faults in one line, not a traceback.

A full disk cannot be produced here without root (a tmpfs needs mounting; RLIMIT_FSIZE
gives EFBIG, not ENOSPC): the OSError the kernel would raise is injected where the run
starts, and everything after it is the real CLI.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from ddrc_platform import cli


def test_a_full_disk_ends_the_run_with_one_line_naming_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    full = tmp_path / "logs" / "run.log"

    def disk_full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(full))

    monkeypatch.setenv("DDRC_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "enter", lambda settings, runs_dbt=True: None)
    monkeypatch.setattr(cli, "run", disk_full)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"no space left on the disk holding {full}" in err


def test_any_other_error_is_not_dressed_up_as_a_platform_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*args: object, **kwargs: object) -> int:
        raise KeyError("a bug of ours")

    monkeypatch.setenv("DDRC_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "enter", lambda settings, runs_dbt=True: None)
    monkeypatch.setattr(cli, "run", bug)
    with pytest.raises(KeyError):
        cli.main(["run"])
