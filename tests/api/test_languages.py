"""The API answers in Chinese unless asked for English; codes and field names stay machine-readable."""
import re

from tests.api_client import assert_error

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_errors_are_chinese_by_default_with_the_same_codes_and_fields(client, login):
    response = client.post("/api/v1/cases", headers=login("worker"), json={"type": "dispute", "title": "  "})
    assert_error(response, 422, "title")
    assert CHINESE.search(response.json["message"]) and response.json["errors"]["title"] == ["此项为必填项。"]


def test_english_is_there_for_whoever_asks(client, login):
    headers = {**login("worker"), "Accept-Language": "en-GB,en;q=0.9"}
    response = client.post("/api/v1/cases", headers=headers, json={"type": "dispute", "title": "  "})
    assert_error(response, 422, "title")
    assert not CHINESE.search(response.get_data(as_text=True))


def test_a_hidden_task_and_a_bad_request_are_refused_in_chinese(client, login):
    missing = client.post("/api/v1/tasks/no-such-task/claim", headers=login("leader"))
    assert_error(missing, 404)
    assert missing.json["message"] == "未找到，或不在您的管辖范围内。"
    garbage = client.post("/api/v1/cases", headers=login("worker"), data="{", content_type="application/json")
    assert garbage.status_code == 400 and CHINESE.search(garbage.json["message"])
