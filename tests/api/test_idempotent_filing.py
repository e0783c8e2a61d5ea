"""A phone on a bad network retries its filing: the same Idempotency-Key files once, even concurrently."""
from functools import partial

from sqlalchemy import func, select

from engine.cases import services
from engine.store.model import Case
from tests.helpers import race, user_id

CASE = {"type": "dispute", "title": "邻里纠纷", "severity": "low"}


def cases(app) -> int:
    with app.extensions["gridflow"].uow() as uow:
        return uow.session.scalar(select(func.count(Case.id)))


def test_a_retry_with_the_same_key_returns_the_first_case(client, login, app):
    headers = {**login("worker"), "Idempotency-Key": "phone-7f3a"}
    first = client.post("/api/v1/cases", headers=headers, json=CASE)
    again = client.post("/api/v1/cases", headers=headers, json=CASE)
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"] and again.json["number"] == first.json["number"]
    assert cases(app) == 1
    other = client.post("/api/v1/cases", headers={**headers, "Idempotency-Key": "phone-8b21"}, json=CASE)
    assert other.json["id"] != first.json["id"] and cases(app) == 2


def test_the_same_key_for_a_different_filing_is_a_conflict(client, login, app):
    headers = {**login("worker"), "Idempotency-Key": "phone-7f3a"}
    client.post("/api/v1/cases", headers=headers, json=CASE)
    response = client.post("/api/v1/cases", headers=headers, json={**CASE, "title": "另一件事"})
    assert response.status_code == 409 and "Idempotency-Key" in response.json["errors"]
    assert cases(app) == 1


def test_keys_belong_to_their_user(client, login, app):
    client.post("/api/v1/cases", headers={**login("worker"), "Idempotency-Key": "k1"}, json=CASE)
    client.post("/api/v1/cases", headers={**login("leader"), "Idempotency-Key": "k1"}, json=CASE)
    assert cases(app) == 2


def test_concurrent_retries_file_exactly_one_case(deps):
    worker = user_id(deps, "worker")
    new = services.NewCase(type="dispute", title="并发重试", severity="low")
    for round_no in range(5):
        results = race(*[partial(services.file_case, deps, worker, new, f"race-{round_no}")] * 4)
        assert all(isinstance(r, int) for r in results) and len(set(results)) == 1, results
    with deps.uow() as uow:
        assert uow.session.scalar(select(func.count(Case.id))) == 5
