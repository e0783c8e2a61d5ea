"""What a step costs, counted rather than timed: Python function calls, SQL statements and (on PostgreSQL) libpq
requests per filing, completion and inbox, through the services and through HTTP. The counts do not move with
the machine's speed, so two commits can be compared on a noisy machine where their timings cannot.

Run from the project root: python -m bench.steps [--cases N] [--database-url URL]
"""
import os

os.environ.setdefault("PSYCOPG_IMPL", "python")  # libpq's calls are counted on its pure-Python binding

import cProfile  # noqa: E402 (the binding is chosen before psycopg is imported)
import pstats  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402

from sqlalchemy import event  # noqa: E402

from bench.throughput import ANSWERS, bench_app, bench_database, http_ops, service_ops  # noqa: E402

LIBPQ_REQUESTS = ("exec_", "exec_params", "exec_prepared", "prepare", "send_query", "send_query_params",
                  "send_prepare", "send_query_prepared")  # each one query or command sent to the server


def count_libpq(counts: Counter) -> bool:
    """Count every request psycopg hands to libpq; False when psycopg runs on its C binding (not counted)."""
    from psycopg import pq
    if pq.__impl__ != "python":
        return False
    for name in LIBPQ_REQUESTS:
        setattr(pq.PGconn, name, _counted(getattr(pq.PGconn, name), counts))
    return True


def _counted(send, counts: Counter):
    def counted(self, *args, **kwargs):
        counts["libpq"] += 1
        return send(self, *args, **kwargs)
    return counted


def measure(label: str, calls: list, counts: Counter, libpq: bool) -> None:
    """Run the calls under cProfile and print the counts per call."""
    counts.clear()
    profile = cProfile.Profile()
    profile.enable()
    for call in calls:
        call()
    profile.disable()
    n = len(calls)
    print(f"{label:<48}{n:>5}{pstats.Stats(profile).total_calls / n:>16,.0f}{counts['statements'] / n:>12.1f}"
          + (f"{counts['libpq'] / n:>16.1f}" if libpq else ""))


def run(ops, counts: Counter, libpq: bool, layer: str, n: int) -> None:
    """File n cases, list the leader's inbox, register the n cases, as one layer (services or HTTP)."""
    file_case, inbox, complete = ops
    for i in range(5):  # warm-up: the version deployed, the spec parsed, statements prepared
        file_case(i)
    measure(f"{layer}: file a dispute", [lambda i=i: file_case(i) for i in range(n)], counts, libpq)
    measure(f"{layer}: a leader's inbox", [lambda: inbox("leader")] * 10, counts, libpq)
    todo = [t for t in inbox("leader") if t["name"] == "register_case"][:n]
    register = ANSWERS["register_case"][1]
    measure(f"{layer}: register it", [lambda t=t: complete("leader", t["id"], register) for t in todo], counts,
            libpq)


def main() -> None:
    args, tmp, url, engine = bench_database(__doc__.splitlines()[0], 30)
    counts = Counter()
    libpq = engine.dialect.name == "postgresql" and count_libpq(counts)
    event.listen(engine.__class__, "before_cursor_execute", lambda *_: counts.update(["statements"]))
    print("command: " + shlex.join(["python", "-m", "bench.steps", *sys.argv[1:]]))
    print(f"database: {engine.dialect.name}; {args.cases} cases a part, after 5 not counted\n")
    print(f"{'operation':<48}{'n':>5}{'function calls':>16}{'statements':>12}"
          + (f"{'libpq requests':>16}" if libpq else ""))

    run(service_ops(engine)[2], counts, libpq, "service", args.cases)
    with bench_app(engine, tmp, url) as app:
        run(http_ops(app.test_client(), []), counts, libpq, "http", args.cases)
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    print("\nStatements as SQLAlchemy sends them (on SQLite its BEGIN too); libpq requests are every query and command"
          "\npsycopg sends, BEGIN, COMMIT, ROLLBACK and the pool's ping included (a prepared statement's first"
          "\nuse on a connection is two). Function calls: all Python calls made, as cProfile counts them.")


if __name__ == "__main__":
    main()
