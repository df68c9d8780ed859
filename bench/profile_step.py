"""Profile the step page GET and the step POST in-process (no HTTP server, no other load).

    .venv/bin/python bench/profile_step.py [--requests N] [--top K] [--signed-in] [--pstats DIR]
                                           [--language ja|easy|en] [--furigana] [--callgrind]

The portal app as `make run` builds it (PORTAL_ENV=development, a scratch instance directory and
SQLite database migrated like bench/step_pages.py does, the rate limits raised out of reach),
driven through the Flask test client: one draft of juminhyo-copy started as a browser would
(GET the start page, POST /start with its csrf token), then N step page GETs and N step POSTs of
the applicant step, each under cProfile. With --signed-in the draft belongs to a resident signed
in with a demo card (a stub card service, as tests/web do) before starting it.

It prints the process CPU time per request (time.process_time, profiler off, after a warm-up),
then the top K functions by cumulative and by own time (profiler on), and with --pstats writes
the raw profiles (step_get.pstats, step_post.pstats) for snakeviz or `python -m pstats`. The
test client's own cost is included in the per-request time (about 0.2 ms); use the figures to
compare one change against the code before it in the same session, and bench/step_pages.py for
the figures against the baselines.
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE = "/procedures/juminhyo-copy"
STEP = f"{BASE}/apply/applicant"
ANSWERS = {
    "applicant_name": "大原 太郎",
    "applicant_kana": "オオハラ タロウ",
    "phone": "090-1234-5678",
    "relationship": "self",
}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
UNREACHABLE_LIMIT = "1000000 per minute"


def _csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise RuntimeError("page has no csrf_token input")
    return match.group(1)


def make_app(workdir: Path):
    env = {
        "PORTAL_ENV": "development",
        "PORTAL_INSTANCE_PATH": str(workdir / "instance"),
        "DATABASE_URL": f"sqlite:///{workdir / 'portal.sqlite3'}",
        "SECRET_KEY": "bench-" + "s" * 58,
        "PORTAL_RATELIMIT_SAVE": UNREACHABLE_LIMIT,
        "PORTAL_RATELIMIT_SUBMIT": UNREACHABLE_LIMIT,
        "PORTAL_RATELIMIT_RESUME": UNREACHABLE_LIMIT,
    }
    for key in list(os.environ):
        if key.startswith("PORTAL_") or key in {"DATABASE_URL", "SECRET_KEY"}:
            del os.environ[key]
    os.environ.update(env)
    (workdir / "instance").mkdir()

    from portal import create_app, migrate

    migrate.upgrade(env["DATABASE_URL"], mocks=True)
    return create_app()


def start_draft(client) -> str:
    page = client.get(BASE)
    assert page.status_code == 200, page.status_code
    started = client.post(f"{BASE}/start", data={"csrf_token": _csrf(page.text)})
    assert started.status_code == 302 and started.headers["Location"].endswith(STEP), (
        started.status_code,
        started.headers.get("Location"),
    )
    step = client.get(STEP)
    assert step.status_code == 200, step.status_code
    return _csrf(step.text)


def cpu_per_request(do, n: int) -> float:
    for _ in range(min(50, n)):  # warm-up: caches, compiled templates, pooled connections
        do()
    start = time.process_time()
    for _ in range(n):
        do()
    return (time.process_time() - start) * 1000 / n


def profile(do, n: int) -> pstats.Stats:
    # CPU time of this thread, not wall time: on a shared machine, time spent waiting for a
    # core would otherwise land on whichever function happened to be running.
    profiler = cProfile.Profile(time.thread_time_ns, 1e-9)
    profiler.enable()
    for _ in range(n):
        do()
    profiler.disable()
    return pstats.Stats(profiler)


def report(name: str, stats: pstats.Stats, n: int, top: int) -> None:
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats(order).print_stats(top)
        print(f"\n===== {name}: top {top} by {order} ({n} requests; times are totals) =====")
        text = out.getvalue()
        print(text[text.find("   ncalls") :])


# --------------------------------------------------------------------------------------------
# Instruction counts (valgrind --tool=callgrind). CPU time on a shared machine moves with whatever
# else runs; the number of instructions a request executes does not. The script runs itself under
# callgrind with instrumentation off (near native speed while the app starts), and a tiny C helper
# built on the fly with the system's compiler and <valgrind/callgrind.h> switches counting on
# around each scenario's measured requests only (warm-up excluded).

CALLGRIND_CHILD = "BENCH_PROFILE_STEP_UNDER_CALLGRIND"
CONTROL_C = """
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION;
                      CALLGRIND_TOGGLE_COLLECT; }
void cg_stop(const char *name) { CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS_AT(name);
                                 CALLGRIND_STOP_INSTRUMENTATION; }
"""


def run_under_callgrind(argv: list[str], requests: int) -> int:
    for tool in ("valgrind", "cc"):
        if shutil.which(tool) is None:
            print(f"--callgrind needs {tool} on PATH", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp:
        source, library = Path(tmp) / "cgctl.c", Path(tmp) / "libcgctl.so"
        source.write_text(CONTROL_C)
        subprocess.run(
            ["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], check=True
        )
        out = Path(tmp) / "callgrind.out"
        env = {**os.environ, CALLGRIND_CHILD: str(library), "PYTHONHASHSEED": "0"}
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
            f"--callgrind-out-file={out}", sys.executable, __file__, *argv,
        ]  # fmt: skip
        subprocess.run(command, env=env, check=True, stderr=subprocess.DEVNULL)
        counts = {}
        for dump in sorted(Path(tmp).glob("callgrind.out*")):
            text = dump.read_text(errors="replace")
            trigger = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.M)
            totals = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            if trigger and totals:
                counts[trigger.group(1).strip()] = int(totals.group(1)) / requests
    base = counts.get("sqlite read")
    print(f"instructions per request (callgrind Ir, {requests} requests after warm-up):")
    for name, value in counts.items():
        ratio = f"  ({value / base:5.2f}x sqlite read)" if base else ""
        print(f"  {name:<12} {value / 1e6:8.3f} M{ratio}")
    return 0


def count_instructions(scenarios, requests: int) -> int:
    control = ctypes.CDLL(os.environ[CALLGRIND_CHILD])
    for name, do in scenarios:
        for _ in range(min(50, requests)):
            do()
        control.cg_start()
        for _ in range(requests):
            do()
        control.cg_stop(name.encode())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--signed-in", action="store_true", help="a signed-in resident's draft")
    parser.add_argument(
        "--language",
        choices=("ja", "easy", "en"),
        default="ja",
        help="the page's language (the session's choice, as the language menu sets it)",
    )
    parser.add_argument(
        "--furigana",
        action="store_true",
        help="with ふりがな on (the session's choice, as the language menu sets it; ja and easy)",
    )
    parser.add_argument("--pstats", type=Path, help="write the raw profiles into this directory")
    parser.add_argument("--no-profile", action="store_true", help="only the CPU per request")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="count instructions per request under valgrind's callgrind (deterministic)",
    )
    args = parser.parse_args(argv)
    if args.callgrind and not os.environ.get(CALLGRIND_CHILD):
        return run_under_callgrind(argv if argv is not None else sys.argv[1:], args.requests)

    with tempfile.TemporaryDirectory(prefix="bench-profile-step-") as tmp:
        app = make_app(Path(tmp))
        client = app.test_client()
        if args.signed_in:
            _sign_in(app, client, Path(tmp))
        token = start_draft(client)
        if args.language != "ja" or args.furigana:
            with client.session_transaction() as session:
                if args.language != "ja":
                    session["lang"] = args.language
                if args.furigana:
                    session["furigana"] = True
        if args.furigana and "<ruby>" not in client.get(STEP).text:
            raise RuntimeError("--furigana: the step page has no ruby")
        post_data = {**ANSWERS, "csrf_token": token}

        def get() -> None:
            response = client.get(STEP)
            if response.status_code != 200:
                raise RuntimeError(f"GET {STEP}: {response.status_code}")

        def post() -> None:
            response = client.post(STEP, data=post_data)
            if response.status_code != 302:
                raise RuntimeError(f"POST {STEP}: {response.status_code}")

        os.environ["BENCH_SQLITE_PATH"] = str(Path(tmp) / "baseline.sqlite3")
        sys.path.insert(0, str(ROOT / "bench"))
        from baseline_apps import sqlite_app

        baseline_client = sqlite_app.test_client()

        def baseline() -> None:
            response = baseline_client.get("/")
            if response.status_code != 200:
                raise RuntimeError(f"baseline GET /: {response.status_code}")

        scenarios = (("sqlite read", baseline), ("step GET", get), ("step POST", post))
        if args.callgrind:
            return count_instructions(scenarios, args.requests)
        # Rounds alternate the three, and the least CPU of the rounds counts: on a shared
        # machine other work only ever adds.
        results: dict[str, list[float]] = {"sqlite read": [], "step GET": [], "step POST": []}
        for _ in range(args.rounds):
            for name, do in scenarios:
                results[name].append(cpu_per_request(do, args.requests))
        print(
            f"process CPU per request, least of {args.rounds} rounds of {args.requests}"
            " (in-process, test client included, profiler off):"
        )
        base = min(results["sqlite read"])
        for name, values in results.items():
            print(
                f"  {name:<12} {min(values):6.3f} ms  ({min(values) / base:4.2f}x sqlite read)"
                f"   rounds: {' '.join(f'{v:.3f}' for v in values)}"
            )
        if args.no_profile:
            return 0
        for name, do in (("step GET", get), ("step POST", post)):
            stats = profile(do, args.requests)
            if args.pstats:
                args.pstats.mkdir(parents=True, exist_ok=True)
                stats.dump_stats(args.pstats / (name.replace(" ", "_").lower() + ".pstats"))
            report(name, stats, args.requests, args.top)
    return 0


def _sign_in(app, client, workdir: Path) -> None:
    """Sign in as a demo resident through a stub card service (as tests/web do)."""
    sys.path.insert(0, str(ROOT))
    from portal.mock_jpki.ca import MockCA
    from tests.web.test_identity_features import StubProvider  # the tests' stub card service

    app.extensions["identity_provider"] = StubProvider(MockCA(workdir / "ca"))
    response = client.get("/login/callback?as=adult")
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed: {response.status_code}")


if __name__ == "__main__":
    sys.exit(main())
