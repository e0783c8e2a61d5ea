"""JSON nested deeper than the API reads is refused as malformed (400) before any schema walks it, on every
endpoint, signed in or not: no 500, no traceback in the log."""
import logging

import pytest

from api.context import MAX_JSON_DEPTH
from tests.api_client import assert_error, file, in_english, task_id


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def post(client, url, body: str, headers=None):
    return client.post(url, data=body, content_type="application/json", headers=headers or {})


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 330, 30_000])
def test_a_deeply_nested_sign_in_is_a_400_not_a_500(client, caplog, depth):
    in_english(client)  # these words are the detailed English ones
    for url in ("/api/v1/auth/token", "/api/v1/auth/session"):
        response = post(client, url, f'{{"username": {nested(depth)}, "password": "x"}}')
        assert_error(response, 400)
        assert f"{MAX_JSON_DEPTH} levels" in response.json["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_deep_nesting_is_refused_on_cases_comments_and_completions(client, login, caplog):
    in_english(client)  # these words are the detailed English ones
    worker, leader = login("worker"), login("leader")
    case = file(client, login)
    for url, body, headers in [
        ("/api/v1/cases", f'{{"type": "dispute", "title": {nested(330)}}}', worker),
        (f"/api/v1/cases/{case['id']}/comments", f'{{"text": {nested(330)}}}', worker),
        (f"/api/v1/tasks/{task_id(case)}/complete", f'{{"data": {{"reason": {nested(330)}}}}}', leader),
        (f"/api/v1/cases/{case['id']}/escalate", f'{{"reason": {nested(330)}}}', worker),
    ]:
        response = post(client, url, body, headers)
        assert_error(response, 400)
        assert "nested" in response.json["message"], url
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_nesting_up_to_the_bound_reaches_the_schema_which_names_the_field(client):
    response = post(client, "/api/v1/auth/token", f'{{"username": {nested(MAX_JSON_DEPTH - 1)}, "password": "x"}}')
    assert_error(response, 422, "username")
