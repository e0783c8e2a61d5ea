"""The supervisor's dossier and the process catalogue in Chromium: the breached step marked on its BPMN element with
its overlay, the clock naming the National Day holidays it skipped, the chain badge before and after a row is
altered, and every diagram of every case type imported by bpmn-js without a warning."""
import re

from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser.conftest import DESK, PHONE
from tests.helpers import breached_case
from workflows import CATALOGUE


def drawn(page, axe_check):
    """Wait for the diagrams, then check there were no import warnings and axe finds nothing serious."""
    holder = page.locator("[data-diagrams]")
    expect(holder).to_have_attribute("data-ready", "true", timeout=15_000)
    assert holder.get_attribute("data-warnings") == "0", page.url
    assert axe_check(page) == [], page.url
    return holder


def test_a_supervisor_reads_a_breached_case_on_its_diagram_clock_and_timeline(person, deps, clock, axe_check):
    case_id = breached_case(deps, clock)
    supervisor = person("supervisor", DESK)
    supervisor.goto(f"/cases/{case_id}/dossier")
    drawn(supervisor, axe_check)
    step = supervisor.locator('.djs-element[data-element-id="register_case"]')
    expect(step).to_have_class(classes("gf-breached", "gf-open"))
    overlay = supervisor.locator('.gf-overlay[data-element="register_case"]')
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text("已超期")
    expect(overlay).to_contain_text("已超时 1 小时 0 分钟（工作时间）")
    assert _overlaps(step.bounding_box(), overlay.bounding_box())  # drawn on that element, not somewhere else
    expect(supervisor.locator('.djs-element[data-element-id="case_reported"]')).to_have_class(classes("gf-done"))
    expect(supervisor.locator(".bjs-powered-by")).to_be_visible()  # the bpmn.io mark its licence asks for

    clock_card = supervisor.locator(".clock", has_text="立案登记")
    clock_card.get_by_text("为何此时到期").click()
    expect(clock_card).to_contain_text("2026年10月1日 – 2026年10月7日：国庆节（7 天）")
    expect(clock_card).to_contain_text("2026年10月8日 11:00 前办结")
    expect(supervisor.locator(".chain")).to_contain_text("时间线完整")
    assert axe_check(supervisor) == []
    supervisor.set_viewport_size(PHONE)
    assert axe_check(supervisor) == []

    with deps.sessions() as session:
        session.execute(text("UPDATE timeline_events SET reason = 'x' WHERE case_id = :c AND seq = 3"), {"c": case_id})
        session.commit()
    supervisor.reload()
    badge = supervisor.locator(".chain")
    expect(badge).to_contain_text("时间线在第 3 条事件")
    expect(badge).to_contain_text("写入后被改动")
    badge.get_by_role("link", name="查看该事件").click()
    expect(supervisor.locator("#event-3")).to_have_class(classes("event-broken"))


def test_every_diagram_of_every_case_type_imports_without_a_warning(person, axe_check):
    supervisor = person("supervisor", DESK)
    seen, processes = set(), set()
    for case_type in CATALOGUE.values():
        if case_type.process_id in processes:
            continue  # the general types share one process and its files
        processes.add(case_type.process_id)
        supervisor.goto(f"/catalogue/{case_type.code}")
        holder = drawn(supervisor, axe_check)
        sections = holder.locator("section.diagram")
        files = [sections.nth(i).get_attribute("data-file") for i in range(sections.count())]
        assert all(sections.nth(i).get_attribute("data-warnings") == "0" for i in range(len(files)))
        seen.update(files)
    assert seen == {path for t in CATALOGUE.values() for path in t.read_files() if path.endswith(".bpmn")}
    supervisor.set_viewport_size(PHONE)
    assert axe_check(supervisor) == []


def classes(*names):
    """A regular expression matching a class attribute that holds every one of `names`."""
    return re.compile("".join(rf"(?=.*\b{re.escape(n)}\b)" for n in names))


def _overlaps(a, b) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] + 20 and b["y"] < a["y"] + a["height"] + 20
