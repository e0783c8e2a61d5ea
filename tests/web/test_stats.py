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
    assert "按期结案率 100.0% 5 / 5 环比 — · 同比 —" in text  # nothing in February; 5 of 5 cases
    assert "按时处置率 77.8% 7 / 9 环比" in text
    assert re.search(r"综合得分</span>\s*<span class=\"stat-value\">92.1 <span class=\"grade\">A", page)
    assert "环比" in text and "同比" in text
    assert 'data-chart="bar"' in page and 'data-chart="line"' in page and "vendor/echarts/echarts.min.js" in page
    assert "辉煌村" in text and "77.8%" in text and "8.8" in text and "14.0" in text
    drill = re.search(r'href="(/stats\?grid=350583106201[^"]*)">辉煌村</a>', page).group(1).replace("&amp;", "&")
    village = browser.get(drill)
    assert "统计 · 辉煌村" in words(village) and "辉煌村第六网格" in words(village)
    assert re.search(r'<a href="/stats\?grid=350583106&[^"]*">仑苍镇</a>', village.get_data(as_text=True))
    # each number links to the cases it counts: the case search, with the counter and the period's days
    link = re.search(r'<td><a href="(/search\?[^"]+)"', village.get_data(as_text=True)).group(1)
    assert "grid=350583106201-06" in link and "counted_from=2026-03-01&amp;counted_to=2026-03-31" in link


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


def links(page: str, counter: str) -> dict[str, int]:
    """The page's links to the cases `counter` counts, with the number each shows."""
    found = re.findall(rf'href="(/search\?[^"]*counted={counter}&[^"]*)"[^>]*>(\d+)</a>', page)
    return {href.replace("&amp;", "&"): int(number) for href, number in found}


def listed(browser, href: str) -> tuple[int, str]:
    """How many cases the search lists (one page holds them all here), and its words."""
    response = browser.get(href)
    assert response.status_code == 200
    return response.get_data(as_text=True).count('<th scope="row"><a href="/cases/'), words(response)


def test_a_rows_number_leads_to_exactly_the_cases_it_counts(browser_as, hand_built):
    browser = browser_as("supervisor")
    page = browser.get("/stats?period=month&date=2026-03-10&by=department").get_data(as_text=True)
    office = indicator_set.DEPARTMENT
    [(closed, five)] = [(href, n) for href, n in links(page, "closed_on_time").items() if office in href]
    assert five == 5
    count, text = listed(browser, closed)
    assert count == 5 and "按期结案 · 2026-03-01 至 2026-03-31 · 部门：仑苍镇应急管理站 — 共 5 件" in text
    [(handling, nine)] = [(href, n) for href, n in links(page, "due_to_handle").items() if office in href]
    count, text = listed(browser, handling)  # nine assignments of five cases: each case says how often
    assert (nine, count) == (9, 5)
    assert "应处置 · 2026-03-01 至 2026-03-31 · 部门：仑苍镇应急管理站 — 共 5 件，合计 9 次" in text
    [(never, three)] = [(href, n) for href, n in links(page, "reported").items() if "%28none%29" in href]
    count, text = listed(browser, never)  # withdrawn, invalid, duplicate: never dispatched
    assert (three, count) == (3, 3) and "上报 · 2026-03-01 至 2026-03-31 · 部门：未派遣" in text


def test_the_search_says_a_bad_counter_or_day_beside_its_field(browser_as, hand_built):
    browser = browser_as("supervisor")
    bad = browser.get("/search?counted=nope")
    assert bad.status_code == 422 and 'id="counted-error">请从选项中选择。' in bad.get_data(as_text=True)
    days = browser.get("/search?counted=closed&counted_from=2026-03-02&counted_to=2026-03-01")
    assert 'id="counted_to-error">' in days.get_data(as_text=True) and "不能早于" in words(days)
    typo = browser.get("/search?counted=closed&counted_from=2026-13-01")
    assert 'id="counted_from-error">请按 2026-11-30 的格式填写日期。' in typo.get_data(as_text=True)
    alone = browser.get("/search?counted_to=2026-03-01")
    assert 'id="counted-error">' in alone.get_data(as_text=True)
