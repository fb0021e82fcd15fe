"""A warm dbt: dbt's imports are paid once per machine, not once per invocation.

Every dbt that a run starts spent 3-5 s importing dbt-core and its adapters before it
touched a node: at sample scale that is a third of a whole run, and most of a one-source
change (`./ddrc bench`). dagster-dbt can only start dbt as a subprocess, so the subprocess
is made cheap instead: a small server imports dbt once, listens on a Unix socket private
to this user, and forks a child per invocation. The child takes the caller's stdin, stdout
and stderr (passed over the socket), working directory, environment and arguments, then
runs dbt's own command line: what dagster-dbt reads is what a cold `dbt` prints, and each
invocation starts from the same freshly imported state (a fork), never from another's.
Before it forks, the server also does once what every invocation did for itself: the
imports dbt makes late, its JSON schemas, a first walk of the stack, and what dbt compiles
from the target's parse (`compile_from_parse`). `docs/dbt-invocations.md` has the figures.

The caller (`children.py`, the command dagster-dbt starts) stays the process dagster-dbt
waits on and signals: it forwards SIGINT/SIGTERM to the child and exits with the child's
status. Between them sits a supervisor per invocation that reports the child's status and
SIGKILLs it when the caller disappears (the run was killed), so dbt still dies with its run.

The server starts on first use, keyed by this environment's packages and its own code (an
upgrade, or a pull that changes this module, gets a new one), and exits after
`IDLE_SECONDS` without work. Where it cannot start, dbt starts cold, with one line on
stderr saying why.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import hashlib
import importlib
import inspect
import io
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import sysconfig
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any

MODULE = "ddrc_platform.transform.warm"
DBT_ENTRY = "dbt.cli.main:cli"
# what `dbt build` imports after `dbt.cli.main` (measured: the rest loads at invocation)
DBT_PRELOAD = (
    "dbt.adapters.duckdb",
    "dbt.adapters.duckdb.impl",
    "dbt.adapters.snowflake",
    "dbt.compilation",
    "dbt.graph.thread_pool",
    "dbt.parser.manifest",
    "dbt.parser.schema_yaml_readers",
    "dbt.parser.sql",
    "dbt.task.build",
    "daff",
    "sqlparse",
    # imported by each invocation itself (sys.modules around one `dbt build`): a second of
    # a one-source build (3.0-3.6 s -> 2.2 s) went to importing them in every child
    "babel.dates",
    "dbt_common.clients.agate_helper",
    "dbt.adapters.duckdb.environments.local",
    "dbt.contracts.selection",
    "dbt.task.test",
    "google.protobuf.descriptor_pb2",
    "multiprocessing.dummy",
)
# the configurations every invocation validates against a JSON schema that dbt builds from
# the class at its first use (lru-cached): built here, once, they are every child's
DBT_SCHEMAS = (
    "dbt.contracts.project:Configuration",
    "dbt.contracts.project:PackageConfig",
    "dbt.contracts.project:ProfileConfig",
    "dbt.contracts.project:Project",
    "dbt.contracts.project:ProjectFlags",
    "dbt.contracts.selection:SelectorFile",
    "dbt.task.test:TestResultData",
    "dbt_common.contracts.constraints:ColumnLevelConstraint",
    "dbt.adapters.duckdb.credentials:DuckDBCredentials",
    "dbt.adapters.snowflake.connections:SnowflakeCredentials",
)
# an hour: the sources' slowest regular change (Pasadena, hourly) and EPA's every ten
# minutes keep one server all day, not a new one (5-7 s to start) on every other change;
# idle, it holds ~280 MB
IDLE_SECONDS = 3600.0
SERVER_CODE = Path(__file__)
START_SECONDS = 120.0  # imports on a loaded machine; past this, dbt starts cold
_HEADER = struct.Struct("!I")


def socket_path(directory: Path) -> Path:
    """The server for this environment's packages and this server's code: installing or
    upgrading any package (which changes the site-packages folder), or a pull that changes
    this module (what the server preloads, how a child takes its caller's environment),
    names a new server, and the old one idles out."""
    packages = Path(sysconfig.get_paths()["purelib"])
    key = f"{sys.prefix}\0{packages.stat().st_mtime_ns}\0{SERVER_CODE.stat().st_mtime_ns}"
    return directory / f"dbt-{hashlib.sha256(key.encode()).hexdigest()[:12]}.sock"


# -- the caller's side -------------------------------------------------------------------


def run(path: Path, args: Sequence[str], parses: Sequence[Path] = ()) -> int | None:
    """Run dbt `args` in a child of the warm server at `path` (started if need be, and
    then compiling from `parses`) with this process's stdio, directory and environment;
    its exit status, or None (with the reason on stderr) when no server could be reached."""
    try:
        connection = _connect_or_start(path, parses)
    except OSError as error:
        print(f"ddrc: warm dbt unavailable ({error}); starting dbt cold", file=sys.stderr)
        return None
    with connection:
        # from the request on, a signal is dbt's: kept until its PID is known, then passed on
        child: list[int] = []
        pending: list[int] = []

        def forward(signum: int, _frame: object) -> None:
            if not child:
                pending.append(signum)
                return
            with contextlib.suppress(ProcessLookupError):  # dbt ended: its status is coming
                os.kill(child[0], signum)

        previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            body = json.dumps({"args": list(args), "cwd": os.getcwd(), "env": dict(os.environ)})
            replies = connection.makefile("r")
            try:
                socket.send_fds(connection, [_HEADER.pack(len(body))], [0, 1, 2])
                connection.sendall(body.encode())
                pid = _reply(replies, "pid")
            except OSError:
                pid = None
            if pid is None:  # e.g. a server ending its idle wait as this caller came
                print("ddrc: the warm dbt server closed; starting dbt cold", file=sys.stderr)
                return None
            child.append(pid)
            for signum in pending:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)
            status = _reply(replies, "exit")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    if status is None:
        print("ddrc: the warm dbt supervisor ended without dbt's status", file=sys.stderr)
        return 1
    return status


def _reply(replies: io.TextIOBase, word: str) -> int | None:
    line = replies.readline().split()
    return int(line[1]) if len(line) == 2 and line[0] == word else None


def _connect(path: Path) -> socket.socket:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
    except OSError:
        connection.close()
        raise
    return connection


def _connect_or_start(path: Path, parses: Sequence[Path]) -> socket.socket:
    try:
        return _connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with path.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one starter at a time; the others then connect
        try:
            return _connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            path.unlink(missing_ok=True)  # a server that died without cleaning up
        server = start(path, parses=parses)
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                return _connect(path)
            except (FileNotFoundError, ConnectionRefusedError):
                if server.poll() is not None:
                    raise OSError(
                        f"the server exited with {server.returncode}; see {log_path(path)}"
                    ) from None
                if time.monotonic() > deadline:
                    message = f"the server did not listen within {START_SECONDS:.0f} s"
                    raise OSError(message) from None
                time.sleep(0.05)


def start(
    path: Path,
    entry: str = DBT_ENTRY,
    preload: Sequence[str] = DBT_PRELOAD,
    schemas: Sequence[str] = DBT_SCHEMAS,
    parses: Sequence[Path] = (),
) -> subprocess.Popen[bytes]:
    """Start a server at `path` in a session of its own (it outlives the run that started
    it, until idle); it listens once its imports are done, and what a child would compile
    from the dbt parses `parses` is compiled."""
    lists = (preload, schemas, map(str, parses))
    command = [sys.executable, "-m", MODULE, str(path), entry, *map(",".join, lists)]
    with log_path(path).open("ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )


def log_path(path: Path) -> Path:
    return path.with_suffix(".log")


def pid_path(path: Path) -> Path:
    return path.with_suffix(".pid")


def stop(path: Path, timeout: float = 30.0) -> bool:
    """Stop the server at `path` by the PID it recorded (if that process is still this
    module's server); True if one was stopped."""
    try:
        pid = int(pid_path(path).read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ValueError):
        return False
    if MODULE.encode() not in command:
        return False  # a reused PID: not ours to signal
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def running(pid: int) -> bool:
    """Alive, not a zombie that its parent has yet to reap."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


# -- the server's side -------------------------------------------------------------------


def serve(
    path: Path,
    entry: str,
    preload: Sequence[str],
    schemas: Sequence[str] = (),
    parses: Sequence[str] = (),
    idle: float = IDLE_SECONDS,
) -> None:
    """Import, listen, fork a supervisor per connection; stop after `idle` seconds without
    one, or on SIGTERM."""
    function = _load(entry, preload, schemas)
    for parse in parses:
        compile_from_parse(Path(parse))
    # dbt's imported modules are every child's for its life: frozen, its full collections
    # no longer walk them (a whole build 4.6 s -> 3.5 s), and pages stay shared after fork
    gc.freeze()
    # one tracker of dbt's semaphores for every child, logging here, not on a caller's stderr
    resource_tracker.ensure_running()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    os.umask(0o077)  # the socket is this user's alone
    listener.bind(str(path))
    inode = path.stat().st_ino
    pid_path(path).write_text(f"{os.getpid()}\n")
    listener.listen(16)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while select.select([listener], [], [], idle)[0]:
            connection, _ = listener.accept()
            if _peer_uid(connection) != os.getuid():
                connection.close()
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            if os.fork() == 0:
                listener.close()
                _supervise(connection, function)
            connection.close()
    finally:
        if path.exists() and path.stat().st_ino == inode:  # not a successor's socket
            path.unlink()
            pid_path(path).unlink(missing_ok=True)


def _load(
    entry: str, preload: Sequence[str], schemas: Sequence[str]
) -> Callable[[list[str]], object]:
    for name in preload:
        with contextlib.suppress(ImportError):  # an adapter this environment does not have
            importlib.import_module(name)
    for path in schemas:  # 0.1-0.2 s of each invocation, and 900 classes compiled
        with contextlib.suppress(ImportError):
            _attribute(path).json_schema()
    # dbt's adapters name a behaviour flag's source by walking the stack, and a process's
    # first walk maps every loaded module to its file: 0.3-0.4 s of each child
    inspect.stack()
    return _attribute(entry)


def compile_from_parse(path: Path) -> int:
    """Compile what each dbt child would compile from the parse at `path` on first use:
    the (de)serializers of its classes (mashumaro compiles them lazily, ~0.3 s) and every
    macro's Jinja template (~0.2 s of a one-source build). Both are cached by what they
    compile (a class, a macro's text), so a parse that changed since costs a child only the
    macros that changed. The number of macros compiled; 0 where the parse cannot be read
    (another dbt version's, say), and the children then compile for themselves."""
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder
    from dbt_common.clients.jinja import template_cache

    try:
        manifest = Manifest.from_msgpack(path.read_bytes(), decoder=extended_mashumuro_decoder)
        manifest.build_flat_graph()
        for macro in manifest.macros.values():
            template_cache.get_node_template(macro)
    except Exception as error:  # a cache left cold, never a failed server
        print(f"not compiled from {path}: {error!r}", flush=True)
        return 0
    print(f"compiled from {path}: {len(manifest.macros)} macros", flush=True)
    return len(manifest.macros)


def _attribute(path: str) -> Any:
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _peer_uid(connection: socket.socket) -> int:
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    return struct.unpack("3i", credentials)[1]


def _supervise(connection: socket.socket, function: Callable[[list[str]], object]) -> None:
    """In a fork of the server: read the invocation, fork its child, report the child's
    PID and status; SIGKILL the child if the caller goes away first. Never returns."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        header, fds, _, _ = socket.recv_fds(connection, _HEADER.size, 3)
        (size,) = _HEADER.unpack(header)
        body = b""
        while len(body) < size:
            chunk = connection.recv(size - len(body))
            if not chunk:
                raise EOFError("the caller left before its invocation arrived")
            body += chunk
        request = json.loads(body)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        child = os.fork()
        if child == 0:
            connection.close()
            _become(request, fds, function)
        for fd in fds:
            os.close(fd)
        connection.sendall(f"pid {child}\n".encode())
        started = time.monotonic()
        code = _await(child, connection)
        command = " ".join(request["args"][:1])  # its options may name private objects
        print(
            f"dbt {command}: pid {child}, exit {code}, {time.monotonic() - started:.1f} s",
            flush=True,
        )
        connection.sendall(f"exit {code}\n".encode())
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(0)


def _await(child: int, connection: socket.socket) -> int:
    with os.fdopen(os.pidfd_open(child), "rb", buffering=0) as exited:
        while True:
            ready = select.select([exited, connection], [], [])[0]
            if exited in ready:
                return _exit_code(os.waitpid(child, 0)[1])
            if not connection.recv(1):  # the caller is gone: so is the run that wanted dbt
                os.kill(child, signal.SIGKILL)
                return _exit_code(os.waitpid(child, 0)[1])


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code  # a signal, as a shell reports it


def _become(request: dict, fds: list[int], function: Callable[[list[str]], object]) -> None:
    """In the invocation's child: take the caller's stdio, directory and environment, run
    `function` with its arguments, exit with its status. Never returns."""
    code = 1
    try:
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.argv = ["dbt", *request["args"]]
        try:
            result = function(list(request["args"]))
            code = result if isinstance(result, int) else 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            if isinstance(done.code, str):
                print(done.code, file=sys.stderr)
        except KeyboardInterrupt:
            code = 130
    except BaseException:
        traceback.print_exc()
    finally:
        atexit._run_exitfuncs()  # what a dbt process runs at exit: its semaphores unlinked
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # the caller's pipe may be gone
                stream.flush()
        os._exit(code)


if __name__ == "__main__":
    path, entry, *names = sys.argv[1:6]
    serve(Path(path), entry, *([n for n in joined.split(",") if n] for joined in names))
