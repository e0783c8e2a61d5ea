"""Every answer carries the security headers; cookies are Secure over HTTPS; a 405 says which methods work."""
import dataclasses
import re

import pytest

from api.security import CONTENT_SECURITY_POLICY
from app import create_app
from engine.imports import demo

SIGN_IN = {"username": "worker", "password": demo.DEMO_PASSWORD}


def assert_secured(response):
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, response.request.path
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"


def test_the_policy_allows_no_inline_script_and_no_framing():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_api_answers_errors_docs_and_assets_all_carry_the_headers(client, login):
    for response in (client.get("/api/v1/tasks", headers=login("worker")), client.get("/api/v1/tasks"),
                     client.get("/api/v1/cases/999999", headers=login("worker")), client.get("/healthz"),
                     client.get("/api/v1/openapi.json"), client.get("/api/v1/docs"),
                     client.get("/api/v1/docs/swagger-init.js"), client.get("/api/v1/docs/assets/swagger-ui.css"),
                     client.post("/api/v1/auth/token", json=SIGN_IN)):
        assert_secured(response)


def test_tokens_and_other_api_answers_are_not_stored_by_caches(client):
    issued = client.post("/api/v1/auth/token", json=SIGN_IN)
    assert issued.status_code == 201 and issued.headers["Cache-Control"] == "no-store"
    session = client.post("/api/v1/auth/session", json=SIGN_IN)
    assert session.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {issued.json['token']}"}) \
        .headers["Cache-Control"] == "no-store"


def test_the_docs_page_has_no_inline_script_and_loads_its_starter_from_a_file(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="/api/v1/docs/' in attrs and not body.strip() for attrs, body in scripts)
    assert "style=" not in page and "<style" not in page
    starter = client.get("/api/v1/docs/swagger-init.js")
    assert starter.status_code == 200 and "validatorUrl: null" in starter.get_data(as_text=True)


def test_a_method_not_allowed_says_which_are(client, login):
    response = client.delete("/api/v1/cases", headers=login("worker"))
    assert response.status_code == 405 and response.json["code"] == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert client.put("/api/v1/auth/token").headers["Allow"].split(", ").count("POST") == 1


def test_the_session_cookie_is_http_only_and_not_secure_over_plain_http(client):
    cookie = client.post("/api/v1/auth/session", json=SIGN_IN).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.fixture
def over_https(app, settings, clock):
    """The app as deployed over HTTPS (GRIDFLOW_HTTPS=1), on the same database."""
    served = create_app(dataclasses.replace(settings, https=True), clock=clock)
    served.config["TESTING"] = True
    return served.test_client()


def test_over_https_the_session_cookie_is_secure_and_browsers_are_told_to_keep_to_https(over_https):
    response = over_https.post("/api/v1/auth/session", json=SIGN_IN, base_url="https://localhost")
    assert response.status_code == 201
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
