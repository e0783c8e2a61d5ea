"""统计 in Chromium: the supervisor reads Luncang's March (cards, both ECharts charts drawn, the table), drills down
to Huihuang village, downloads the XLSX; no CSP violation, axe clean at phone and desk size."""
import io

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests import indicator_set
from tests.browser.conftest import DESK


def test_the_supervisor_reads_luncangs_month_and_drills_to_huihuang(person, deps, clock, axe_check):
    indicator_set.build(deps, clock)
    page = person("supervisor")
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.get_by_role("link", name="统计").click()
    page.get_by_label("周期内的日期").fill("2026-03-10")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("h1")).to_have_text("统计 · 仑苍镇")
    expect(page.locator(".stat-cards")).to_contain_text("92.1")
    for chart in ("bar", "line"):
        expect(page.locator(f'[data-chart="{chart}"] canvas').first).to_be_visible()
    expect(page.locator("table.stats tfoot")).to_contain_text("77.8%")
    assert axe_check(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    assert sheet.cell(2, 1).value == "辉煌村" and sheet.cell(sheet.max_row, 1).value == "合计"

    page.get_by_role("link", name="辉煌村").click()
    expect(page.locator("h1")).to_have_text("统计 · 辉煌村")
    expect(page.locator("table.stats tbody")).to_contain_text("辉煌村第六网格")
    expect(page.locator(".trail")).to_contain_text("仑苍镇")
    expect(page.locator('[data-chart="bar"] canvas').first).to_be_visible()
    assert axe_check(page) == []
    page.set_viewport_size(DESK)
    assert axe_check(page) == []
    assert refused == []
