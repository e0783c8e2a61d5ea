"""The admin pages through Flask's test client: only admins see them; an import is checked first and shows
its problems by row and field in Chinese, then the very file that was checked is imported; the holiday
calendar; process versions and moving cases with the dry-run list first; users."""
import os
import re
import shutil
import time
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.cases import services
from engine.process.catalogue import CaseType, FormField
from engine.store.model import ApiToken, Case, Holiday, ProcessVersion, User
from tests.helpers import user_id
from tests.web.test_pages import words

TINY = Path(__file__).resolve().parents[1] / "workflow" / "fixtures" / "tiny.bpmn"
HEADER = "username,display_name,role,grid_code,department_code,password\n"
GOOD_ROW = "zhao,赵网格员,grid_worker,350583106201-06-01,,Initial-2026\n"
BAD_ROW = "qian,钱联络员,liaison,,NOPE-dept,Initial-2026\n"


@pytest.fixture
def admin(browser_as):
    return browser_as("admin")


def users(app) -> set[str]:
    with app.extensions["gridflow"].uow() as uow:
        return set(uow.session.scalars(select(User.username)))


def check(client, content: str | bytes, filename="users.csv", kind="users"):
    data = content.encode() if isinstance(content, str) else content
    return client.post("/admin/import", data={"csrf_token": client.csrf, "kind": kind,
                                              "file": (BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm(client, page):
    sha256 = re.search(r'name="sha256" value="([0-9a-f]{64})"', page.get_data(True)).group(1)
    return client.post("/admin/import/confirm", data={"csrf_token": client.csrf, "sha256": sha256})


@pytest.mark.parametrize("url", ["/admin/", "/admin/import", "/admin/holidays", "/admin/versions", "/admin/users",
                                 "/admin/users/worker"])
def test_the_admin_pages_do_not_exist_for_anyone_but_an_admin(browser_as, url):
    assert browser_as("supervisor").get(url).status_code == 404
    assert "系统管理" not in words(browser_as("supervisor").get("/inbox"))


def test_a_change_by_a_non_admin_is_404_and_changes_nothing(browser_as, app):
    worker = browser_as("worker")
    sent = worker.post("/admin/users/leader/deactivate", data={"csrf_token": worker.csrf})
    assert sent.status_code == 404
    with app.extensions["gridflow"].uow() as uow:
        assert uow.session.scalar(select(User.active).where(User.username == "leader"))


def test_an_admin_finds_the_pages_from_the_navigation(admin):
    page = admin.get("/inbox")
    assert 'href="/admin/"' in page.get_data(True) and "系统管理" in words(page)
    assert all(name in words(admin.get("/admin/")) for name in ("导入", "节假日日历", "流程版本", "用户"))
    assert 'aria-current="page">用户</a>' in admin.get("/admin/users/worker").get_data(True)


def test_an_import_with_an_error_shows_its_row_and_field_in_chinese_and_imports_nothing(admin, app):
    before = users(app)
    page = check(admin, HEADER + GOOD_ROW + BAD_ROW)
    text = words(page)
    assert page.status_code == 422 and "未导入任何内容" in text
    row = re.search(r"<tr><td>3</td><td><code>department_code</code></td><td>([^<]+)</td></tr>",
                    page.get_data(True))
    assert row and row.group(1) == "没有编码为 NOPE-dept 的部门。"
    assert 'name="sha256"' not in page.get_data(True)  # nothing to confirm
    assert users(app) == before


def test_after_fixing_the_file_the_check_counts_and_the_confirm_imports_exactly_that_file(admin, app):
    check(admin, HEADER + GOOD_ROW + BAD_ROW)
    fixed = HEADER + GOOD_ROW + "qian,钱联络员,liaison,,350583106-judicial,Initial-2026\n"
    page = check(admin, fixed)
    assert page.status_code == 200 and "文件没有问题" in words(page) and "qian" not in users(app)
    assert re.search(r"新增</dt><dd>2</dd>", page.get_data(True))
    done = confirm(admin, page)
    assert "已导入：users.csv" in words(done) and "新增 2 条，修改 0 条，未变 0 条" in words(done)
    assert {"zhao", "qian"} <= users(app)
    again = confirm(admin, page)  # the same confirmation twice imports nothing more
    assert again.status_code == 302 and "zhao" in users(app)


def test_the_confirm_imports_the_file_kept_on_the_server_not_one_the_client_names(admin, browser_as, app):
    page = check(admin, HEADER + GOOD_ROW)
    other = browser_as("admin")  # another session that checked nothing cannot confirm by the hash
    stolen = confirm(other, page)
    assert stolen.status_code == 302 and "zhao" not in users(app)
    forged = admin.post("/admin/import/confirm", data={"csrf_token": admin.csrf, "sha256": "0" * 64})
    assert forged.status_code == 302 and "zhao" not in users(app)
    assert "不在待导入状态" in words(admin.get(forged.headers["Location"]))
    assert confirm(admin, page).status_code == 200 and "zhao" in users(app)


def test_a_file_changed_on_the_server_after_the_check_is_not_imported(admin, app):
    page = check(admin, HEADER + GOOD_ROW)
    sha256 = re.search(r'name="sha256" value="([0-9a-f]{64})"', page.get_data(True)).group(1)
    kept = Path(app.config["GRIDFLOW_SETTINGS"].instance_path) / "imports" / sha256[:2] / sha256[2:4] / sha256
    kept.write_text(HEADER + "evil,坏人,admin,,,Initial-2026\n")
    sent = confirm(admin, page)
    assert sent.status_code == 302 and not {"evil", "zhao"} & users(app)


def test_a_checked_file_not_confirmed_within_a_day_is_dropped(admin, app):
    page = check(admin, HEADER + GOOD_ROW)
    sha256 = re.search(r'name="sha256" value="([0-9a-f]{64})"', page.get_data(True)).group(1)
    kept = Path(app.config["GRIDFLOW_SETTINGS"].instance_path) / "imports" / sha256[:2] / sha256[2:4] / sha256
    day_ago = time.time() - 24 * 3600 - 1
    os.utime(kept, (day_ago, day_ago))
    check(admin, HEADER + "sun,孙网格员,grid_worker,350583106201-06-01,,Initial-2026\n")
    assert not kept.exists()
    assert confirm(admin, page).status_code == 302 and "zhao" not in users(app)


def test_in_english_the_problems_keep_the_importers_own_words(admin):
    page = admin.post("/admin/import", data={"csrf_token": admin.csrf, "kind": "users",
                                             "file": (BytesIO((HEADER + BAD_ROW).encode()), "users.csv")},
                      content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert "No department with code 'NOPE-dept'." in words(page).replace("&#39;", "'")
    assert "nothing was imported" in words(page)


@pytest.mark.parametrize(("content", "filename", "expected"), [
    ("", "users.csv", "请选择要上传的文件"),
    (b"", "users.csv", "文件是空的"),
    (b"\x89PNG\r\n\x1a\n....", "photo.png", "请上传 CSV 文件"),
    ("username,display_name\n".encode("gbk"), "users.xlsx", "请上传 CSV 文件"),
    ("username,display_name,role\n张三,张,grid_worker\n".encode("gbk"), "users.csv", "不是 UTF-8"),
    ("area,name\n", "users.csv", "表头缺少此列"),
])
def test_bad_files_get_a_clear_message(admin, content, filename, expected):
    if content == "":
        page = admin.post("/admin/import", data={"csrf_token": admin.csrf, "kind": "users"},
                          content_type="multipart/form-data")
    else:
        page = check(admin, content, filename)
    assert page.status_code == 422 and expected in words(page)


def test_a_file_over_the_limit_is_refused_beside_the_file_field(admin, browser_as, monkeypatch):
    from web import admin as pages
    monkeypatch.setattr(pages, "MAX_IMPORT_BYTES", 1024)
    page = check(admin, HEADER + GOOD_ROW * 2000)
    assert page.status_code == 413 and "超出导入上限" in words(page) and 'id="file-error"' in page.get_data(True)
    assert check(browser_as("worker"), HEADER + GOOD_ROW * 2000).status_code == 404


def test_a_grids_file_problem_names_the_level_in_chinese(admin):
    page = check(admin, "code,name,level,parent_code\nX1,新村,2,350583\n", "grids.csv", kind="grids")
    assert "村（社区）不能放在市 350583 之下" in words(page)


# The holiday calendar


def test_the_year_view_marks_national_day_and_its_make_up_working_day(admin):
    page = admin.get("/admin/holidays?year=2026&day=2026-10-01").get_data(True)
    assert re.search(r'<td class="holiday chosen">\s*<a href="[^"]*day=2026-10-01#mark"', page)
    assert re.search(r'<td class="makeup">\s*<a href="[^"]*day=2026-09-20#mark"', page)
    assert "法定节假日（国庆节）" in page and page.count('<table class="month">') == 12
    assert "还没有官方节假日安排" not in page


def test_a_year_without_official_data_says_so(admin):
    page = admin.get("/admin/holidays?year=2030")
    assert "2030 年还没有官方节假日安排" in words(page)


def test_an_admin_marks_a_day_with_a_reason_and_removes_the_mark(admin, app):
    refused = admin.post("/admin/holidays", data={"csrf_token": admin.csrf, "day": "2030-02-04",
                                                  "action": "holiday", "reason": ""})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.get_data(True)
    done = admin.post("/admin/holidays", data={"csrf_token": admin.csrf, "day": "2030-02-04",
                                               "action": "holiday", "reason": "春节"})
    page = admin.get(done.headers["Location"])
    assert re.search(r'<td class="holiday override chosen">\s*<a href="[^"]*day=2030-02-04', page.get_data(True))
    assert "已在此设为休息日：春节" in words(page)
    admin.post("/admin/holidays", data={"csrf_token": admin.csrf, "day": "2030-02-02", "action": "workday",
                                        "reason": "春节调休"})
    assert re.search(r'<td class="makeup override">\s*<a href="[^"]*day=2030-02-02',
                     admin.get("/admin/holidays?year=2030").get_data(True))
    with app.extensions["gridflow"].uow() as uow:
        assert uow.session.get(Holiday, date(2030, 2, 4)).name == "春节"
    admin.post("/admin/holidays", data={"csrf_token": admin.csrf, "day": "2030-02-04", "action": "remove"})
    with app.extensions["gridflow"].uow() as uow:
        assert uow.session.get(Holiday, date(2030, 2, 4)) is None
    nothing = admin.post("/admin/holidays", data={"csrf_token": admin.csrf, "day": "2030-02-04",
                                                  "action": "remove"})
    assert nothing.status_code == 422 and "没有可取消的设定" in words(nothing)


def test_a_bad_date_is_said_beside_its_field(admin):
    page = admin.post("/admin/holidays", data={"csrf_token": admin.csrf, "day": "2030-02-30", "action": "x"})
    assert page.status_code == 422 and 'id="day-error"' in page.get_data(True)
    assert 'id="action-error"' in page.get_data(True)


# Process versions


@pytest.fixture
def tiny(app, tmp_path):
    """A case type whose diagram the test rewrites, like an operator deploying a new version."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    shutil.copy(TINY, folder / "tiny.bpmn")
    deps = app.extensions["gridflow"]
    deps.catalogue = {**deps.catalogue, "tiny": CaseType(
        code="tiny", process_id="tiny", title_zh="测试", title_en="Test", open311_code="T", folder=str(folder),
        forms={"approve": (FormField("approved", "bool", "同意", "Approved"),)})}
    return folder / "tiny.bpmn"


def rewrite(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def file_tiny(app) -> str:
    deps = app.extensions["gridflow"]
    case_id = services.file_case(deps, user_id(deps, "admin"),
                                 services.NewCase(type="tiny", title="t", grid_code="350583106201-06-01"))
    with deps.uow() as uow:
        return uow.session.get(Case, case_id).number


def versions_of(app) -> int:
    with app.extensions["gridflow"].uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(ProcessVersion).where(
            ProcessVersion.process_id == "tiny"))


def test_versions_list_open_cases_and_deploy_registers_the_current_files(admin, app, tiny):
    number = file_tiny(app)
    rewrite(tiny, 'name="Approve"', 'name="Approve it"')
    page = admin.get("/admin/versions")
    card = words(page)[words(page).index("测试"):]
    assert "尚未部署" in card and "检查能否把 1 件在办案件迁移到当前版本" in card
    deployed = admin.post("/admin/versions/deploy", data={"csrf_token": admin.csrf})
    assert deployed.status_code == 302 and versions_of(app) == 2
    card = words(admin.get("/admin/versions"))
    card = card[card.index("测试"):]
    assert "已部署" in card and number.startswith("350583106-")


def test_moving_cases_shows_the_dry_run_list_first_then_moves_them(admin, app, tiny):
    number = file_tiny(app)
    rewrite(tiny, 'name="Approve"', 'name="Approve it"')
    dry = admin.post("/admin/versions/tiny/migrate", data={"csrf_token": admin.csrf})
    assert "这只是检查" in words(dry) and number in words(dry)
    with app.extensions["gridflow"].uow() as uow:
        assert uow.session.scalar(select(Case.process_version_id).where(Case.number == number)) == \
            min(uow.session.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == "tiny")))
    to_version = re.search(r'name="to_version" value="([0-9a-f]{12})"', dry.get_data(True)).group(1)
    done = admin.post("/admin/versions/tiny/migrate", data={"csrf_token": admin.csrf, "to_version": to_version})
    assert "已迁移 1 件；0 件无法迁移" in words(done)
    with app.extensions["gridflow"].uow() as uow:
        hashes = uow.session.scalar(select(ProcessVersion.content_hash).join(Case, Case.process_version_id ==
                                                                             ProcessVersion.id)
                                    .where(Case.number == number))
    assert hashes.startswith(to_version)


def test_a_case_that_cannot_move_is_listed_with_the_reason(admin, app, tiny):
    number = file_tiny(app)
    for old, new in (('id="approve" name', 'id="approve_v2" name'), ('Ref="approve"', 'Ref="approve_v2"'),
                     ('>approve<', '>approve_v2<')):
        rewrite(tiny, old, new)
    dry = admin.post("/admin/versions/tiny/migrate", data={"csrf_token": admin.csrf})
    assert number in words(dry) and "步骤“approve”（待办）在新版本中不存在" in words(dry)
    assert 'name="to_version"' not in dry.get_data(True)  # nothing to move


def test_a_confirm_made_for_other_files_moves_nothing(admin, app, tiny):
    number = file_tiny(app)
    rewrite(tiny, 'name="Approve"', 'name="Approve it"')
    dry = admin.post("/admin/versions/tiny/migrate", data={"csrf_token": admin.csrf})
    to_version = re.search(r'name="to_version" value="([0-9a-f]{12})"', dry.get_data(True)).group(1)
    rewrite(tiny, 'name="Approve it"', 'name="Approve it now"')
    sent = admin.post("/admin/versions/tiny/migrate", data={"csrf_token": admin.csrf, "to_version": to_version})
    assert sent.status_code == 302 and "检查之后流程文件又有变化" in words(admin.get(sent.headers["Location"]))
    with app.extensions["gridflow"].uow() as uow:
        first = min(uow.session.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == "tiny")))
        assert uow.session.scalar(select(Case.process_version_id).where(Case.number == number)) == first
    assert admin.post("/admin/versions/nope/migrate", data={"csrf_token": admin.csrf}).status_code == 404


# Users


def test_users_are_found_by_role_grid_department_and_state(admin):
    liaisons = words(admin.get("/admin/users?role=liaison"))
    assert "judicial" in liaisons and "worker" not in liaisons.replace("网格员", "")
    in_grid = admin.get("/admin/users?grid=350583103").get_data(True)
    assert "shuitou_worker" in in_grid and "/admin/users/worker\"" not in in_grid
    by_department = admin.get("/admin/users?department=350583106-judicial").get_data(True)
    assert "/admin/users/judicial\"" in by_department and "/admin/users/police\"" not in by_department
    assert "没有符合条件的用户" in words(admin.get("/admin/users?active=no"))
    assert "/admin/users/leader\"" in admin.get("/admin/users?q=leader").get_data(True)


def test_the_user_list_comes_in_pages_that_meet_every_user_once(admin, app, monkeypatch):
    from web import admin as pages
    monkeypatch.setattr(pages, "USER_PAGE", 4)
    seen, url = [], "/admin/users?role=liaison"
    while url:
        page = admin.get(url).get_data(True)
        seen += re.findall(r'href="/admin/users/([\w.-]+)"', page)
        more = re.search(r'href="(/admin/users\?cursor=[^"]+)"', page)
        url = more.group(1).replace("&amp;", "&") if more else None
    with app.extensions["gridflow"].uow() as uow:
        liaisons = sorted(uow.session.scalars(select(User.username).where(User.role == "liaison")))
    assert seen == liaisons and len(liaisons) > 4
    assert admin.get("/admin/users?cursor=nonsense").status_code == 302


def test_deactivating_a_user_ends_their_sessions_and_activating_lets_them_back(admin, browser_as, client, app):
    worker = browser_as("worker")
    done = admin.post("/admin/users/worker/deactivate", data={"csrf_token": admin.csrf})
    assert "已停用 worker" in words(admin.get(done.headers["Location"]))
    assert worker.get("/my").status_code == 302  # signed out at once
    assert client.post("/signin", data={"username": "worker", "password": "gridflow-demo"}).status_code == 401
    assert "worker" in words(admin.get("/admin/users?active=no"))
    admin.post("/admin/users/worker/activate", data={"csrf_token": admin.csrf})
    assert client.post("/signin", data={"username": "worker", "password": "gridflow-demo"}).status_code == 302


def test_an_admin_cannot_deactivate_or_reset_themselves_here(admin, app):
    page = admin.get("/admin/users/admin")
    assert "这是您自己的账号" in words(page) and "/deactivate" not in page.get_data(True)
    sent = admin.post("/admin/users/admin/deactivate", data={"csrf_token": admin.csrf})
    assert "不能停用自己的账号" in words(admin.get(sent.headers["Location"]))
    assert admin.get("/admin/").status_code == 200


def test_a_reset_password_is_generated_shown_once_and_works(admin, browser_as, client, app):
    worker = browser_as("worker")
    page = admin.post("/admin/users/worker/password", data={"csrf_token": admin.csrf, "password": ""})
    generated = re.search(r'<strong class="secret">([^<]+)</strong>', page.get_data(True)).group(1)
    assert len(generated) == 12 and "只显示这一次" in words(page)
    assert generated not in admin.get("/admin/users/worker").get_data(True)
    assert worker.get("/my").status_code == 302
    assert client.post("/signin", data={"username": "worker", "password": generated}).status_code == 302
    with app.extensions["gridflow"].uow() as uow:
        live = uow.session.scalar(select(func.count()).select_from(ApiToken).where(
            ApiToken.user_id == user_id(app.extensions["gridflow"], "worker"), ApiToken.revoked_at.is_(None)))
    assert live == 1  # the sign-in just made


def test_a_typed_temporary_password_is_checked_beside_its_field(admin, client):
    short = admin.post("/admin/users/worker/password", data={"csrf_token": admin.csrf, "password": "short"})
    assert short.status_code == 422 and 'id="password-error"' in short.get_data(True) and "8" in words(short)
    same = admin.post("/admin/users/worker/password", data={"csrf_token": admin.csrf, "password": "Worker"})
    assert same.status_code == 422
    same = admin.post("/admin/users/worker/password", data={"csrf_token": admin.csrf, "password": "worker"})
    assert same.status_code == 422
    done = admin.post("/admin/users/worker/password", data={"csrf_token": admin.csrf, "password": "Temp-2026-x"})
    assert done.status_code == 200 and 'class="secret"' not in done.get_data(True)
    assert client.post("/signin", data={"username": "worker", "password": "Temp-2026-x"}).status_code == 302


def test_an_unknown_user_is_404(admin):
    assert admin.get("/admin/users/nobody").status_code == 404
    assert admin.post("/admin/users/nobody/deactivate", data={"csrf_token": admin.csrf}).status_code == 404
