"""The README's screenshots, at phone size with the installed CJK font, written to docs/screenshots/.

Not part of the suite (the name does not start with test_): run it by name,
`.venv/bin/python -m pytest tests/browser/screenshots.py`."""
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import DESK
from tests.browser.test_field_app import fill_dispute_report
from tests.browser.test_supervisor_desk import LUNCANG, city_with_cases
from tests.helpers import breached_case

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_screenshots_of_filing_on_a_phone_and_of_the_inbox(person):
    OUT.mkdir(parents=True, exist_ok=True)
    worker = person("worker")
    worker.goto("/report")
    fill_dispute_report(worker, "宅基地边界纠纷", "两户因宅基地边界争执，已有推搡")
    worker.screenshot(path=OUT / "report-phone.png", full_page=True)
    worker.get_by_role("button", name="提交上报").click()
    expect(worker.locator("main")).to_contain_text("已上报")
    worker.screenshot(path=OUT / "case-phone.png", full_page=True)
    leader = person("leader")
    leader.goto("/inbox?tab=offered")
    leader.screenshot(path=OUT / "inbox-phone.png", full_page=True)


def test_screenshots_of_a_breached_case_in_the_dossier_at_a_desk(person, deps, clock):
    OUT.mkdir(parents=True, exist_ok=True)
    case_id = breached_case(deps, clock)
    supervisor = person("supervisor", DESK)
    supervisor.goto(f"/cases/{case_id}/dossier")
    expect(supervisor.locator("[data-diagrams]")).to_have_attribute("data-ready", "true", timeout=15_000)
    supervisor.locator(".clock", has_text="立案登记").get_by_text("为何此时到期").click()
    supervisor.screenshot(path=OUT / "dossier-desk.png", full_page=True)
    supervisor.goto("/catalogue/work_safety")
    expect(supervisor.locator("[data-diagrams]")).to_have_attribute("data-ready", "true", timeout=15_000)
    supervisor.screenshot(path=OUT / "catalogue-desk.png", full_page=True)


def test_screenshot_of_the_grid_map_at_a_desk(person, deps, clock):
    OUT.mkdir(parents=True, exist_ok=True)
    city_with_cases(deps, clock)
    page = person("city_supervisor", DESK)
    page.goto(f"/map?grid={LUNCANG}")
    expect(page.locator("#gridmap")).to_have_attribute("data-ready", "14")
    page.screenshot(path=OUT / "map-desk.png", full_page=True)


def test_screenshot_of_the_indicators_on_a_phone(person, deps, clock):
    from tests import indicator_set
    OUT.mkdir(parents=True, exist_ok=True)
    indicator_set.build(deps, clock)
    supervisor = person("supervisor")
    supervisor.goto("/stats?period=month&date=2026-03-10")
    expect(supervisor.locator('[data-chart="line"] canvas').first).to_be_visible()
    supervisor.screenshot(path=OUT / "stats-phone.png", full_page=True)
