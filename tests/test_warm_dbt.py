"""The warm dbt server (transform/warm.py): a fork per invocation that is the caller's
dbt in every way dagster-dbt can see (stdio, directory, environment, status, signals),
and dies with its caller. The pipeline tests run every dbt build through it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ddrc_platform.transform import warm
from ddrc_platform.transform.children import guarded_command, prepared_parses
from ddrc_platform.transform.manifests import DBT_PROJECT_DIR, PARTIAL_PARSE_FILE
from tests.process import wait_until

CALLER = "import sys; from pathlib import Path; from ddrc_platform.transform.warm import run; "
CALLER += "sys.exit(run(Path(sys.argv[1]), sys.argv[2:]))"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Path]:
    """A server whose 'dbt' is tests/warm_entry.py, stopped by its PID after the test."""
    path = warm.socket_path(tmp_path / "warm")
    path.parent.mkdir()
    process = warm.start(path, entry="tests.warm_entry:main", preload=(), schemas=(), parses=())
    try:
        wait_until(path.exists, 60, "waiting for the warm server to listen")
        yield path
    finally:
        assert warm.stop(path)
        process.wait(30)
        assert not path.exists()


def caller(path: Path, *args: str, cwd: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, "DDRC_PROBE": "from the caller"}
    return subprocess.Popen(
        [sys.executable, "-c", CALLER, str(path), *args], cwd=cwd, env=env, text=True, **popen
    )


def test_an_invocation_has_the_callers_stdio_directory_environment_and_status(server, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    process = caller(
        server, "echo", "3", cwd=work,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = process.communicate("a line on stdin\n", timeout=60)
    assert process.returncode == 3
    assert json.loads(out) == {
        "cwd": str(work),
        "probe": "from the caller",
        "args": ["echo", "3"],
        "imports_frozen": True,
        "stdin": "a line on stdin",
    }
    assert err == "to stderr\n"
    assert "dbt echo: pid " in warm.log_path(server).read_text()
    assert ", exit 3, " in warm.log_path(server).read_text()


def test_an_interrupt_of_the_caller_reaches_its_child(server, tmp_path):
    """dagster-dbt stops dbt with SIGINT: dbt gets it, and its status comes back."""
    process = caller(server, "wait", cwd=tmp_path, stdout=subprocess.PIPE)
    try:
        assert process.stdout.readline().startswith("ready ")
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 130
    finally:
        process.kill()


def test_a_killed_caller_takes_its_child_with_it(server, tmp_path):
    """A run that is SIGKILLed kills its caller (the parent-death signal): the child that
    holds the warehouse must not outlive it."""
    process = caller(server, "wait", cwd=tmp_path, stdout=subprocess.PIPE)
    try:
        child = int(process.stdout.readline().split()[1])
        process.kill()
        process.wait(30)
        wait_until(lambda: not warm.running(child), 30, "waiting for the orphaned child to die")
        wait_until(
            lambda: ", exit 137, " in warm.log_path(server).read_text(), 30, "the kill logged"
        )
    finally:
        process.kill()


@pytest.mark.slow  # starts dbt twice
def test_dbt_starts_warm_through_the_guard_and_its_server_starts_on_first_use(tmp_path):
    """The command the dbt resource runs reaches a server it starts itself, and is dbt."""
    executable, flags = guarded_command(tmp_path / "home", tmp_path / "warm")
    path = warm.socket_path(tmp_path / "warm")
    try:
        for _ in range(2):
            done = subprocess.run(
                [executable, *flags, "--version"], capture_output=True, text=True, timeout=180
            )
            assert done.returncode == 0 and "Core:" in done.stdout, done.stderr
        assert warm.log_path(path).read_text().count("dbt --version: pid ") == 2
    finally:
        assert warm.stop(path)


def test_what_a_child_compiles_from_a_parse_is_compiled_once_in_the_server(tmp_path, capsys):
    """The server compiles each macro of a prepared parse into dbt's template cache, which
    its children inherit; a parse it cannot read leaves the cache to the children."""
    from dbt_common.clients.jinja import template_cache

    [parse] = prepared_parses(["build", "--target", "local"])
    compiled = warm.compile_from_parse(parse)
    assert compiled > 100  # dbt's own macros, the adapters' and the project's
    assert len(template_cache.file_cache) >= compiled * 0.9  # a few macros share a text
    assert f"compiled from {parse}: {compiled} macros" in capsys.readouterr().out

    torn = tmp_path / "partial_parse.msgpack"
    torn.write_bytes(parse.read_bytes()[:1000])
    assert warm.compile_from_parse(torn) == 0
    assert f"not compiled from {torn}: " in capsys.readouterr().out


def test_a_server_is_given_the_prepared_parse_of_the_target_its_first_caller_names():
    local = DBT_PROJECT_DIR / "target" / "local" / PARTIAL_PARSE_FILE
    assert prepared_parses(["build", "--select", "x", "--target", "local"]) == [local]
    assert prepared_parses(["--version"]) == []
    assert prepared_parses(["build", "--target"]) == []  # dbt will say what is wrong
    assert prepared_parses(["build", "--target", "never-prepared"]) == []


@pytest.mark.slow  # imports dbt in the server
def test_the_server_compiles_from_its_parses_before_it_listens(tmp_path):
    path = warm.socket_path(tmp_path / "warm")
    path.parent.mkdir()
    [parse] = prepared_parses(["build", "--target", "local"])
    warm.start(path, "tests.warm_entry:main", preload=(), schemas=(), parses=[parse])
    try:
        wait_until(path.exists, 120, "waiting for the warm server to listen")
        assert f"compiled from {parse}: " in warm.log_path(path).read_text()
    finally:
        assert warm.stop(path)


@pytest.mark.slow  # starts dbt cold
def test_dbt_starts_cold_with_a_reason_when_no_server_can_start(tmp_path):
    (tmp_path / "a file").write_text("not a folder for sockets")
    executable, flags = guarded_command(tmp_path / "home", tmp_path / "a file")
    done = subprocess.run(
        [executable, *flags, "--version"], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0 and "Core:" in done.stdout
    assert "ddrc: warm dbt unavailable (" in done.stderr
    assert "starting dbt cold" in done.stderr


def test_a_server_that_closes_before_starting_dbt_leaves_it_to_start_cold(tmp_path, capfd):
    """A connection a server accepts and closes (it was ending its idle wait): nothing ran,
    so the caller starts dbt cold, and its own signal handlers are back."""
    path = warm.socket_path(tmp_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    closer = threading.Thread(target=lambda: listener.accept()[0].close())
    closer.start()
    handler = signal.getsignal(signal.SIGINT)
    try:
        assert warm.run(path, ["--version"]) is None
    finally:
        closer.join(30)
        listener.close()
    assert "warm dbt server closed; starting dbt cold" in capfd.readouterr().err
    assert signal.getsignal(signal.SIGINT) is handler


def test_stop_signals_only_a_server_of_its_own(tmp_path):
    path = warm.socket_path(tmp_path)
    warm.pid_path(path).write_text(f"{os.getpid()}\n")  # this test's process: not a server
    assert not warm.stop(path)
    assert not warm.stop(warm.socket_path(tmp_path / "none"))


def test_an_install_in_the_environment_names_a_new_server(tmp_path, monkeypatch):
    """Installing or upgrading a package changes site-packages: a server that imported the
    old dbt is not asked again (it idles out)."""
    packages = tmp_path / "site-packages"
    packages.mkdir()
    monkeypatch.setattr(warm.sysconfig, "get_paths", lambda: {"purelib": str(packages)})
    before = warm.socket_path(tmp_path)
    assert before == warm.socket_path(tmp_path) and before.parent == tmp_path
    os.utime(packages, ns=(0, packages.stat().st_mtime_ns + 1_000_000))
    assert warm.socket_path(tmp_path) != before


def test_a_change_of_the_servers_own_code_names_a_new_server(tmp_path, monkeypatch):
    """A pull that changes `warm.py` (what it preloads, how a child is set up) is not
    served by a server still running the old code."""
    code = tmp_path / "warm.py"
    code.write_text("# the server's code\n")
    monkeypatch.setattr(warm, "SERVER_CODE", code)
    before = warm.socket_path(tmp_path)
    assert before == warm.socket_path(tmp_path)
    os.utime(code, ns=(0, code.stat().st_mtime_ns + 1_000_000))
    assert warm.socket_path(tmp_path) != before
