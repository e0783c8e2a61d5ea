"""The browser harness works: Chromium opens the live app at phone size, and axe-core reports what it finds."""
from pathlib import Path

from playwright.sync_api import expect

VENDOR = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor"

CLEAN = '<html lang="zh-CN"><head><title>网格</title></head><body><main><h1>南岸区网格</h1></main></body></html>'
CSP = "<meta http-equiv='Content-Security-Policy' content=\"default-src 'self'\">"


def test_the_api_docs_open_on_a_phone_from_the_live_server(phone):
    phone.goto("/api/v1/docs")
    expect(phone.locator(".swagger-ui .info .title")).to_contain_text("Gridflow")
    assert phone.viewport_size == {"width": 375, "height": 667}


def test_pages_read_chinese_and_shanghai_time(desk):
    desk.goto("/healthz")
    assert desk.evaluate("[navigator.language, Intl.DateTimeFormat().resolvedOptions().timeZone]") == [
        "zh-CN", "Asia/Shanghai"]


def test_axe_check_finds_nothing_serious_on_a_plain_page(phone, axe_check):
    phone.set_content(CLEAN)
    assert axe_check(phone) == []


def test_axe_check_reports_an_image_without_alt_text_even_under_a_strict_csp(phone, axe_check):
    phone.set_content(CLEAN.replace("<head>", "<head>" + CSP).replace("</h1>", '</h1><img src="/map.png">'))
    assert [violation["id"] for violation in axe_check(phone)] == ["image-alt"]


def test_the_vendored_scripts_run_in_chromium(phone):
    phone.set_content(CLEAN)
    for script in ("htmx/htmx.min.js", "leaflet/leaflet.js", "bpmn-js/bpmn-navigated-viewer.production.min.js"):
        phone.add_script_tag(path=VENDOR / script)
    assert phone.evaluate("[htmx.version, L.version, typeof BpmnJS]") == ["2.0.11", "1.9.4", "function"]
