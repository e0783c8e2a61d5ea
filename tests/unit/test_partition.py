"""Parallel test workers each get their own database, Redis database and queue; one process keeps the base ones."""
import pytest

from tests import partition

PG = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/14"


@pytest.fixture
def worker(monkeypatch):
    def _as(name: str):
        monkeypatch.setattr(partition, "WORKER", name)
    return _as


def test_each_xdist_worker_gets_its_own_postgresql_database(worker):
    worker("gw1")
    assert partition.database_url(PG) == "postgresql://postgres@127.0.0.1:5432/test_gw1"


def test_each_xdist_worker_gets_the_redis_database_its_number_after_the_base_one(worker):
    worker("gw1")
    assert partition.redis_url(REDIS) == "redis://127.0.0.1:6379/15"
    assert partition.redis_url("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379/1"


def test_each_xdist_worker_gets_its_own_queue(worker):
    worker("gw0")
    assert partition.queue_name("gridflow-test") == "gridflow-test-gw0"


def test_a_run_without_xdist_keeps_the_base_names(worker):
    worker("")
    assert (partition.database_url(PG), partition.redis_url(REDIS), partition.queue_name("q")) == (PG, REDIS, "q")


def test_sqlite_and_the_embedded_redis_are_left_alone_as_each_worker_has_its_own_folder(worker):
    worker("gw1")
    assert partition.database_url("") == ""
    assert partition.redis_url("unix:///tmp/x/redis.sock") == "unix:///tmp/x/redis.sock"
