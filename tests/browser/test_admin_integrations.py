"""Partner keys and webhooks in Chromium: an admin makes a key at phone size and sees it once, adds an endpoint
and opens its delivery log; the pages are axe-clean at phone and desk size."""
import os

from playwright.sync_api import expect

from engine.cases import services
from tests.browser.conftest import DESK, PHONE
from tests.helpers import user_id

SHOTS = os.environ.get("GRIDFLOW_SCREENSHOTS")  # a folder: keep the pages as pictures


def shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_an_admin_makes_a_partner_key_and_a_webhook_endpoint(person, deps, axe_check):
    admin = person("admin", PHONE)
    admin.goto("/admin/partner-keys")
    admin.get_by_label("合作方", exact=True).fill("12345 热线")
    admin.get_by_label("上报用户（用户名）").fill("leader")
    admin.get_by_label("网格范围（网格编码）").fill("350583106201-06")
    admin.get_by_role("button", name="生成密钥").click()
    expect(admin.get_by_role("status")).to_contain_text("gfp_")
    assert axe_check(admin) == []
    shot(admin, "partner-keys-phone")

    admin.goto("/admin/webhooks")
    admin.get_by_label("名称").fill("热线回访")
    admin.get_by_label("地址（URL）").fill("http://127.0.0.1:9/hook")
    admin.get_by_role("button", name="添加推送地址").click()
    expect(admin.get_by_role("status")).to_contain_text("whsec_")
    assert axe_check(admin) == []
    shot(admin, "webhooks-phone")
    services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="dispute", title="邻里纠纷"))
    admin.get_by_role("link", name="热线回访").click()
    expect(admin.locator("main")).to_contain_text("案件上报")
    assert axe_check(admin) == []
    shot(admin, "webhook-phone")

    desk = person("admin", DESK)
    for path in ("/admin/partner-keys", "/admin/webhooks"):
        desk.goto(path)
        assert axe_check(desk) == []
    shot(desk, "webhooks-desk")
