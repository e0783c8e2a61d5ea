"""Edges of input: blank titles, and bodies over an endpoint's limit."""
from api.context import JSON_BODY_LIMIT
from tests.api_client import assert_error, file, in_english


def test_a_blank_title_is_a_missing_one_and_a_title_is_stored_trimmed(client, login):
    for title in ("   ", "\t\n", "\u3000"):
        assert_error(client.post("/api/v1/cases", headers=login("worker"), json={"type": "dispute", "title": title}),
                     422, "title")
    assert file(client, login, title="  邻里纠纷 \n")["title"] == "邻里纠纷"


def test_a_blank_comment_is_refused(client, login):
    case = file(client, login)
    assert_error(client.post(f"/api/v1/cases/{case['id']}/comments", headers=login("worker"), json={"text": " "}),
                 422, "text")


def test_a_description_over_the_body_limit_gets_a_413_naming_the_field_and_the_limit(client, login):
    in_english(client)  # these words are the detailed English ones
    body = {"type": "dispute", "title": "噪音", "description": "吵" * (JSON_BODY_LIMIT // 2)}
    response = client.post("/api/v1/cases", headers=login("worker"), json=body)
    assert_error(response, 413, "description")
    assert "64 KB" in response.json["message"] and "64 KB" in response.json["errors"]["description"][0]


def test_a_body_over_the_apps_own_cap_gets_the_limit_without_being_read(client, login):
    response = client.post("/api/v1/cases", headers=login("worker"), data=b" " * (2 * 1024 * 1024),
                           content_type="application/json")
    assert_error(response, 413)
    assert "64 KB" in response.json["message"] and response.json["errors"] == {}
