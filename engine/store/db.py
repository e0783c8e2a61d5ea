"""Database engines, sessions and migrations, with SQLite and PostgreSQL behaving alike."""
import os
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from engine.store import case_rows, outbox, timeline
from engine.store.model import Grid, SlaClock

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalize_url(url: str) -> str:
    """psycopg 3 for postgresql:// URLs; SQLite files by absolute path, their folder created."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///")).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    return url


def engine_options(url: str) -> dict:
    """Connection options the web app and the worker share."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def make_engine(url: str) -> Engine:
    """An engine for `url`, prepared for Gridflow."""
    url = normalize_url(url)
    return prepare(create_engine(url, **engine_options(url)))


def prepare(engine: Engine) -> Engine:
    """SQLite gets WAL, foreign keys, a busy timeout and one writer decided at BEGIN; PostgreSQL connections
    are let go of in forked children."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    else:
        _let_go_in_forked_children(engine)
    return engine


def _sqlite_pragmas(dbapi_connection, _record):
    # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE below takes effect.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")  # a committed case survives a power cut
    cursor.close()


READING = "gridflow_reading"  # an execution option: the connection's transaction only reads
READ_ONLY = "read_only"  # session.info: the session belongs to a reading unit of work


def reading_options(engine: Engine) -> dict:
    """Execution options for a unit of work that only reads (engine/store/unit_of_work.py): no transaction on
    PostgreSQL, a deferred one on SQLite."""
    return {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {READING: True}


def _sqlite_begin_immediate(connection):
    # One writer at a time, decided at BEGIN: a read-then-write never fails half way with "locked". A reading
    # transaction takes a snapshot instead and does not wait for the writer (WAL).
    connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READING) else "BEGIN IMMEDIATE")


def _let_go_in_forked_children(engine: Engine) -> None:
    """A child forked from this process (RQ forks its scheduler) lets go of the parent's PostgreSQL sockets.

    Otherwise the child keeps them open: when the parent is killed in the middle of a transaction, the
    server never sees the connection close and the transaction goes on holding its row locks. In the child
    each inherited socket is pointed at /dev/null, so the server sees the parent's death and rolls back,
    while the child's copy of the connection can still be closed harmlessly.
    """
    opened, engine_ref = weakref.WeakSet(), weakref.ref(engine)
    event.listen(engine, "connect", lambda dbapi_connection, _record: opened.add(dbapi_connection))

    def in_child():
        if engine_ref() is not None:
            engine_ref().dispose(close=False)
        devnull = os.open(os.devnull, os.O_RDWR)
        for connection in list(opened):
            if not connection.closed:  # a closed one holds no socket to let go of
                os.dup2(devnull, connection.fileno())
        os.close(devnull)
    os.register_at_fork(after_in_child=in_child)


def make_session_factory(engine: Engine, timeline_key: bytes) -> sessionmaker:
    """Sessions for services; each carries the key that seals case timelines (engine/store/timeline.py) and
    writes a transaction's timeline events and its webhook outbox (engine/store/outbox.py) when it commits."""
    sessions = sessionmaker(bind=engine, expire_on_commit=False, info={"timeline_key": timeline_key})
    event.listen(sessions, "before_commit", _write_pending)  # first: the outbox writes what it collects
    event.listen(sessions, "before_flush", _refuse_writes)
    event.listen(sessions, "do_orm_execute", _refuse_write_statements)
    event.listen(sessions, "before_flush", outbox.collect)
    event.listen(sessions, "before_commit", outbox.write)
    event.listen(sessions, "after_soft_rollback", _forget_unless_savepoint)
    event.listen(sessions, "after_transaction_end", outbox.forget)
    event.listen(sessions, "loaded_as_persistent", _hold)
    event.listen(sessions, "transient_to_pending", case_rows.added)
    event.listen(sessions, "after_transaction_end", case_rows.forget)
    event.listen(sessions, "after_soft_rollback", case_rows.forget_rolled_back)
    event.listen(sessions, "after_transaction_end", _let_go)
    return sessions


def _refuse_writes(session, _context, _instances) -> None:
    """A reading unit of work runs without a transaction on PostgreSQL: a write there would stay half done."""
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a reading unit of work may not write")


def _refuse_write_statements(state) -> None:
    """The same for an INSERT, UPDATE or DELETE statement sent through the session."""
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise RuntimeError("a reading unit of work may not write")


def _write_pending(session) -> None:
    """What a transaction keeps aside until its commit: its timeline events (and their webhook events), its new
    deadlines, notices and cancelled deadlines."""
    outbox.collect_events(session, timeline.write_pending(session))
    case_rows.write_new(session)


HELD = "held"  # session.info: the grids and SLA clocks this transaction has loaded
HELD_TYPES = (Grid, SlaClock)


def _hold(session, instance) -> None:
    """Keep every grid and SLA clock a transaction loads until it ends. The identity map holds objects weakly,
    so a row looked up by id (`session.get`) several times in one use case (the case's grid, the responsible
    one, the level above; a deadline's clock) was read again each time it had gone out of scope, and a batch of
    firings could not read its clocks once for all; both are few per transaction."""
    if isinstance(instance, HELD_TYPES):
        session.info.setdefault(HELD, []).append(instance)


def _let_go(session, transaction) -> None:
    if transaction.parent is None:  # a flush's or a savepoint's end is not the transaction's
        session.info.pop(HELD, None)


def _forget_unless_savepoint(session, transaction) -> None:
    if not transaction.nested:  # a savepoint rolled back keeps the transaction, and its events, going
        timeline.forget_pending(session)


def create_database(url: str, via: str) -> None:
    """Make the PostgreSQL database `url` names unless it exists, connected to the database `via` of the same
    server (a bench's own database on a fresh server, an xdist worker's beside the tests' base one)."""
    url = make_url(normalize_url(url))
    admin = create_engine(url.set(database=via), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                     {"name": url.database}):
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def upgrade(engine: Engine, timeline_key: bytes | None = None, revision: str = "head") -> None:
    """Bring the schema to the newest migration (or `revision`); builds an empty database on first start.

    The timeline key is needed once, by the migration that re-seals timelines written before they were keyed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes.update(connection=connection, timeline_key=timeline_key)
        command.upgrade(config, revision)
