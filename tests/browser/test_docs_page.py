"""The interactive API docs work in a real browser under the app's Content-Security-Policy."""


def test_the_docs_render_every_operation_and_break_no_rule_of_the_policy(desk):
    refused = []
    desk.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    response = desk.goto("/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    desk.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = desk.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/cases" in paths and "/api/v1/auth/password" in paths
    desk.locator(".opblock-summary", has_text="/api/v1/auth/password").first.click()
    desk.wait_for_selector("text=old_password", timeout=10_000)
    assert refused == []
