"""统计: the indicators page through the test client, on the hand-built set (tests/indicator_set.py)."""
import io
import re

import pytest
from openpyxl import load_workbook

from tests import indicator_set


@pytest.fixture
def hand_built(app, clock):
    return indicator_set.build(app.extensions["gridflow"], clock)


def words(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_luncangs_month_with_cards_charts_table_and_drill_down(browser_as, hand_built):
    browser = browser_as("supervisor")
    response = browser.get("/stats?period=month&date=2026-03-10")
    assert response.status_code == 200
    page, text = response.get_data(as_text=True), words(response)
    assert "统计 · 仑苍镇" in text and "2026-03-01 至 2026-03-31" in text
    assert "按期结案率 100.0% 环比 — · 同比 —" in text and "按时处置率 77.8% 环比" in text  # nothing in February
    assert re.search(r"综合得分</span>\s*<span class=\"stat-value\">92.1 <span class=\"grade\">A", page)
    assert "环比" in text and "同比" in text
    assert 'data-chart="bar"' in page and 'data-chart="line"' in page and "vendor/echarts/echarts.min.js" in page
    assert "辉煌村" in text and "77.8%" in text and "8.8" in text and "14.0" in text
    drill = re.search(r'href="(/stats\?grid=350583106201[^"]*)">辉煌村</a>', page).group(1).replace("&amp;", "&")
    village = browser.get(drill)
    assert "统计 · 辉煌村" in words(village) and "辉煌村第六网格" in words(village)
    assert re.search(r'<a href="/stats\?grid=350583106&[^"]*">仑苍镇</a>', village.get_data(as_text=True))
    # each number links to the cases it counts: the case search, or the API's case list where it is not built
    link = re.search(r'<td><a href="(/(?:search|api/v1/cases)\?[^"]+)">', village.get_data(as_text=True)).group(1)
    assert "grid=350583106201-06" in link and "filed_from=2026-03-01" in link.replace("%3A", ":")


def test_the_table_exports_as_xlsx_and_csv(browser_as, hand_built):
    browser = browser_as("supervisor")
    response = browser.get("/stats/export?period=month&date=2026-03-10&format=xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.data)).active.values)
    assert rows[0][0] == "名称" and rows[1][:2] == ("辉煌村", "350583106201") and rows[-1][0] == "合计"
    assert rows[-1][rows[0].index("上报数")] == 9
    csv = browser.get("/stats/export?period=month&date=2026-03-10&format=csv&by=department")
    assert csv.mimetype == "text/csv" and "应结案数" in csv.get_data(as_text=True)


def test_only_supervisors_and_admins_and_only_in_their_area(browser_as, hand_built):
    assert browser_as("worker").get("/stats").status_code == 404
    assert browser_as("supervisor").get("/stats?grid=350583103").status_code == 404
    assert "统计 · 南安市" in words(browser_as("admin").get("/stats"))
    assert "统计" in words(browser_as("supervisor").get("/inbox"))  # in the menu


def test_bad_filters_are_said_next_to_their_field(browser_as, hand_built):
    page = browser_as("supervisor").get("/stats?date=2026-13-40&period=decade&type=nope")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="date-error">请按 年-月-日 填写日期。' in html and 'id="period-error">' in html
    assert 'id="type-error">' in html
    far = browser_as("supervisor").get("/stats?date=0001-01-01")
    assert far.status_code == 200 and 'id="date-error">' in far.get_data(as_text=True)


def test_an_admin_sets_weights_and_grades(browser_as, hand_built):
    admin = browser_as("admin")
    form = admin.get("/stats/settings")
    assert form.status_code == 200 and "按期结案率" in words(form)
    values = dict(re.findall(r'name="((?:weight|grade)\.[a-z_A-D]+)" inputmode="decimal" value="([^"]*)"',
                             form.get_data(as_text=True)))
    refused = admin.post("/stats/settings", data={**values, "grade.A": "abc", "csrf_token": admin.csrf})
    assert refused.status_code == 400
    assert 'id="grade.A-error">请填写 0 到 100 之间的数。' in refused.get_data(as_text=True)
    falling = admin.post("/stats/settings", data={**values, "grade.B": "95", "csrf_token": admin.csrf})
    assert "等级下限须从 A 到 D 依次降低。" in words(falling)
    saved = admin.post("/stats/settings", data={**values, "grade.A": "95", "csrf_token": admin.csrf})
    assert saved.status_code == 302
    page = browser_as("supervisor").get("/stats?period=month&date=2026-03-10").get_data(as_text=True)
    assert re.search(r'92.1 <span class="grade">B', page)
    assert browser_as("supervisor").get("/stats/settings").status_code == 404
