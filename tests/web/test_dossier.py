"""The case dossier, its diagram data, its print-outs and the process catalogue, through the test client: a
breached case filed before National Day 2026, seen by the town supervisor and refused to anyone out of scope."""
import base64
import re
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.orm import undefer

from engine.cases import attachments
from engine.store.model import Case, ProcessVersion, SupervisionOrder, TimelineEvent
from tests.helpers import breached_case, user_id

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYmAAAAAKAANQonMOAAAAAElFTkSuQmCC")


@pytest.fixture
def case_id(app, clock):
    return breached_case(app.extensions["gridflow"], clock)


def rows(app, model, **where):
    """The rows as they are, every column loaded (deferred ones too), to read after the session."""
    with app.extensions["gridflow"].uow() as uow:
        return list(uow.session.scalars(select(model).filter_by(**where).options(undefer("*"))))


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_the_dossier_shows_the_case_its_grid_path_its_breached_clock_and_an_intact_chain(browser_as, case_id, app):
    [case] = rows(app, Case, id=case_id)
    words = page_text(browser_as("supervisor").get(f"/cases/{case_id}/dossier"))
    assert case.number in words and "厂房消防通道堵塞" in words and "安全隐患" in words
    assert "南安市 仑苍镇 辉煌村 辉煌村第六网格 辉煌村第六网格第一单元" in words
    assert "立案（一般）：1 个工作日" in words and "已超时 1 小时 0 分钟（工作时间）" in words
    assert "2026年10月1日 – 2026年10月7日：国庆节（7 天）" in words  # the holidays the clock skipped
    assert "2026年10月10日：调休上班（1 天）" in words  # the whole-case clock counts the make-up Saturday
    assert "时间线完整：全部" in words
    assert "2026年9月30日星期三" in words  # the timeline grouped by day
    assert "李网格员" in words and "上报了事项" in words
    assert "督办单" in words  # the breach's supervision order, to print
    english = page_text(browser_as("supervisor").get(f"/cases/{case_id}/dossier", headers={"Accept-Language": "en"}))
    assert "Timeline intact: all 6 events verify" in english and "overdue by 1 h 0 min of working time" in english


def test_the_diagram_marks_the_breached_registration_with_its_overlay_on_the_case_version(browser_as, case_id, app):
    found = browser_as("supervisor").get(f"/cases/{case_id}/diagram.json").json
    [case] = rows(app, Case, id=case_id)
    [version] = rows(app, ProcessVersion, id=case.process_version_id)
    assert found["version"]["content_hash"] == version.content_hash
    [main] = found["diagrams"]  # the closed loop is not entered yet: only the type's own diagram
    assert main["file"] == "general/general_case.bpmn" and main["xml"] == version.files[main["file"]]
    assert main["open"] == ["register_case"] and main["breached"] == ["register_case"]
    assert {"case_reported", "case_work_started"} <= set(main["done"]) and main["active"] == ["case_work"]
    assert "flow_case_work_started_to_register" in main["flows"]
    [overlay] = main["overlays"]
    assert overlay["element"] == "register_case" and overlay["level"] == "breached"
    assert overlay["due"] == "2026年10月8日 11:00 前办结" and overlay["left"] == "已超时 1 小时 0 分钟（工作时间）"


def test_an_altered_row_breaks_the_badge_which_names_the_event(browser_as, case_id, app):
    with app.extensions["gridflow"].sessions() as session:
        session.execute(text("UPDATE timeline_events SET reason = 'nothing happened' WHERE case_id = :c AND seq = 2"),
                        {"c": case_id})
        session.commit()
    [event] = rows(app, TimelineEvent, case_id=case_id, seq=2)
    response = browser_as("supervisor").get(f"/cases/{case_id}/dossier")
    assert 'data-intact="false"' in response.get_data(as_text=True)
    words = page_text(response)
    assert "时间线在第 2 条事件" in words and "写入后被改动" in words and event.kind != "filed"


def test_out_of_scope_the_dossier_its_diagram_and_its_print_outs_are_not_found(browser_as, case_id, app):
    [order] = rows(app, SupervisionOrder, case_id=case_id)
    outsider = browser_as("shuitou_supervisor")
    for path in ("dossier", "diagram.json", "dossier.pdf", f"orders/{order.id}.pdf"):
        assert outsider.get(f"/cases/{case_id}/{path}").status_code == 404, path
    assert browser_as("supervisor").get(f"/cases/{case_id}/orders/{order.id + 1}.pdf").status_code == 404


def test_the_printed_dossier_and_order_carry_the_number_and_the_timeline_in_chinese(browser_as, case_id, app):
    [case] = rows(app, Case, id=case_id)
    [order] = rows(app, SupervisionOrder, case_id=case_id)
    supervisor = browser_as("supervisor")
    response = supervisor.get(f"/cases/{case_id}/dossier.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    words = "".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    assert case.number in words and "李网格员 上报了事项" in words
    assert f"/cases/{case_id}/dossier" in words and "时间线完整" in words
    sheet = supervisor.get(f"/cases/{case_id}/orders/{order.id}.pdf")
    sheet_words = "".join(page.extract_text() for page in PdfReader(BytesIO(sheet.data)).pages)
    assert f"督办单：{case.number}" in sheet_words and "督办内容" in sheet_words and "已超时" in sheet_words


def test_a_blank_comment_is_refused_by_its_field_and_a_comment_joins_the_timeline(browser_as, case_id):
    supervisor = browser_as("supervisor")
    refused = supervisor.post(f"/cases/{case_id}/comments", data={"text": "  ", "csrf_token": supervisor.csrf})
    assert refused.status_code == 422 and 'id="comment-error"' in refused.get_data(as_text=True)
    done = supervisor.post(f"/cases/{case_id}/comments", data={"text": "请尽快立案", "csrf_token": supervisor.csrf},
                           follow_redirects=True)
    assert "请尽快立案" in page_text(done)


def test_the_catalogue_lists_types_with_open_cases_and_shows_tables_in_words(browser_as, case_id):
    supervisor = browser_as("supervisor")
    words = page_text(supervisor.get("/catalogue"))
    assert "矛盾纠纷" in words and "安全隐患" in words
    detail = page_text(supervisor.get("/catalogue/work_safety"))
    assert "当前" in detail and "办理时限" in detail and "主办协办部门" in detail
    assert "任意 立案登记 8 工作时 立案（一般）：1 个工作日" in detail  # severity, step, amount, unit, policy
    assert "工作日" in detail and "任意" in detail
    found = supervisor.get("/catalogue/dispute/diagrams.json").json["diagrams"]
    assert [d["file"] for d in found] == ["dispute/dispute.bpmn", "shared/closed_loop.bpmn", "shared/escalate.bpmn"]
    assert browser_as("worker").get("/catalogue").status_code == 404
    assert supervisor.get("/catalogue/no_such_type").status_code == 404


def test_a_photo_shows_as_a_thumbnail_on_the_event_that_brought_it(browser_as, case_id, app):
    deps = app.extensions["gridflow"]
    photo = attachments.upload_attachment(deps, user_id(deps, "worker"), case_id, attachments.Upload(
        filename="现场.png", content=PNG, kind="report"))
    page = browser_as("supervisor").get(f"/cases/{case_id}/dossier").get_data(as_text=True)
    event = re.search(r'<li class="event event-attached"[^>]*>(.*?)</li>\s*</ul>', page, re.S).group(1)
    assert f'src="/files/{photo}"' in event and "李网格员" in event
