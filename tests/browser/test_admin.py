"""The admin pages in Chromium: an admin imports a users file with an error, sees the error's row, fixes the file
and imports it; every admin page is axe-clean at phone and desk size."""
from playwright.sync_api import expect
from sqlalchemy import select

from engine.store.model import User
from tests.browser.conftest import DESK, PHONE

HEADER = "username,display_name,role,grid_code,department_code,password\n"
GOOD = "zhao,赵网格员,grid_worker,350583106201-06-01,,Initial-2026\n"
PAGES = ("/admin/", "/admin/import", "/admin/holidays?year=2026&day=2026-10-01", "/admin/holidays?year=2030",
         "/admin/versions", "/admin/users", "/admin/users/worker")


def upload(page, content: str) -> None:
    page.get_by_label("文件内容").select_option("users")
    page.get_by_label("文件（").set_input_files(files=[{"name": "users.csv", "mimeType": "text/csv",
                                                       "buffer": content.encode()}])
    page.get_by_role("button", name="检查文件").click()


def test_an_admin_imports_a_users_file_after_fixing_its_error(person, deps, axe_check):
    admin = person("admin", PHONE)
    admin.get_by_role("link", name="系统管理", exact=True).click()
    admin.get_by_role("link", name="导入", exact=True).first.click()
    upload(admin, HEADER + GOOD + "qian,钱联络员,liaison,,NOPE,Initial-2026\n")
    problems = admin.locator("table.problems tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("3")
    expect(problems.first).to_contain_text("department_code")
    expect(problems.first).to_contain_text("没有编码为 NOPE 的部门")
    assert axe_check(admin) == []
    with deps.uow() as uow:
        assert uow.session.scalar(select(User).where(User.username == "zhao")) is None

    upload(admin, HEADER + GOOD + "qian,钱联络员,liaison,,350583106-judicial,Initial-2026\n")
    expect(admin.locator("main")).to_contain_text("文件没有问题")
    assert axe_check(admin) == []
    admin.get_by_role("button", name="导入此文件").click()
    expect(admin.get_by_role("status")).to_contain_text("新增 2 条")
    with deps.uow() as uow:
        assert set(uow.session.scalars(select(User.username).where(User.username.in_(("zhao", "qian"))))) == \
            {"zhao", "qian"}

    for viewport in (PHONE, DESK):
        page = admin if viewport == PHONE else person("admin", DESK)
        for url in PAGES:
            page.goto(url)
            assert axe_check(page) == [], (url, viewport)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], (url, width)  # nothing pushes the page sideways
