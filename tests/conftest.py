"""Fixtures on the real stack: SQLite or PostgreSQL (GRIDFLOW_TEST_DATABASE_URL), a real Redis
(GRIDFLOW_TEST_REDIS_URL, else the embedded one) and a fresh set of rows for every test."""
import os
import tempfile
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from engine import bootstrap
from engine.clock import SystemClock
from engine.config import Settings
from engine.imports import demo
from engine.people import auth
from engine.process import runner
from engine.store import db, embedded_redis
from engine.store.model import Base, Grid
from serving import metrics
from tests import partition
from tests.fakes import FakeClock, FakeScheduler
from tests.helpers import user_id
from workflows import CATALOGUE

INSTANCE = Path(tempfile.mkdtemp(prefix="gridflow-test-"))  # one per process, so one per xdist worker
DATABASE_URL = os.environ.get("GRIDFLOW_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(
        instance_path=INSTANCE,
        database_url=partition.database_url(DATABASE_URL) or f"sqlite:///{INSTANCE / 'test.db'}",
        redis_url=partition.redis_url(os.environ.get("GRIDFLOW_TEST_REDIS_URL", "")),
        secret_key="test",
        queue_name=partition.queue_name("gridflow-test"),
        migrate=False,  # the sql_engine fixture migrates once per run
    )


@pytest.fixture(scope="session")
def sql_engine(settings):
    partition.create_database(DATABASE_URL)
    engine = db.make_engine(settings.database_url)
    if engine.dialect.name == "postgresql":  # start from nothing, whatever an older run left
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    db.upgrade(engine, settings.chain_key)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(sql_engine):
    with sql_engine.begin() as connection:
        connection.execute(Grid.__table__.update().values(leader_id=None))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return sql_engine


@pytest.fixture
def clock():
    """A clock that stands still until the test moves it; workflow timers read it too."""
    fake = FakeClock()
    runner.use_clock(fake)
    yield fake
    runner.use_clock(SystemClock())


@pytest.fixture
def deps(settings, clean_db, clock, session_redis_url):
    """Engine dependencies on the real database, a fake clock and a recording scheduler."""
    built = bootstrap.build(settings, CATALOGUE, sql_engine=clean_db, clock=clock, migrate=False)
    built.scheduler = FakeScheduler()
    demo.load(built)
    return built


@pytest.fixture(scope="session")
def session_redis_url(settings):
    url = bootstrap.redis_url(settings)
    yield url
    if settings.embedded_redis:
        embedded_redis.stop(settings.instance_path)


@pytest.fixture
def redis_url(session_redis_url):
    redis.Redis.from_url(session_redis_url).flushdb()
    return session_redis_url


@pytest.fixture(scope="session")
def built_app(settings, sql_engine, session_redis_url):
    """The web app, built once per test process: its routes and OpenAPI document take longer to build than
    most tests take to run. The `app` fixture gives it each test's own engine dependencies."""
    from app import create_app
    application = create_app(settings)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def app(built_app, settings, clean_db, clock, redis_url):
    """The web app on a fresh database with the demo loaded, on the test's clock: what create_app builds,
    with the engine dependencies made for this test (as create_app makes them, over the app's own engine)."""
    built = bootstrap.build(settings, CATALOGUE, sql_engine=built_app.extensions["gridflow"].sessions.kw["bind"],
                            clock=clock, migrate=False)
    metrics.watch(built.sessions)  # as serving.register does for the app's first ones
    built_app.extensions["gridflow"] = built
    demo.load(built)
    return built_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(app):
    """login('worker') -> headers with a bearer token for that demo user (sign-in itself is tested apart)."""
    deps = app.extensions["gridflow"]

    def _login(username: str) -> dict:
        issued = auth.grant_token(deps, user_id(deps, username), hours=1)
        return {"Authorization": f"Bearer {issued.token}"}
    return _login
