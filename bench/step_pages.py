"""Benchmark: the portal's form step pages against two baselines, under the same gunicorn settings.

    .venv/bin/python bench/step_pages.py [--seconds N] [--concurrency C]

One run starts four gunicorn servers on free 127.0.0.1 ports, each gthread with 2 workers and
4 threads and no access log:

  (a) bench/baseline_apps.py:hello_app   bare Flask returning "hello"
  (b) bench/baseline_apps.py:sqlite_app  Flask + one SQLAlchemy `SELECT ... WHERE id = ?` on SQLite
  (b') bench/baseline_apps.py:save_app   the least a step save can do with the same libraries: a
      session read, a CSRF check, a rate-limit counter's upsert and the draft's read and update,
      each write in a BEGIN IMMEDIATE transaction of its own (decision 0098)
  (c) the portal (`portal:create_app()` with portal/gunicorn_conf.py), PORTAL_ENV=development, a
      scratch instance directory and SQLite database migrated with `flask db upgrade`

and drives four scenarios with C client threads (stdlib http.client, one keep-alive connection per
thread) for N seconds each. The scenarios take turns: R rounds (--rounds), each a slice of N / R
seconds of every scenario in order, after a short warm-up that is not counted. This virtual machine
runs a CPU second 10-15 % faster or slower from one few-second stretch to the next, so a baseline
measured in one stretch and the portal in another differed by up to 25 % in ratio between runs;
slices side by side see the same drift, and the report gives each round's ratio too:

  baseline: hello GET              GET /                                   expects 2xx/3xx
  baseline: flask+sqlite read GET  GET /                                   expects 2xx/3xx
  baseline: minimal save POST      POST /step with the same answers (own session and draft) 302
  portal: step page GET            GET /procedures/juminhyo-copy/apply/applicant   (own draft)
  portal: step POST                POST the applicant step with valid answers      expects 302

It prints requests, req/s, p50/p95/p99 latency, errors and server CPU per request per scenario,
the portal ÷ baseline ratios (req/s, p95, server CPU per request), and writes the same to
bench/results/step_pages-<timestamp>.json. It never asserts timings: the figures depend on the
machine, and the load generator shares the machine with the servers.
The servers are always stopped (terminate, then kill) when the run ends or fails.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import math
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
BIN = Path(sys.executable).parent

HOST = "127.0.0.1"
WORKERS = 2
THREADS = 4
MAX_REQUESTS = 200_000  # per scenario, on top of the time bound
WARMUP_SECONDS = 1.0  # before a scenario run alone (run_scenario: the other benchmarks)
SLICE_WARMUP_SECONDS = 0.3  # before each interleaved slice (this benchmark)
STARTUP_TIMEOUT = 60.0
SECRET_KEY = "bench-" + "s" * 58
# Every client comes from 127.0.0.1, so the per-address limits on saving a step would turn almost
# every POST into a 429. The limiter stays on (its check is part of a request's cost); its limits
# are raised out of reach.
UNREACHABLE_LIMIT = "1000000 per minute"
# gunicorn 27 opens a control socket at one shared default path (~/.gunicorn/gunicorn.ctl); three
# servers (or a test run's live server) must not take it from each other.
NO_CONTROL_SOCKET = "--no-control-socket"

BASE = "/procedures/juminhyo-copy"
STEP = f"{BASE}/apply/applicant"
APPLICANT_ANSWERS = {
    "applicant_name": "大原 太郎",
    "applicant_kana": "オオハラ タロウ",
    "phone": "090-1234-5678",
    "relationship": "self",
}
CSRF_RE = re.compile(rb'name="csrf_token" value="([^"]+)"')

HELLO = "baseline: hello GET"
SQLITE = "baseline: flask+sqlite read GET"
SAVE = "baseline: minimal save POST"
STEP_GET = "portal: step page GET"
STEP_POST = "portal: step POST"


# --------------------------------------------------------------------------------------------
# Servers


@dataclass
class Server:
    name: str
    port: int
    health_path: str
    log_path: Path
    process: subprocess.Popen


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _gunicorn_baseline_argv(port: int, app: str) -> list[str]:
    """The portal's gunicorn settings (portal/gunicorn_conf.py) as command-line options (its
    worker hook, freezing the loaded application for the garbage collector, is in
    bench/baseline_apps.py)."""
    return [
        str(BIN / "gunicorn"),
        "-k", "gthread",
        "-w", str(WORKERS),
        "--threads", str(THREADS),
        "-b", f"{HOST}:{port}",
        "--access-logfile", "/dev/null",
        "--timeout", "60",
        "--graceful-timeout", "10",
        "--pythonpath", str(BENCH_DIR),
        NO_CONTROL_SOCKET,
        app,
    ]  # fmt: skip


def _clean_env() -> dict[str, str]:
    """The inherited environment minus anything that would change the portal's configuration."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PORTAL_") and key not in {"DATABASE_URL", "SECRET_KEY", "FLASK_APP"}
    }


def _spawn(name: str, argv: list[str], env: dict, log_path: Path, port: int, health: str) -> Server:
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: master and workers stop together
        )
    finally:
        log.close()
    return Server(name, port, health, log_path, process)


def _wait_ready(server: Server) -> None:
    url = f"http://{HOST}:{server.port}{server.health_path}"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            log_tail = server.log_path.read_text()[-4000:]
            raise RuntimeError(f"{server.name} server did not start; its log:\n{log_tail}")
        time.sleep(0.2)


def _group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes in a process group (server + workers)."""
    return sum(_group_cpu_split(pgid))


def _group_cpu_split(pgid: int) -> tuple[float, float]:
    """User and system CPU seconds of the live processes in a process group (server + workers):
    system time is what the kernel spent for them (socket I/O, SQLite's file locks and writes),
    which no in-process instruction count sees."""
    user = system = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
        if int(fields[2]) == pgid:
            user += int(fields[11])
            system += int(fields[12])
    ticks = os.sysconf("SC_CLK_TCK")
    return user / ticks, system / ticks


def _stop(server: Server) -> None:
    process = server.process
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    # Whatever is left in the server's own process group (a stuck master or worker): kill it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def start_servers(workdir: Path, servers: list[Server]) -> dict[str, Server]:
    """Start the three servers, appending each to `servers` at once so the caller can stop it."""
    baseline_env = {
        **_clean_env(),
        "BENCH_SQLITE_PATH": str(workdir / "baseline.sqlite3"),
        "BENCH_SAVE_SQLITE_PATH": str(workdir / "baseline-save.sqlite3"),
    }

    instance = workdir / "portal-instance"
    instance.mkdir()
    portal_port = _free_port()
    portal_env = {
        **_clean_env(),
        "FLASK_APP": "portal",
        "PORTAL_ENV": "development",
        "PORTAL_INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{workdir / 'portal.sqlite3'}",
        "SECRET_KEY": SECRET_KEY,
        "PORTAL_BIND": f"{HOST}:{portal_port}",
        "PORTAL_WORKERS": str(WORKERS),
        "PORTAL_THREADS": str(THREADS),
        "PORTAL_ACCESS_LOG": "/dev/null",
        "PORTAL_RATELIMIT_SAVE": UNREACHABLE_LIMIT,
        "PORTAL_RATELIMIT_SUBMIT": UNREACHABLE_LIMIT,
        "PORTAL_RATELIMIT_RESUME": UNREACHABLE_LIMIT,
    }
    migrate = subprocess.run(
        [str(BIN / "flask"), "db", "upgrade"],
        env=portal_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if migrate.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{migrate.stdout}{migrate.stderr}")

    by_name = {}
    for name, app in (
        ("hello", "baseline_apps:hello_app"),
        ("sqlite", "baseline_apps:sqlite_app"),
        ("save", "baseline_apps:save_app"),
    ):
        port = _free_port()
        argv = _gunicorn_baseline_argv(port, app)
        server = _spawn(name, argv, baseline_env, workdir / f"{name}.log", port, "/")
        servers.append(server)
        by_name[name] = server
    portal_argv = [
        str(BIN / "gunicorn"), "--config", "python:portal.gunicorn_conf", NO_CONTROL_SOCKET,
        "portal:create_app()",
    ]  # fmt: skip
    server = _spawn(
        "portal", portal_argv, portal_env, workdir / "portal.log", portal_port, "/healthz"
    )
    servers.append(server)
    by_name["portal"] = server
    for server in by_name.values():
        _wait_ready(server)
    return by_name


# --------------------------------------------------------------------------------------------
# Load generator


class Connection(http.client.HTTPConnection):
    """A keep-alive connection that counts how often it had to (re)connect."""

    def __init__(self, port: int) -> None:
        super().__init__(HOST, port, timeout=30)
        self.connects = 0

    def connect(self) -> None:
        self.connects += 1
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Client:
    """One simulated resident: one keep-alive connection and a cookie jar."""

    def __init__(self, port: int) -> None:
        self.connection = Connection(port)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except Exception:
            self.connection.close()  # the next request opens a fresh connection
            raise
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, data

    def close(self) -> None:
        self.connection.close()


def _csrf(body: bytes) -> str:
    match = CSRF_RE.search(body)
    if not match:
        raise RuntimeError("page has no csrf_token input")
    return match.group(1).decode()


# The portal's pages in this language (--language): the session's choice, as `?lang=` sets it;
# with ふりがな when --furigana (the session's choice, as `?furigana=on` sets it).
LANGUAGE = {"code": "ja", "furigana": False}


def start_draft(client: Client) -> str:
    """GET the start page, POST /start with its token, choose the language (--language);
    return the step page's csrf token."""
    status, _, body = client.request("GET", BASE)
    if status != 200:
        raise RuntimeError(f"GET {BASE} returned {status}")
    form = urllib.parse.urlencode({"csrf_token": _csrf(body)}).encode()
    status, headers, _ = client.request("POST", f"{BASE}/start", form)
    location = headers.get("Location", "")
    if status != 302 or not location.endswith(STEP):
        raise RuntimeError(f"POST {BASE}/start returned {status} to {location!r}")
    if LANGUAGE["code"] != "ja":
        status, headers, _ = client.request("GET", f"{STEP}?lang={LANGUAGE['code']}")
        if status != 303 or not headers.get("Location", "").endswith(STEP):
            raise RuntimeError(f"GET {STEP}?lang={LANGUAGE['code']} returned {status}")
    if LANGUAGE["furigana"]:
        status, headers, _ = client.request("GET", f"{STEP}?furigana=on")
        if status != 303 or not headers.get("Location", "").endswith(STEP):
            raise RuntimeError(f"GET {STEP}?furigana=on returned {status}")
    status, _, body = client.request("GET", STEP)
    if status != 200:
        raise RuntimeError(f"GET {STEP} returned {status}")
    if LANGUAGE["furigana"] and b"<ruby>" not in body:
        raise RuntimeError(f"GET {STEP} has no furigana")
    chosen = re.compile(rf'value="lang:{LANGUAGE["code"]}"[^>]*aria-current="true"'.encode())
    if not chosen.search(body):
        raise RuntimeError(f"GET {STEP} is not in {LANGUAGE['code']}")
    return _csrf(body)


@dataclass
class Scenario:
    name: str
    port: int
    server_pid: int
    method: str
    path: str
    # Prepares a client (e.g. starts its draft) and returns the request body it will send.
    prepare: Callable[[Client], bytes | None] = lambda client: None
    ok: Callable[[int], bool] = lambda status: 200 <= status < 400
    expect: str = "2xx/3xx"


@dataclass
class ThreadResult:
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    warmup_requests: int = 0
    last_end: float = 0.0


def _client_loop(
    client: Client,
    scenario: Scenario,
    body: bytes | None,
    barrier: threading.Barrier,
    clock: dict,
    counter: itertools.count,
    max_requests: int,
    result: ThreadResult,
) -> None:
    barrier.wait()
    warm_end, end = clock["warm_end"], clock["end"]
    perf = time.perf_counter
    while True:
        started = perf()
        if started >= end:
            break
        measured = started >= warm_end
        if measured and next(counter) >= max_requests:
            break
        try:
            status, _, _ = client.request(scenario.method, scenario.path, body)
            error = None if scenario.ok(status) else f"HTTP {status}"
        except Exception as exc:  # noqa: BLE001 - every failure is an error to report
            error = type(exc).__name__
        finished = perf()
        if not measured:
            result.warmup_requests += 1
            if error:
                result.errors[f"{error} (warm-up)"] += 1
            continue
        result.latencies.append(finished - started)
        result.last_end = finished
        if error:
            result.errors[error] += 1


def _percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Slice:
    """What one stretch of load against one scenario measured."""

    results: list[ThreadResult]
    server_user: float
    server_system: float
    client_cpu: float
    warm_end: float
    reconnects: int


def prepare_clients(scenario: Scenario, concurrency: int) -> tuple[list[Client], list]:
    """The scenario's clients, prepared (e.g. each with its own draft) and connected: not timed."""
    clients = [Client(scenario.port) for _ in range(concurrency)]
    try:
        bodies = [scenario.prepare(client) for client in clients]
        for client in clients:
            if client.connection.sock is None:  # connect now, outside the measured window
                client.connection.connect()
    except BaseException:
        for client in clients:
            client.close()
        raise
    return clients, bodies


def _worker_pids(master_pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in children.split()]


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def _server_side_inodes(port: int) -> dict[int, str]:
    """The inode of each server-side socket of `port`'s established connections, by the client's
    port (from /proc/net/tcp: local and remote address as hex ip:port, state 01 = established)."""
    by_client_port = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if state == "01" and int(local.split(":")[1], 16) == port:
            by_client_port[int(remote.split(":")[1], 16)] = inode
    return by_client_port


def connection_workers(scenario: Scenario, clients: list[Client]) -> list[int | None]:
    """Which gunicorn worker holds each client's connection (None: not found)."""
    by_client_port = _server_side_inodes(scenario.port)
    owner = {}
    for pid in _worker_pids(scenario.server_pid):
        for inode in _socket_inodes(pid):
            owner[inode] = pid
    workers = []
    for client in clients:
        sock = client.connection.sock
        inode = by_client_port.get(sock.getsockname()[1]) if sock is not None else None
        workers.append(owner.get(inode) if inode is not None else None)
    return workers


def balance_connections(scenario: Scenario, clients: list[Client], attempts: int = 400) -> None:
    """Spread the clients' keep-alive connections evenly over the server's workers.

    Each gunicorn worker accepts from the one listening socket, and whichever wakes first takes
    a new connection: often 7 of 8, or all 8, landed on one worker, whose four threads then
    fought over one interpreter lock while the other worker idled. Measured here on the step
    page, the CPU per request doubled (1.9 ms with 1 + 7, 3.2-3.5 ms with all 8 on one worker),
    a figure of luck rather than of the code. A connection on a worker holding more than its
    share is opened again until the counts differ by at most one (every server alike)."""
    workers = _worker_pids(scenario.server_pid)
    if len(workers) < 2:
        return
    for _ in range(attempts):
        time.sleep(0.01)  # the worker's accept
        held = connection_workers(scenario, clients)
        counts = Counter({pid: 0 for pid in workers})
        counts.update(pid for pid in held if pid is not None)
        busiest, most = counts.most_common(1)[0]
        if None not in held and most - min(counts.values()) <= 1:
            return
        index = held.index(None) if None in held else held.index(busiest)
        clients[index].connection.close()
        clients[index].connection.connect()
    print(f"note: {scenario.name!r}: connections not balanced over the workers", flush=True)


def run_slice(
    scenario: Scenario,
    clients: list[Client],
    bodies: list,
    seconds: float,
    warmup: float,
    max_requests: int,
) -> Slice:
    """Drive the prepared clients against the scenario for `warmup` + `seconds`."""
    connects_before = sum(c.connection.connects for c in clients)
    results = [ThreadResult() for _ in clients]
    barrier = threading.Barrier(len(clients) + 1)
    clock: dict = {}
    counter = itertools.count()
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(c, scenario, b, barrier, clock, counter, max_requests, r),
            daemon=True,
        )
        for c, b, r in zip(clients, bodies, results, strict=True)
    ]
    for thread in threads:
        thread.start()
    server_cpu_before = _group_cpu_split(scenario.server_pid)
    client_cpu_before = time.process_time()
    now = time.perf_counter()
    clock["warm_end"] = now + warmup
    clock["end"] = now + warmup + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    client_cpu = time.process_time() - client_cpu_before
    server_user, server_system = (
        after - before
        for after, before in zip(
            _group_cpu_split(scenario.server_pid), server_cpu_before, strict=True
        )
    )
    return Slice(
        results=results,
        server_user=server_user,
        server_system=server_system,
        client_cpu=client_cpu,
        warm_end=clock["warm_end"],
        reconnects=sum(c.connection.connects for c in clients) - connects_before,
    )


def _sent(piece: Slice) -> int:
    return sum(len(r.latencies) + r.warmup_requests for r in piece.results)


def slice_cpu_per_request(piece: Slice) -> float:
    """Server CPU seconds per request of one slice (warm-up included, as in summarize)."""
    sent = _sent(piece)
    return (piece.server_user + piece.server_system) / sent if sent else float("nan")


def summarize(scenario: Scenario, slices: list[Slice], max_requests: int) -> dict:
    """The figures of a scenario over all its slices."""
    results = [r for piece in slices for r in piece.results]
    latencies = sorted(itertools.chain.from_iterable(r.latencies for r in results))
    errors: Counter = Counter()
    for r in results:
        errors.update(r.errors)
    measured_errors = sum(n for key, n in errors.items() if not key.endswith("(warm-up)"))
    # Measured time: from the end of each slice's warm-up to its last answer.
    elapsed = 0.0
    for piece in slices:
        last_end = max((r.last_end for r in piece.results), default=0.0)
        elapsed += max(last_end - piece.warm_end, 0.0)
    elapsed = max(elapsed, 1e-9)
    # CPU over warm-up and measurement together, per request sent in both.
    sent = sum(_sent(piece) for piece in slices)
    server_cpu = sum(piece.server_user + piece.server_system for piece in slices)
    server_system = sum(piece.server_system for piece in slices)
    client_cpu = sum(piece.client_cpu for piece in slices)
    return {
        "scenario": scenario.name,
        "method": scenario.method,
        "path": scenario.path,
        "expect": scenario.expect,
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "req_per_s": len(latencies) / elapsed if latencies else 0.0,
        "p50_ms": _percentile(latencies, 50) * 1000,
        "p95_ms": _percentile(latencies, 95) * 1000,
        "p99_ms": _percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] * 1000) if latencies else float("nan"),
        "errors": measured_errors,
        "error_kinds": dict(errors),
        "warmup_requests": sum(r.warmup_requests for r in results),
        "connections_opened_during_run": sum(piece.reconnects for piece in slices),
        "server_cpu_ms_per_request": server_cpu * 1000 / sent if sent else float("nan"),
        "server_system_cpu_ms_per_request": (server_system * 1000 / sent if sent else float("nan")),
        "client_cpu_ms_per_request": client_cpu * 1000 / sent if sent else float("nan"),
        "slices": len(slices),
        "slice_server_cpu_ms_per_request": [
            round(slice_cpu_per_request(piece) * 1000, 4) for piece in slices
        ],
        "hit_request_cap": len(latencies) >= max_requests,
    }


def run_scenario(
    scenario: Scenario, seconds: float, concurrency: int, warmup: float, max_requests: int
) -> dict:
    """One scenario alone: prepared clients, one stretch of load, its figures."""
    clients, bodies = prepare_clients(scenario, concurrency)
    try:
        piece = run_slice(scenario, clients, bodies, seconds, warmup, max_requests)
    finally:
        for client in clients:
            client.close()
    return summarize(scenario, [piece], max_requests)


def run_interleaved(
    scenarios: list[Scenario],
    seconds: float,
    rounds: int,
    concurrency: int,
    warmup: float,
    max_requests: int,
) -> list[dict]:
    """All scenarios in `rounds` rounds, each round one slice of every scenario in turn
    (seconds / rounds each, after a warm-up of its own). How fast this machine runs a CPU
    second drifts by 10-15 % over a few seconds (a virtual machine sharing its host), so a
    scenario measured ten seconds after its baseline compares two different machines;
    interleaved slices see the same drift, and each round gives one ratio of its own."""
    prepared = []
    try:
        for scenario in scenarios:
            prepared.append((scenario, *prepare_clients(scenario, concurrency)))
        slices: dict[str, list[Slice]] = {scenario.name: [] for scenario in scenarios}
        per_slice = seconds / rounds
        cap = max(1, max_requests // rounds)
        for _ in range(rounds):
            for scenario, clients, bodies in prepared:
                # gunicorn closes a keep-alive connection idle for 2 s (while the other
                # scenarios ran): connect again now, outside the measured slice.
                for client in clients:
                    client.connection.close()
                    client.connection.connect()
                balance_connections(scenario, clients)
                slices[scenario.name].append(
                    run_slice(scenario, clients, bodies, per_slice, warmup, cap)
                )
    finally:
        for _, clients, _ in prepared:
            for client in clients:
                client.close()
    return [summarize(scenario, slices[scenario.name], max_requests) for scenario in scenarios]


def scenarios(servers: dict[str, Server]) -> list[Scenario]:
    def prepare_post(client: Client) -> bytes:
        token = start_draft(client)
        return urllib.parse.urlencode({**APPLICANT_ANSWERS, "csrf_token": token}).encode()

    def prepare_get(client: Client) -> None:
        start_draft(client)
        return None

    def prepare_save(client: Client) -> bytes:
        status, _, body = client.request("POST", "/start", b"")
        if status != 200:
            raise RuntimeError(f"POST /start of the minimal save app returned {status}")
        return urllib.parse.urlencode({**APPLICANT_ANSWERS, "csrf_token": _csrf(body)}).encode()

    hello, sqlite, portal = servers["hello"], servers["sqlite"], servers["portal"]
    save = servers["save"]
    return [
        Scenario(HELLO, hello.port, hello.process.pid, "GET", "/"),
        Scenario(SQLITE, sqlite.port, sqlite.process.pid, "GET", "/"),
        Scenario(
            SAVE,
            save.port,
            save.process.pid,
            "POST",
            "/step",
            prepare_save,
            ok=lambda s: s == 302,
            expect="302",
        ),
        Scenario(STEP_GET, portal.port, portal.process.pid, "GET", STEP, prepare_get),
        Scenario(
            STEP_POST,
            portal.port,
            portal.process.pid,
            "POST",
            STEP,
            prepare_post,
            ok=lambda s: s == 302,
            expect="302",
        ),
    ]


# --------------------------------------------------------------------------------------------
# Report


def machine_info() -> dict:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("flask", "werkzeug", "gunicorn", "sqlalchemy", "jinja2", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()),
        "packages": versions,
    }


def _per_round(top: dict, bottom: dict) -> list[float]:
    """One scenario's server CPU per request ÷ another's, round by round, sorted."""
    return sorted(
        x / y
        for x, y in zip(
            top["slice_server_cpu_ms_per_request"],
            bottom["slice_server_cpu_ms_per_request"],
            strict=True,
        )
        if y
    )


def ratios(by_name: dict[str, dict]) -> dict[str, float]:
    out = {}
    for portal_name, short in ((STEP_GET, "step GET"), (STEP_POST, "step POST")):
        for base_name, base_short in ((HELLO, "hello"), (SQLITE, "sqlite-read")):
            p, b = by_name[portal_name], by_name[base_name]
            out[f"{short} req/s ÷ {base_short} req/s"] = (
                p["req_per_s"] / b["req_per_s"] if b["req_per_s"] else float("nan")
            )
    for portal_name, short in ((STEP_GET, "step GET"), (STEP_POST, "step POST")):
        for base_name, base_short in ((HELLO, "hello"), (SQLITE, "sqlite-read")):
            p, b = by_name[portal_name], by_name[base_name]
            out[f"{short} p95 ÷ {base_short} p95"] = (
                p["p95_ms"] / b["p95_ms"] if b["p95_ms"] else float("nan")
            )
    # Server CPU per request: the steadier figure on a shared machine (issue 24's target: step
    # GET and step POST at most 3x the flask+sqlite read).
    for portal_name, short in ((STEP_GET, "step GET"), (STEP_POST, "step POST")):
        for base_name, base_short in ((HELLO, "hello"), (SQLITE, "sqlite-read")):
            p, b = by_name[portal_name], by_name[base_name]
            base_cpu = b["server_cpu_ms_per_request"]
            out[f"{short} CPU ÷ {base_short} CPU"] = (
                p["server_cpu_ms_per_request"] / base_cpu if base_cpu else float("nan")
            )
    # The same ratio in each round (portal and baseline slices a few seconds apart): its median
    # and range show how much the machine's drift moved the figure above.
    for portal_name, short in ((STEP_GET, "step GET"), (STEP_POST, "step POST")):
        per_round = _per_round(by_name[portal_name], by_name[SQLITE])
        if per_round:
            out[f"{short} CPU ÷ sqlite-read CPU, median of rounds"] = statistics.median(per_round)
            out[f"{short} CPU ÷ sqlite-read CPU, lowest round"] = per_round[0]
            out[f"{short} CPU ÷ sqlite-read CPU, highest round"] = per_round[-1]
    # What the database work of a save costs by itself (decision 0098), and what the portal's
    # step POST adds to it: the minimal save against the read, the step POST against the save.
    for top, bottom, label in (
        (SAVE, SQLITE, "minimal save CPU ÷ sqlite-read CPU"),
        (STEP_POST, SAVE, "step POST CPU ÷ minimal save CPU"),
    ):
        t, b = by_name[top], by_name[bottom]
        base_cpu = b["server_cpu_ms_per_request"]
        out[label] = t["server_cpu_ms_per_request"] / base_cpu if base_cpu else float("nan")
        per_round = _per_round(t, b)
        if per_round:
            out[f"{label}, median of rounds"] = statistics.median(per_round)
    return out


def print_report(machine: dict, settings: dict, results: list[dict], ratio: dict) -> None:
    print()
    print(
        f"machine: nproc={machine['nproc']}  python {machine['python']}  {machine['cpu_model']}"
        f"  load avg at start {' '.join(f'{x:.2f}' for x in machine['load_average_at_start'])}"
    )
    print(f"         {machine['platform']}")
    busy = max(machine["load_average_at_start"][0], machine["load_average_at_end"][0])
    if busy > machine["nproc"] / 2:
        print(
            f"WARNING: 1-minute load average reached {busy:.2f} on {machine['nproc']} CPUs around "
            "the run: other work shared the machine, so the figures are noisy."
        )
    print(
        "settings: gunicorn gthread, {workers} workers x {threads} threads, access log off; "
        "{concurrency} clients (keep-alive), {seconds:g} s per scenario in {rounds} interleaved "
        "slices, each after {warmup:g} s of warm-up, cap {max_requests} requests".format(**settings)
    )
    print(
        f"          portal: PORTAL_ENV=development, language {settings['portal_language']}"
        f"{' with furigana' if settings['portal_furigana'] else ''},"
        f" rate limits {settings['portal_rate_limits']}"
    )
    print()
    header = f"{'scenario':<32} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
    header += f"{'p99 ms':>8} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['scenario']:<32} {r['requests']:>9} {r['req_per_s']:>9.1f} {r['p50_ms']:>8.2f} "
            f"{r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>7}"
        )
    print()
    print("CPU per request (warm-up included; servers: master + workers, client: this process):")
    for r in results:
        print(
            f"  {r['scenario']:<32} server {r['server_cpu_ms_per_request']:6.2f} ms"
            f" (system {r['server_system_cpu_ms_per_request']:5.2f})"
            f"   client {r['client_cpu_ms_per_request']:6.2f} ms"
        )
    print()
    for r in results:
        if r["error_kinds"]:
            print(f"errors in {r['scenario']!r} (expected {r['expect']}): {r['error_kinds']}")
        if r["connections_opened_during_run"]:
            print(f"note: {r['scenario']!r} reconnected {r['connections_opened_during_run']} times")
        if r["hit_request_cap"]:
            print(f"note: {r['scenario']!r} stopped at the {settings['max_requests']}-request cap")
    print("ratios (portal ÷ baseline):")
    for key, value in ratio.items():
        print(f"  {key:<36} {value:7.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario (default 10)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=10,
        help="interleaved rounds: each scenario's seconds in this many slices (default 10)",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=SLICE_WARMUP_SECONDS,
        help="uncounted seconds before each slice",
    )
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS)
    parser.add_argument(
        "--language",
        choices=("ja", "easy", "en"),
        default="ja",
        help="the portal's pages in this language (default ja)",
    )
    parser.add_argument(
        "--furigana",
        action="store_true",
        help="with ふりがな on (ja and easy pages; each client turns it on with ?furigana=on)",
    )
    args = parser.parse_args(argv)
    LANGUAGE["code"] = args.language
    LANGUAGE["furigana"] = args.furigana
    if args.furigana and args.language == "en":
        parser.error("--furigana applies to ja and easy pages only")
    if args.seconds <= 0 or args.concurrency < 1 or args.warmup < 0 or args.max_requests < 1:
        parser.error("--seconds and --max-requests must be positive, --concurrency at least 1")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    # A plain `kill` of the benchmark still stops the servers (through the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    machine = machine_info()
    settings = {
        "workers": WORKERS,
        "threads": THREADS,
        "worker_class": "gthread",
        "access_log": "off (/dev/null)",
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "max_requests": args.max_requests,
        "portal_env": "development",
        "portal_language": args.language,
        "portal_furigana": args.furigana,
        "database": "SQLite (scratch file, WAL)",
        "portal_rate_limits": f"on, every limit raised to {UNREACHABLE_LIMIT}",
        "gunicorn_control_socket": "off",
    }
    started_at = dt.datetime.now(dt.UTC)
    servers: list[Server] = []
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-step-pages-") as tmp:
        try:
            print(f"starting servers (scratch directory {tmp}) ...", flush=True)
            by_name = start_servers(Path(tmp), servers)
            for server in servers:
                print(f"  {server.name:<7} http://{HOST}:{server.port}", flush=True)
            chosen = scenarios(by_name)
            print(
                f"running {len(chosen)} scenarios interleaved, {args.rounds} rounds ...", flush=True
            )
            results = run_interleaved(
                chosen, args.seconds, args.rounds, args.concurrency, args.warmup, args.max_requests
            )
            for scenario, result in zip(chosen, results, strict=True):
                if result["error_kinds"]:
                    # The scratch directory (and the server's log) is gone after the run.
                    server = next(s for s in servers if s.port == scenario.port)
                    log_tail = server.log_path.read_text(errors="replace").splitlines()[-20:]
                    print(f"  errors in {scenario.name!r}: {result['error_kinds']}; log ends:")
                    print("\n".join(f"    {line}" for line in log_tail), flush=True)
        finally:
            for server in servers:
                _stop(server)

    machine["load_average_at_end"] = list(os.getloadavg())
    ratio = ratios({r["scenario"]: r for r in results})
    print_report(machine, settings, results, ratio)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"step_pages-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "benchmark": "step_pages",
                "started_at": started_at.isoformat(timespec="seconds"),
                "machine": machine,
                "settings": settings,
                "scenarios": results,
                "ratios": ratio,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    print(f"\nresults written to {path.relative_to(ROOT)}")
    total_errors = sum(r["errors"] for r in results)
    if total_errors:
        print(f"WARNING: {total_errors} error responses; the figures above are not comparable.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
