"""Guessing a password gets slower and slower for that user from that address; nobody else is slowed."""
import dataclasses

import pytest

from app import create_app
from engine.imports import demo
from engine.people import throttle
from tests.api.test_auth import sign_in
from tests.api_client import in_english

OFFICE, STRANGER = "10.1.2.3", "203.0.113.9"


def guess(client, username="leader", address=STRANGER, **kwargs):
    return sign_in(client, username, "wrong guess", address=address, **kwargs)


def test_guesses_from_one_address_wait_twice_as_long_each_time_up_to_fifteen_minutes(client, clock):
    for _ in range(throttle.FREE_FAILURES):
        assert guess(client).status_code == 401
    waits = []
    for _ in range(12):
        refused = guess(client)
        assert refused.status_code == 429 and refused.json["code"] == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(seconds=waits[-1])
        assert guess(client).status_code == 401
    assert waits[:5] == [2, 4, 8, 16, 32] and waits[-1] == 15 * 60


def failed_before(app, times, username="leader", address=STRANGER):
    """Failures recorded as sign-in records them, without paying for the password hash each time."""
    deps = app.extensions["gridflow"]
    for _ in range(times):
        deps.clock.advance(minutes=15)  # long enough for the next attempt to be let through
        with deps.uow() as uow:
            throttle.record_attempt(uow.session, username, address, deps.clock.now())
            uow.commit()


def test_the_429_says_how_long_to_wait(app, client, clock):
    in_english(client)  # these words are the detailed English ones
    for _ in range(throttle.FREE_FAILURES):
        guess(client)
    refused = guess(client)
    assert refused.headers["Retry-After"] == "2"
    assert "try again in 2 seconds" in refused.json["message"]
    failed_before(app, 10)
    refused = guess(client)
    assert refused.headers["Retry-After"] == str(15 * 60) and "try again in 15 minutes" in refused.json["message"]


def test_the_right_password_waits_too_while_the_pair_is_slowed_then_clears_its_failures(client, clock):
    for _ in range(throttle.FREE_FAILURES):
        guess(client, address=OFFICE)
    assert sign_in(client, "leader", address=OFFICE).status_code == 429  # else a guesser would learn it is right
    clock.advance(seconds=2)
    assert sign_in(client, "leader", address=OFFICE).status_code == 201
    for _ in range(throttle.FREE_FAILURES):
        assert guess(client, address=OFFICE).status_code == 401


def test_a_stranger_guessing_cannot_lock_the_user_out_of_their_own_address(app, client):
    failed_before(app, 30)
    assert guess(client).status_code == 429
    assert sign_in(client, "leader", address=OFFICE).status_code == 201


def test_many_failures_from_one_office_address_slow_no_one_else_there(client):
    for n in range(21):  # one address used to lock everyone behind it after 20
        assert guess(client, f"nobody{n}", address=OFFICE).status_code == 401
    assert sign_in(client, "worker", address=OFFICE).status_code == 201
    assert sign_in(client, "leader", address=OFFICE).status_code == 201


def test_a_users_sign_in_elsewhere_gives_the_guesser_no_fresh_start(client):
    for _ in range(throttle.FREE_FAILURES):
        guess(client)
    assert sign_in(client, "leader", address=OFFICE).status_code == 201
    assert guess(client).status_code == 429


def test_parallel_guesses_each_count_before_the_password_is_checked(app, client, clock):
    deps = app.extensions["gridflow"]
    for _ in range(throttle.FREE_FAILURES):  # attempts whose hash is still being checked: recorded, not answered
        with deps.uow() as uow:
            throttle.record_attempt(uow.session, "leader", STRANGER, clock.now())
            uow.commit()
    assert sign_in(client, "leader", address=STRANGER).status_code == 429


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(client):
    for n in range(throttle.FREE_FAILURES):
        guess(client, headers={"X-Forwarded-For": f"198.51.100.{n}"})
    assert guess(client, headers={"X-Forwarded-For": "198.51.100.99"}).status_code == 429


@pytest.fixture
def behind_proxy(app, settings, clock):
    """The app as deployed behind one reverse proxy (GRIDFLOW_PROXY_HOPS=1), on the same database."""
    proxied = create_app(dataclasses.replace(settings, proxy_hops=1), clock=clock)
    proxied.config["TESTING"] = True
    return proxied.test_client()


def test_behind_a_trusted_proxy_each_client_address_has_its_own_counters(behind_proxy):
    def via_proxy(address, password="wrong guess"):
        return sign_in(behind_proxy, "leader", password, address="10.0.0.2", headers={"X-Forwarded-For": address})

    for _ in range(throttle.FREE_FAILURES):
        assert via_proxy(STRANGER).status_code == 401
    assert via_proxy(STRANGER).status_code == 429
    assert via_proxy(OFFICE, password=demo.DEMO_PASSWORD).status_code == 201  # the same proxy, another client
    spoofed = sign_in(behind_proxy, "leader", "x", address="10.0.0.2",
                      headers={"X-Forwarded-For": f"1.2.3.4, {STRANGER}"})  # only the proxy's own hop counts
    assert spoofed.status_code == 429
