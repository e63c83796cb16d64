"""Bytes per completed case (issue 13): where the stored bytes of a complaint go, table by table.

    .venv/bin/python benchmarks/case_bytes.py                     # both backends, N = 300
    .venv/bin/python benchmarks/case_bytes.py --backend postgres --cases 100 --json

Runs N complaints of ``benchmarks/models/complaint.bpmn`` in-process (the app behind Flask's test client:
``InProcessApi``, ``api_setup`` and ``run_complaint`` of ``benchmarks/complaints.py``) on a fresh database
(a SQLite WAL file in a temp dir, or a new database on a private PostgreSQL server from
``tests/support/postgres.py``), after the unit, users and model are set up and a few warm-up complaints
are done, then N more. It reads, per table, in bytes per completed complaint:

- **grown**: the growth over the first N, as the files hold it (dead tuples, free space, GIN pending
  lists included) — what a fresh database gains;
- **steady**: the growth over the second N, after a plain ``VACUUM`` on PostgreSQL (what autovacuum
  does in a running system: space of dead tuples becomes reusable) — what a database in use gains per
  case; on SQLite nothing runs in between (it reuses free pages by itself, never space inside a page);
- **live**: after ``VACUUM FULL`` (PostgreSQL) / ``VACUUM`` (SQLite) of both the final and the baseline
  database (a copy made with ``CREATE DATABASE … TEMPLATE`` / SQLite's backup API after the warm-up),
  over all 2N cases — the data itself.

PostgreSQL parts: heap (``pg_relation_size`` of the main fork), TOAST (the TOAST table and its index)
and each index. PostgreSQL compresses values only in a row longer than ``TOAST_TUPLE_THRESHOLD`` (~2 KB,
fixed when the server is built: ``toast_tuple_target`` only sets how far such a row is shrunk), with the
column's method (lz4 for ``cases.state`` and ``cases.data`` since migration 0023, when the server has it),
and moves values to TOAST if the row is still too long. SQLite: the pages of each table and index from the
``dbstat`` virtual table.

It also prints what explains the heap figures: on PostgreSQL, per table, the updates during the run and
how many of them were HOT (``pg_stat_user_tables``: a HOT update adds no index entries and its old
version is pruned within the page; an update that changes an indexed column, such as ``cases.data``
under the register's GIN index, is never HOT), and the storage settings in effect (``reloptions`` of
tables and indexes, columns with their own compression); on SQLite, the page size.

With ``--engine N`` it also times the engine alone (``complaints.engine_alone``: start, two completions,
the state dumped and JSON round-tripped between steps) with format 2 states against format 1 (the same
code with :func:`~service.engine.serialization.compact_state` switched off), alternating five rounds in
one process: CPU-ms per complaint of each, and their ratio.

It also prints the mean stored length of the big columns of a completed case (``cases.state``,
``cases.data``, ``history.data``, ``outbox.payload``), as the database stores them (``pg_column_size`` /
SQLite ``length``), to show what the heap and TOAST figures are made of.

Exits 1 when a complaint failed.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import loadavg
from complaints import InProcessApi, api_setup, bench_environment, cli_setup, environment, run_complaint
from sqlalchemy.engine import make_url
from support.postgres import connect as pg_connect

from service.store import json_columns
from service.store.types import state_of

TARGET_BYTES = 6 * 1024
WARMUP = 3
#: (table, column) of a completed case's big values, read with length() / pg_column_size()
COLUMNS = [("cases", "state"), ("cases", "data"), ("history", "data"), ("outbox", "payload")]


@dataclass
class Sizes:
    """Bytes per relation: ``{table: {"heap": n, "toast": n, "<index name>": n}}``."""

    tables: dict[str, dict[str, int]] = field(default_factory=dict)

    def minus(self, other: Sizes, per: int) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for table, parts in self.tables.items():
            base = other.tables.get(table, {})
            grown = {part: (size - base.get(part, 0)) / per for part, size in parts.items()}
            if any(grown.values()):
                out[table] = grown
        return out


# --- PostgreSQL --------------------------------------------------------------------------------------------
PG_SIZES = """
SELECT c.relname, 'heap', pg_relation_size(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'r'
UNION ALL
SELECT c.relname, 'toast', coalesce(pg_total_relation_size(c.reltoastrelid), 0)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'r'
UNION ALL
SELECT t.relname, 'index ' || i.relname, pg_relation_size(i.oid)
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname = 'public'
"""


def pg_sizes(url: str, vacuum: bool) -> Sizes:
    with pg_connect(url, make_url(url).database or "postgres") as conn:
        if vacuum:
            conn.execute("VACUUM FULL")
        else:
            conn.execute("CHECKPOINT")
        sizes = Sizes()
        for table, part, size in conn.execute(PG_SIZES).fetchall():
            sizes.tables.setdefault(table, {})[part] = int(size)
    return sizes


def pg_copy(url: str, name: str) -> str:
    """A copy of the database of ``url`` (``CREATE DATABASE … TEMPLATE``), as the baseline for "live"."""
    from support.postgres import create_database

    return create_database(url, name, template=make_url(url).database)


PG_UPDATES = """
SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE schemaname = 'public' AND n_tup_upd > 0
"""
PG_SETTINGS = """
SELECT c.relname, array_to_string(c.reloptions, ', ')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.reloptions IS NOT NULL
UNION ALL
SELECT c.relname || '.' || a.attname, 'compression ' || CASE a.attcompression WHEN 'l' THEN 'lz4' ELSE 'pglz' END
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attcompression <> '' AND NOT a.attisdropped
"""


def pg_updates(url: str) -> dict[str, list[int]]:
    """Per table, [updates, HOT updates] since the database was created (the statistics of ended sessions)."""
    with pg_connect(url, make_url(url).database or "postgres") as conn:
        return {str(table): [int(updates), int(hot)] for table, updates, hot in conn.execute(PG_UPDATES).fetchall()}


def pg_settings(url: str) -> dict[str, str]:
    with pg_connect(url, make_url(url).database or "postgres") as conn:
        return {str(name): str(value) for name, value in conn.execute(PG_SETTINGS).fetchall()}


def pg_columns(url: str) -> dict[str, float]:
    out: dict[str, float] = {}
    with pg_connect(url, make_url(url).database or "postgres") as conn:
        count = conn.execute("SELECT count(*) FROM cases WHERE status = 'completed'").fetchone()
        n = int(count[0]) if count else 0
        for table, column in COLUMNS:
            source = ("cases t" if table == "cases"
                      else f"{table} t JOIN cases c ON c.id = t.case_id")
            alias = "t" if table == "cases" else "c"
            # the state is bytea (migration 0025): its JSON text is measured by state_json below
            json_column = (table, column) != ("cases", "state")
            text_of = f"octet_length(t.{column}::text)" if json_column else "0"
            row = conn.execute(
                f"SELECT coalesce(sum(pg_column_size(t.{column})), 0), coalesce(sum({text_of}), 0)"
                f" FROM {source} WHERE {alias}.status = 'completed'").fetchone()
            assert row is not None
            out[f"{table}.{column} stored"] = int(row[0]) / n if n else 0.0
            if json_column:
                out[f"{table}.{column} text"] = int(row[1]) / n if n else 0.0
        out["cases.state JSON"] = state_json(conn.execute("SELECT state FROM cases WHERE status = 'completed'"), n)
    return out


def state_json(rows: Iterable[Sequence[Any]], n: int) -> float:
    """The mean length of the JSON text the stored states (deflated or not, migration 0025) hold."""
    return sum(len(json_columns.dumps(state_of(row[0]))) for row in rows) / n if n else 0.0


# --- SQLite ------------------------------------------------------------------------------------------------
def sqlite_sizes(path: Path, vacuum: bool) -> Sizes:
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        if vacuum:
            conn.execute("VACUUM")
        owners = {name: (table, kind) for kind, name, table in
                  conn.execute("SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")}
        sizes = Sizes()
        for name, pgsize in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table, kind = owners.get(name, (name, "table"))
            part = "heap" if kind == "table" else f"index {name}"
            sizes.tables.setdefault(table, {})[part] = int(pgsize)
        return sizes
    finally:
        conn.close()


def sqlite_page_size(path: Path) -> int:
    conn = sqlite3.connect(path, timeout=30)
    try:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def sqlite_columns(path: Path) -> dict[str, float]:
    conn = sqlite3.connect(path, timeout=30)
    out: dict[str, float] = {}
    try:
        n = conn.execute("SELECT count(*) FROM cases WHERE status = 'completed'").fetchone()[0]
        for table, column in COLUMNS:
            join = "" if table == "cases" else " JOIN cases c ON c.id = t.case_id"
            alias = "t" if table == "cases" else "c"
            total = conn.execute(f"SELECT coalesce(sum(length(CAST(t.{column} AS BLOB))), 0) FROM {table} t{join}"
                                 f" WHERE {alias}.status = 'completed'").fetchone()[0]
            out[f"{table}.{column} stored"] = total / n if n else 0.0
        out["cases.state JSON"] = state_json(conn.execute("SELECT state FROM cases WHERE status = 'completed'"), n)
    finally:
        conn.close()
    return out


# --- one run -----------------------------------------------------------------------------------------------
@dataclass
class Result:
    backend: str
    cases: int = 0
    grown: dict[str, dict[str, float]] = field(default_factory=dict)
    steady: dict[str, dict[str, float]] = field(default_factory=dict)
    live: dict[str, dict[str, float]] = field(default_factory=dict)
    columns: dict[str, float] = field(default_factory=dict)
    #: PostgreSQL: per table, [updates, HOT updates] over the run
    updates: dict[str, list[int]] = field(default_factory=dict)
    #: storage settings in effect: PostgreSQL reloptions and column compression, SQLite page size
    settings: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    loadavg_before: str = ""
    loadavg_after: str = ""

    @staticmethod
    def total(parts: dict[str, dict[str, float]]) -> float:
        return sum(sum(p.values()) for p in parts.values())

    def summary(self) -> dict[str, Any]:
        return {"backend": self.backend, "cases": self.cases, "grown_total": round(self.total(self.grown)),
                "steady_total": round(self.total(self.steady)), "live_total": round(self.total(self.live)),
                "grown": {t: {k: round(v) for k, v in p.items()} for t, p in self.grown.items()},
                "steady": {t: {k: round(v) for k, v in p.items()} for t, p in self.steady.items()},
                "live": {t: {k: round(v) for k, v in p.items()} for t, p in self.live.items()},
                "columns": {k: round(v) for k, v in self.columns.items()}, "updates": self.updates,
                "settings": self.settings, "errors": self.errors[:10],
                "loadavg_before": self.loadavg_before, "loadavg_after": self.loadavg_after}


def complaints(url: str, workdir: Path, cases: int, at_baseline: Callable[[], None],
               between: Callable[[int], None]) -> tuple[int, int, list[str]]:
    """Set up, warm up, ``at_baseline()``, run ``cases`` complaints, ``between(completed)``, run ``cases``
    more; returns (completed in the first batch, in the second, errors)."""
    with environment({**bench_environment(workdir), "ALUR_DATABASE_URL": url}):
        cli_setup()
        api = InProcessApi()
        try:
            tokens = api_setup(api)
            for _ in range(WARMUP):
                run_complaint(api, tokens)
            api.close()  # no connection of ours open while the baseline is read or copied
            at_baseline()
            first = sum(run_complaint(api, tokens)[0] for _ in range(cases))
            api.close()
            between(first)
            second = sum(run_complaint(api, tokens)[0] for _ in range(cases))
        finally:
            api.close()
    return first, second, list(api.errors)


def run_sqlite(cases: int) -> Result:
    result = Result("sqlite")
    with tempfile.TemporaryDirectory(prefix="alur-case-bytes-sqlite-") as tmp:
        path = Path(tmp) / "alur.db"
        base_copy = Path(tmp) / "baseline.db"
        middle: list[Sizes] = []

        def baseline() -> None:
            src = sqlite3.connect(path, timeout=30)
            dst = sqlite3.connect(base_copy)
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()

        def between(done: int) -> None:  # SQLite reuses free pages by itself; nothing runs VACUUM
            middle.append(sqlite_sizes(path, False))
            result.grown = middle[0].minus(sqlite_sizes(base_copy, False), done or 1)

        result.loadavg_before = loadavg()
        first, second, result.errors = complaints(f"sqlite:///{path}", Path(tmp), cases, baseline, between)
        result.cases = first + second
        result.steady = sqlite_sizes(path, False).minus(middle[0], second or 1)
        result.columns = sqlite_columns(path)
        result.settings = {"page_size": str(sqlite_page_size(path))}
        result.live = sqlite_sizes(path, True).minus(sqlite_sizes(base_copy, True), result.cases or 1)
        result.loadavg_after = loadavg()
    return result


def run_postgres(server: str, cases: int) -> Result:
    from support.postgres import create_database

    result = Result("postgres")
    with tempfile.TemporaryDirectory(prefix="alur-case-bytes-pg-") as tmp:
        url = create_database(server, "case_bytes")
        copies: list[str] = []
        middle: list[Sizes] = []

        def baseline() -> None:
            copies.append(pg_copy(url, "case_bytes_base"))

        def between(done: int) -> None:  # what autovacuum does in a running system: plain VACUUM
            result.grown = pg_sizes(url, False).minus(pg_sizes(copies[0], False), done or 1)
            with pg_connect(url, make_url(url).database or "postgres") as conn:
                conn.execute("VACUUM")
            middle.append(pg_sizes(url, False))

        result.loadavg_before = loadavg()
        first, second, result.errors = complaints(url, Path(tmp), cases, baseline, between)
        result.cases = first + second
        result.steady = pg_sizes(url, False).minus(middle[0], second or 1)
        result.columns = pg_columns(url)
        result.updates = pg_updates(url)
        result.settings = pg_settings(url)
        result.live = pg_sizes(url, True).minus(pg_sizes(copies[0], True), result.cases or 1)
        result.loadavg_after = loadavg()
    return result


# --- the engine alone: format 2 against format 1 ------------------------------------------------------------
def engine_formats(complaints_per_round: int, rounds: int = 5) -> dict[str, Any]:
    from complaints import engine_alone

    from service.engine import serialization

    compact = serialization.compact_state
    cpu: dict[str, list[float]] = {"format 1": [], "format 2": []}
    size: dict[str, int] = {}
    try:
        for _ in range(rounds):
            for name in cpu:
                serialization.compact_state = compact if name == "format 2" else dict  # type: ignore[assignment]
                result = engine_alone(complaints_per_round)
                if result.errors:
                    raise RuntimeError(f"{name}: {result.errors} complaints did not complete")
                cpu[name].append(result.cpu_ms)
                size[name] = result.state_bytes
    finally:
        serialization.compact_state = compact
    best = {name: min(values) for name, values in cpu.items()}
    return {"complaints_per_round": complaints_per_round, "rounds": rounds,
            "cpu_ms_per_complaint_min": {k: round(v, 3) for k, v in best.items()},
            "cpu_ms_per_complaint_all": {k: [round(v, 3) for v in values] for k, values in cpu.items()},
            "ratio_2_to_1": round(best["format 2"] / best["format 1"], 3), "final_state_bytes": size}


# --- output ------------------------------------------------------------------------------------------------
def markdown(results: list[Result]) -> str:
    lines = []
    for r in results:
        lines += [f"**{r.backend}**, {r.cases} completed cases, load {r.loadavg_before} → {r.loadavg_after}", "",
                  "| table | part | grown B/case | steady B/case | live B/case |", "|---|---|---:|---:|---:|"]
        views = (r.grown, r.steady, r.live)
        for table in sorted(set().union(*views)):
            parts = sorted(set().union(*(view.get(table, {}) for view in views)), key=lambda p: (p != "heap", p))
            for part in parts:
                sizes = [view.get(table, {}).get(part, 0.0) for view in views]
                if any(round(size) for size in sizes):
                    lines.append(f"| {table} | {part} | " + " | ".join(f"{size:,.0f}" for size in sizes) + " |")
        lines.append("| **total** | | " + " | ".join(f"**{Result.total(view):,.0f}**" for view in views) + " |")
        lines += ["", "Stored column values per completed case: "
                  + ", ".join(f"{k} {v:,.0f}" for k, v in r.columns.items()), ""]
        if r.updates:
            lines += ["Updates during the run (HOT of them): "
                      + ", ".join(f"{t} {n:,} ({hot:,})" for t, (n, hot) in sorted(r.updates.items())), ""]
        if r.settings:
            lines += ["Storage settings: " + "; ".join(f"{k}: {v}" for k, v in sorted(r.settings.items())), ""]
    return "\n".join(lines)


@contextmanager
def postgres_server(stack: ExitStack) -> Iterator[str]:
    from support.postgres import running_postgres

    base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alur-case-bytes-pgsrv-")))
    with running_postgres(base) as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--engine", type=int, default=0, metavar="N",
                        help="also time N complaints per round through the engine alone, format 2 against 1")
    parser.add_argument("--engine-only", action="store_true", help="only the engine timing")
    args = parser.parse_args(argv)
    results: list[Result] = []
    engine = engine_formats(args.engine or 300) if args.engine or args.engine_only else None
    if args.engine_only:
        print(json.dumps(engine, indent=2))
        return 0
    if args.backend in ("sqlite", "both"):
        results.append(run_sqlite(args.cases))
    if args.backend in ("postgres", "both"):
        with ExitStack() as stack, postgres_server(stack) as server:
            results.append(run_postgres(server, args.cases))
    if args.json:
        print(json.dumps({"results": [r.summary() for r in results], "engine": engine}, indent=2))
    else:
        if engine:
            print(f"engine alone: {json.dumps(engine)}")
        print(markdown(results))
        for r in results:
            verdict = "met" if Result.total(r.live) <= TARGET_BYTES else "MISSED"
            print(f"{r.backend}: grown {Result.total(r.grown):,.0f}, steady {Result.total(r.steady):,.0f},"
                  f" live {Result.total(r.live):,.0f} B/case"
                  f" (target ≤ {TARGET_BYTES:,}: {verdict} on live)")
            for error in r.errors[:5]:
                print(f"  error: {error}", file=sys.stderr)
    return 1 if any(r.errors or r.cases < 2 * args.cases for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
