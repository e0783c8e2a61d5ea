"""The pages through Flask's test client: Chinese by default, sign-in and its expiry, filing with a key,
a task's form with errors beside its fields, the conflict message, notices, and scope."""
import re
from datetime import timedelta

from engine.cases import notices
from engine.store.model import Case
from tests.web.conftest import csrf


def words(response) -> str:
    page = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def file_dispute(client, key="key-1", **fields):
    form = {"csrf_token": client.csrf, "type": "dispute", "title": "宅基地纠纷", "severity": "high",
            "idempotency_key": key, **fields}
    return client.post("/report", data=form)


def test_the_root_sends_a_stranger_to_sign_in_and_a_worker_to_their_reports(client, browser_as):
    assert client.get("/").headers["Location"] == "/signin"
    page = client.get("/signin")
    assert "登录" in words(page) and "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert browser_as("worker").get("/").headers["Location"] == "/my"
    assert browser_as("judicial").get("/").headers["Location"] == "/inbox"


def test_english_is_chosen_by_the_browser_or_by_the_user(client, browser_as):
    assert "Sign in" in words(client.get("/signin", headers={"Accept-Language": "en-US,en;q=0.9"}))
    worker = browser_as("worker")
    worker.post("/language", data={"lang": "en", "next": "/my"})
    assert "My reports" in words(worker.get("/my"))


def test_a_wrong_password_is_said_in_chinese_and_the_username_stays(client):
    page = client.post("/signin", data={"username": "worker", "password": "nope"})
    assert page.status_code == 401 and "用户名或密码错误" in words(page) and 'value="worker"' in page.get_data(True)


def test_an_expired_session_says_so_and_returns_the_user_where_they_were(browser_as, clock):
    worker = browser_as("worker")
    clock.advance(days=31)
    sent = worker.get("/my?cursor=")
    assert sent.headers["Location"].startswith("/signin?next=/my") and "expired=1" in sent.headers["Location"]
    page = worker.get(sent.headers["Location"])
    assert "登录已过期" in words(page)
    clock.advance(seconds=1)
    back = worker.post("/signin", data={"username": "worker", "password": "gridflow-demo", "next": "/my"})
    assert back.headers["Location"] == "/my"


def test_a_change_without_the_csrf_token_is_refused(browser_as):
    worker = browser_as("worker")
    assert worker.post("/report", data={"type": "dispute", "title": "x"}).status_code == 400


def test_bad_input_is_shown_in_chinese_beside_its_field_and_what_was_typed_stays(browser_as):
    worker = browser_as("worker")
    page = file_dispute(worker, title="", description="楼上夜间装修")
    text = words(page)
    assert page.status_code == 422 and "此项为必填项" in text and "楼上夜间装修" in page.get_data(True)
    assert 'id="title-error"' in page.get_data(True)


def test_a_double_tap_files_once(browser_as):
    worker = browser_as("worker")
    first, second = file_dispute(worker), file_dispute(worker)
    assert first.headers["Location"] == second.headers["Location"]
    assert words(worker.get("/my")).count("宅基地纠纷") == 1


def test_the_offline_queue_gets_json_answers(browser_as):
    worker = browser_as("worker")
    sent = worker.post("/report", headers={"Accept": "application/json", "X-CSRF-Token": worker.csrf},
                       data={"type": "dispute", "title": "噪音", "idempotency_key": "q-1"})
    assert sent.status_code == 201 and sent.json["number"].startswith("350583106-")
    assert f"已上报，案件编号：{sent.json['number']}" in words(worker.get(sent.json["url"]))  # where the page goes
    refused = worker.post("/report", headers={"Accept": "application/json", "X-CSRF-Token": worker.csrf},
                          data={"type": "dispute", "title": "", "idempotency_key": "q-2"})
    assert refused.status_code == 422 and refused.json["errors"]["title"] == ["此项为必填项。"]


def test_the_task_form_marks_fields_required_live_and_shows_errors_beside_them(browser_as):
    worker, leader = browser_as("worker"), browser_as("leader")
    file_dispute(worker)
    task_id = re.search(r"/tasks/([0-9a-f-]{36})", leader.get("/inbox?tab=offered").get_data(True)).group(1)
    fields = leader.post(f"/tasks/{task_id}/fields", data={"decision": "valid"},
                         headers={"HX-Request": "true", "X-CSRF-Token": leader.csrf})
    assert words(fields).count("必填") == 3  # decision, risk, violence
    refused = leader.post(f"/tasks/{task_id}", data={"csrf_token": leader.csrf, "decision": "valid", "risk": "high"})
    assert refused.status_code == 422 and 'id="violence-error"' in refused.get_data(True)
    done = leader.post(f"/tasks/{task_id}", data={"csrf_token": leader.csrf, "decision": "valid", "risk": "low",
                                                  "violence": "false"})
    assert done.headers["Location"] == "/inbox"


def test_a_task_someone_else_took_answers_with_the_message_and_the_fresh_inbox(browser_as):
    worker, first, second = browser_as("worker"), browser_as("leader"), browser_as("village")
    file_dispute(worker)
    task_id = re.search(r"/tasks/([0-9a-f-]{36})", first.get("/inbox?tab=offered").get_data(True)).group(1)
    first.post(f"/tasks/{task_id}/claim", data={"csrf_token": first.csrf})
    late = second.post(f"/tasks/{task_id}/claim", data={"csrf_token": second.csrf, "tab": "offered"},
                       headers={"HX-Request": "true"})
    assert "该任务已被他人领取" in words(late) and 'id="inbox"' in late.get_data(True)


def test_out_of_scope_cases_and_files_answer_404(browser_as):
    worker = browser_as("worker")
    case_url = file_dispute(worker).headers["Location"]
    outsider = browser_as("shuitou_worker")
    assert outsider.get(case_url).status_code == 404
    assert outsider.get("/files/1").status_code == 404


def test_the_bell_counts_unread_notices_and_marking_one_read_updates_it(app, browser_as):
    worker = browser_as("worker")
    file_dispute(worker)
    deps = app.extensions["gridflow"]
    supervisor = browser_as("supervisor")
    with deps.uow() as uow:
        case = uow.session.query(Case).one()
        notices.notify(uow.session, case, "sla_warning", "立案已用时 80%", deps.clock.now() - timedelta(minutes=1))
        uow.commit()
    bell = supervisor.get("/notices/bell")
    assert "通知：1 条未读" in bell.get_data(True)
    [notice_id] = set(re.findall(r"/notices/(\d+)/read", supervisor.get("/notices").get_data(True)))
    hx = {"HX-Request": "true", "X-CSRF-Token": supervisor.csrf}
    read = supervisor.post(f"/notices/{notice_id}/read", headers=hx)
    assert "已读" in words(read) and "未读" not in read.get_data(True)


def test_a_user_changes_their_password(browser_as, client):
    worker, elsewhere = browser_as("worker"), browser_as("worker")
    page = worker.get("/account")
    wrong = worker.post("/account", data={"csrf_token": csrf(page.get_data(True)), "old_password": "x",
                                          "new_password": "new-pass-123", "repeat_password": "new-pass-123"})
    assert wrong.status_code == 422 and "密码错误" in words(wrong)
    done = worker.post("/account", data={"csrf_token": worker.csrf, "old_password": "gridflow-demo",
                                         "new_password": "new-pass-123", "repeat_password": "new-pass-123"})
    assert "密码已修改" in words(done)
    assert worker.get("/account").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/account").status_code == 302  # the worker's other sessions are signed out
    assert client.post("/signin", data={"username": "worker", "password": "new-pass-123"}).status_code == 302
