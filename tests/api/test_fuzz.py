"""Property-based fuzzing of every operation in the app's own OpenAPI document (schemathesis).

Whatever is sent, the app answers without a 5xx, with a status code the document declares for the operation,
the declared content type and a body that matches the declared schema. Each operation is its own test with a
fresh database; requests within it share that database, so earlier examples may have changed what later ones
find. The generation is derandomized, so a failure reproduces on every run.
"""
import io

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import api
from engine.imports import demo

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=15, deadline=None, derandomize=True, database=None,
    # the app fixture is built once per operation, not per example, on purpose: that is what misfires here
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _document_app() -> Flask:
    """The API's blueprints on a bare app: the same OpenAPI document, without a database at import time."""
    app = Flask(__name__)
    api.register(app)
    return app


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())
ABOUT_A_CASE = r"\{(case_id|task_id|code|attachment_id)\}"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def filed(client, login) -> dict:
    """Real path parameters: a dispute the grid worker filed, its registration task, the worker's grid and a
    photo on the case."""
    case = client.post("/api/v1/cases", headers=login("worker"), json={"type": "dispute", "title": "邻里纠纷"}).json
    photo = client.post(f"/api/v1/cases/{case['id']}/attachments", headers=login("worker"),
                        data={"file": (io.BytesIO(PNG), "photo.png"), "kind": "report"}).json
    return {"case_id": case["id"], "task_id": case["tasks"][0]["id"], "code": case["grid_code"],
            "attachment_id": photo["id"]}


@pytest.fixture
def admin(login) -> dict:
    """The admin's headers, one token for all the examples of an operation (an example that signs out makes
    the rest answer 401, which the document declares)."""
    return login("admin")


@pytest.fixture
def worker(login) -> dict:
    """The grid worker's headers, one token for all the examples of an operation."""
    return login("worker")


def _about(case, filed: dict):
    """Point the generated request at the filed case; query, headers and body stay generated."""
    case.path_parameters = {**case.path_parameters,
                            **{name: value for name, value in filed.items() if name in case.path_parameters}}
    return case


def test_the_fuzzed_document_is_the_apps_own(client):
    assert client.get("/api/v1/openapi.json").json == _document_app().test_client().get("/api/v1/openapi.json").json


@schema.parametrize()
@FUZZ
def test_no_request_from_an_admin_breaks_the_api(case, app, admin):
    case.call_and_validate(app=app, headers=admin, checks=CHECKS)


@schema.include(path_regex=ABOUT_A_CASE).parametrize()
@FUZZ
def test_no_request_from_an_admin_about_a_filed_case_breaks_the_api(case, app, admin, filed):
    _about(case, filed).call_and_validate(app=app, headers=admin, checks=CHECKS)


@schema.exclude(path_regex="^/api/v1/admin/").parametrize()
@FUZZ
def test_no_request_from_a_grid_worker_about_their_case_breaks_the_api(case, app, worker, filed):
    _about(case, filed).call_and_validate(app=app, headers=worker, checks=CHECKS)


JSON = "application/json"
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_JSON = b"[" * 30_000 + b"]" * 30_000  # as deep as fits in a JSON endpoint's 64 KB
RARE_INPUTS = [  # each answered 500 (some on PostgreSQL only); the fuzzer draws most of them too seldom
    ("get", "/api/v1/cases/99999999999999999999", {}, 404, None),
    ("get", "/api/v1/tasks/a%00b", {}, 404, None),
    ("get", "/api/v1/grids?parent=a%00b", {}, 422, "parent"),
    ("post", "/api/v1/cases", {"json": {"type": "dispute", "title": "a\x00b"}}, 422, "title"),
    ("post", "/api/v1/cases", {"data": b'{"type": "dispute", "title": "\\ud800"}'}, 422, "title"),
    ("post", "/api/v1/cases", {"data": b'{"type": "dispute", "title": "x", "\\ud800": 1}'}, 422, "\\ud800"),
    ("post", "/api/v1/cases", {"json": {"type": "dispute", "title": "x"}, "headers": {"Idempotency-Key": "k\x00"}},
     422, "Idempotency-Key"),
    ("post", "/api/v1/cases", {"data": DEEP_JSON}, 400, None),
    ("post", "/api/v1/cases", {"data": DEEP}, 413, None),
    ("post", "/api/v1/cases", {"data": b'{"location": {"lat": ' + b"9" * 5000 + b', "lng": 1}}'}, 400, None),
    ("post", "/api/v1/auth/token", {"json": {"username": "worker\x00", "password": "x"}}, 422, "username"),
    ("put", "/api/v1/admin/holidays/2027-01-04", {"json": {"kind": "holiday", "name": "\x00"}}, 422, "name"),
    ("post", "/api/v1/admin/imports/departments", {"content_type": "text/csv", "data": (
        "code,name,kind,grid_code\n350583106-x,仑苍\x00镇,judicial,350583106\n").encode()}, 422, "row 2.name"),
    ("post", "/api/v1/admin/imports/grids", {"content_type": "application/geo+json", "data": DEEP}, 422, "file"),
]


@pytest.mark.parametrize(("method", "url", "request_kwargs", "status", "field"), RARE_INPUTS)
def test_rare_inputs_answer_a_json_error_that_names_the_field(client, login, method, url, request_kwargs, status,
                                                              field):
    kwargs = {"content_type": JSON, **request_kwargs} if "data" in request_kwargs else dict(request_kwargs)
    headers = {**login("admin" if "/admin/" in url else "worker"), **kwargs.pop("headers", {})}
    response = getattr(client, method)(url, headers=headers, **kwargs)
    assert response.status_code == status, response.json
    assert set(response.json) == {"code", "message", "errors"}
    assert field is None or field in response.json["errors"]


def test_a_non_ascii_csrf_token_is_refused_like_a_wrong_one(client):
    signed_in = client.post("/api/v1/auth/session", json={"username": "worker", "password": demo.DEMO_PASSWORD})
    assert signed_in.status_code == 201
    response = client.post("/api/v1/cases", json={"type": "dispute", "title": "x"}, headers={"X-CSRF-Token": "é"})
    assert response.status_code == 401 and response.json["code"] == 401
    assert client.delete("/api/v1/auth/session", headers={"X-CSRF-Token": "é"}).status_code == 204
