"""The sign-in page, where every user starts, at phone and desk size; `person` signs in through it without
checking it again."""
from playwright.sync_api import expect

from tests.browser.conftest import DESK, PHONE


def test_the_sign_in_page_and_its_wrong_password_answer_have_nothing_serious_for_axe(new_context, live_server,
                                                                                   axe_check):
    for viewport in (PHONE, DESK):
        page = new_context(viewport=viewport, base_url=live_server).new_page()
        page.goto("/signin")
        assert axe_check(page) == [], viewport
        page.get_by_label("用户名").fill("worker")
        page.get_by_label("密码").fill("not-the-password")
        page.get_by_role("button", name="登录").click()
        expect(page.locator("[role=alert]")).to_be_visible()
        assert axe_check(page) == [], viewport
