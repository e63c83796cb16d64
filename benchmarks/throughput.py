"""Baseline throughput: N cases of a bundled SOP over HTTP (the production server) vs. the engine alone.

    .venv/bin/python benchmarks/throughput.py --backend both --cases 200 --concurrency 4

For each backend: a fresh database (SQLite file in a temp dir, or a private PostgreSQL server from
``tests/support/postgres.py``), migrations, the unit and one user per lane, the SOP deployed; then the
real app under ``python -m service.serve`` (granian) on a free 127.0.0.1 port and C client threads, each
driving one case at a time along one full path (start → each lane lists its tasks and completes its step →
case completed), after a few untimed sequential warm-up cases.
Then the same path in-process through the engine alone (no DB, no HTTP), state JSON round-tripped
between steps, on the spec the service runs: the SOP deployed with its forms and decision tables into a
throw-away SQLite database and compiled once from the stored revision (``_harness.deployed_spec``).
Every phase stops starting cases after ``--max-seconds``. Not a test: no assertions (but
``tests/test_benchmarks_run.py`` runs it on tiny arguments).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import signal
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from _harness import (
    INTAKE,
    PASSWORD,
    ROOT,
    STEPS,
    USERS,
    Client,
    deployed_spec,
    percentile,
    prepare_database,
    serve,
    server_env,
)

from service.engine import CaseRun, CompiledDefinition, WorkCalendar

KINDS = ("token", "start", "list", "complete")


@dataclass
class HttpResult:
    backend: str
    cases: int = 0
    completions: int = 0
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def run_case(client: Client, tokens: dict[str, str], key: str) -> tuple[bool, int]:
    """One case along the path; returns (completed, task completions)."""
    started = client.call("start", "POST", "/api/cases", {"definition_key": key, "data": INTAKE}, tokens["Pelapor"])
    if started is None:
        return False, 0
    case_id, result, done = started["id"], started, 0
    for lane, element, data in STEPS:
        listed = client.call("list", "GET", f"/api/tasks?definition_key={key}&per_page=200", token=tokens[lane])
        if listed is None:
            return False, done
        task = next((t for t in listed["items"] if t["case_id"] == case_id and t["element_id"] == element), None)
        if task is None:
            client.errors.append(f"list: {element} of case {case_id} is not in {lane}'s task list")
            return False, done
        result = client.call("complete", "POST", f"/api/tasks/{task['id']}/complete", {"data": data}, tokens[lane])
        if result is None:
            return False, done
        done += 1
    if result.get("status") != "completed":
        client.errors.append(f"case {case_id} ended {result.get('status')!r}, not completed")
        return False, done
    return True, done


def warm_up(port: int, key: str, cases: int) -> list[str]:
    """Untimed cases, one after the other, a new connection per request so every worker compiles the
    spec and builds its validators alone (two threads compiling at once can fail: see RESULTS.md)."""
    client = Client(port, keep_alive=False)
    tokens: dict[str, str] = {}
    for lane, username in USERS.items():
        answer = client.call("token", "POST", "/api/auth/token", {"username": username, "password": PASSWORD})
        tokens[lane] = answer["token"] if answer else ""
    for _ in range(cases):
        run_case(client, tokens, key)
    return client.errors


def drive_http(backend: str, port: int, key: str, cases: int, concurrency: int, max_seconds: float,
               stop: threading.Event, warmup: int) -> HttpResult:
    result = HttpResult(backend)
    result.errors.extend(f"warm-up: {error}" for error in warm_up(port, key, warmup))
    lock = threading.Lock()
    issued = [0]
    clock = [0.0, 0.0]  # start, deadline: set when every client holds its tokens

    def start_clock() -> None:
        clock[0] = time.monotonic()
        clock[1] = clock[0] + max_seconds

    barrier = threading.Barrier(concurrency + 1, action=start_clock)

    def next_case() -> bool:
        with lock:
            if stop.is_set() or issued[0] >= cases or time.monotonic() > clock[1]:
                return False
            issued[0] += 1
            return True

    def worker() -> None:
        client = Client(port)
        try:
            tokens: dict[str, str] = {}
            for lane, username in USERS.items():
                answer = client.call("token", "POST", "/api/auth/token", {"username": username, "password": PASSWORD})
                if answer is not None:
                    tokens[lane] = answer["token"]
            barrier.wait()
            while len(tokens) == len(USERS) and next_case():
                completed, done = run_case(client, tokens, key)
                with lock:
                    result.cases += completed
                    result.completions += done
        except threading.BrokenBarrierError:
            pass
        finally:
            client.close()
            with lock:
                for kind, values in client.latencies.items():
                    result.latencies.setdefault(kind, []).extend(values)
                result.errors.extend(client.errors)

    threads = [threading.Thread(target=worker, daemon=True, name=f"client-{i}") for i in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        barrier.wait()  # every client holds its tokens: the clock starts now
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)
        result.seconds = time.monotonic() - clock[0]
    except BaseException:
        stop.set()
        barrier.abort()
        raise
    return result


@dataclass
class EngineResult:
    cases: int
    steps: int
    seconds: float
    errors: int


def drive_engine(compiled: CompiledDefinition, cases: int, max_seconds: float) -> EngineResult:
    """The same path in-process on the compiled spec: start/complete with a JSON round trip between steps."""
    calendar = WorkCalendar(timezone="Asia/Jakarta")
    done = steps = errors = 0
    started = time.monotonic()
    while done < cases and time.monotonic() - started < max_seconds:
        run = CaseRun.start(compiled, dict(INTAKE), calendar)
        state = json.loads(json.dumps(run.dump()))
        for lane, element, data in STEPS:
            run = CaseRun.restore(compiled, state, calendar)
            task = next(t for t in run.ready_tasks() if t.element_id == element)
            if lane not in task.roles:
                errors += 1
            run.complete(task.id, data)
            state = json.loads(json.dumps(run.dump()))
            steps += 1
        errors += not run.completed
        done += 1
    return EngineResult(done, steps, time.monotonic() - started, errors)


def ms(value: float) -> str:
    return f"{value * 1000:.1f}"


def report(http: HttpResult, engine: EngineResult) -> None:
    rate = http.cases / http.seconds if http.seconds else 0.0
    engine_rate = engine.cases / engine.seconds if engine.seconds else 0.0
    print(f"\n== {http.backend}: {http.cases} cases completed in {http.seconds:.1f} s")
    print(f"   cases/s {rate:.2f} · task completions/s {http.completions / max(http.seconds, 1e-9):.2f}"
          f" · errors {len(http.errors)}")
    print(f"   {'request':10s} {'count':>6s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s}")
    for kind in KINDS:
        values = http.latencies.get(kind, [])
        print(f"   {kind:10s} {len(values):6d} {ms(percentile(values, 0.5)):>8s} {ms(percentile(values, 0.99)):>8s}"
              f" {ms(max(values, default=0.0)):>8s}")
    print(f"   HTTP/engine cases/s ratio {rate / engine_rate if engine_rate else 0.0:.4f}"
          f" (engine alone is {engine_rate / rate if rate else float('inf'):.1f}× faster)")
    for error in http.errors[:20]:
        print(f"   ! {error}")
    if len(http.errors) > 20:
        print(f"   ! … and {len(http.errors) - 20} more")


def profile_engine(compiled: CompiledDefinition, cases: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    drive_engine(compiled, cases, 600)
    profiler.disable()
    print(f"\n== cProfile of {cases} engine cases ({cases * (len(STEPS) + 1)} steps), top 25 by own time")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    print("== top 25 by cumulative time")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)


def http_phase(backend: str, args: argparse.Namespace, stop: threading.Event) -> HttpResult:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"alur-bench-{backend}-")))
        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'alur.db'}"
        else:
            from support.postgres import create_database, running_postgres

            url = create_database(stack.enter_context(running_postgres(workdir)), "alur_bench")
        t0 = time.monotonic()
        key = prepare_database(url, args.bpmn, args.forms, workdir / "data")
        print(f"[{backend}] database ready ({time.monotonic() - t0:.1f} s): {url.split('@')[-1]}", flush=True)
        server = stack.enter_context(serve(server_env(url, args.forms, workdir), workdir, args.workers))
        port = server.port
        print(f"[{backend}] python -m service.serve --workers {args.workers} on 127.0.0.1:{port}: {args.warmup}"
              f" warm-up + {args.cases} cases × {len(STEPS)} tasks, {args.concurrency} clients", flush=True)
        result = drive_http(backend, port, key, args.cases, args.concurrency, args.max_seconds, stop, args.warmup)
        if result.errors:  # the server's side of the story, before its temp dir goes
            tail = server.log.read_text(errors="replace").splitlines()[-60:]
            print(f"[{backend}] server log (tail):\n" + "\n".join(tail), flush=True)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="cap per phase (default 300)")
    parser.add_argument("--workers", type=int, default=2,
                        help="server worker processes, one request at a time each (default 2)")
    parser.add_argument("--bpmn", type=Path, default=ROOT / "bpmn" / "dumas-inspektorat-katingan.bpmn")
    parser.add_argument("--forms", type=Path, default=ROOT / "forms")
    parser.add_argument("--warmup", type=int, default=4, metavar="N", help="untimed sequential cases first")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also cProfile N engine cases")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.concurrency < 1 or args.max_seconds <= 0:
        parser.error("--cases, --concurrency and --max-seconds must be positive")

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (`cmd &`)
    stop = threading.Event()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    try:
        compiled = deployed_spec(args.bpmn, args.forms)  # compiled once, as the service's spec cache holds it
        engine = drive_engine(compiled, args.cases, args.max_seconds)
        print(f"== engine alone: {engine.cases} cases ({engine.steps} completions) in {engine.seconds:.2f} s: "
              f"{engine.cases / engine.seconds:.1f} cases/s, {engine.steps / engine.seconds:.1f} completions/s, "
              f"errors {engine.errors}", flush=True)
        results = [http_phase(backend, args, stop) for backend in backends]
        for result in results:
            report(result, engine)
        if args.profile:
            profile_engine(compiled, args.profile)
    except KeyboardInterrupt:
        stop.set()
        print("\ninterrupted: servers stopped, temp dirs removed", file=sys.stderr)
        return 130
    failed = sum(len(r.errors) for r in results) + engine.errors
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
