"""Unknown URLs and wrong methods outside /api/ get the Chinese error page; under /api/ they keep the API's JSON."""
from tests.web.test_pages import words


def test_an_unknown_page_answers_the_chinese_error_page_with_the_pages_headers(client, browser_as):
    missing = client.get("/nothing")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "未找到" in words(missing) and 'lang="zh-CN"' in missing.get_data(as_text=True)
    assert "worker-src 'self'" in missing.headers["Content-Security-Policy"]  # the pages' policy
    signed_in = browser_as("worker").get("/nothing/here")
    assert signed_in.status_code == 404 and "我的上报" in words(signed_in)  # the nav of a signed-in user


def test_a_wrong_method_on_a_page_answers_405_with_allow(client):
    wrong = client.delete("/signin")
    assert wrong.status_code == 405 and wrong.mimetype == "text/html" and "不能这样使用" in words(wrong)
    assert set(wrong.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_the_api_keeps_json_for_unknown_urls_and_wrong_methods(client):
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404 and missing.json["code"] == 404 and "未找到" in missing.json["message"]
    wrong = client.delete("/api/v1/auth/token")
    assert wrong.status_code == 405 and wrong.json["code"] == 405 and "POST" in wrong.headers["Allow"]
