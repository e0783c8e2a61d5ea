"""A campaign in Chromium: the worker opens the 任务 tab on a phone, fills the form and submits it with a photo; once
the level above accepts it, the supervisor's map shows the village green."""
from playwright.sync_api import expect
from sqlalchemy import select

from engine.campaigns import services
from engine.read import campaigns as reads
from engine.store.model import User
from tests.browser.conftest import DESK
from tests.helpers import user_id

UNIT, HUIHUANG = "350583106201-06-01", "350583106201"
FORM = [{"name": "households", "kind": "count", "title": "走访户数"},
        {"name": "fever", "kind": "count", "title": "发热人数"},
        {"name": "photo", "kind": "photo", "title": "现场照片"}]
TINY_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                         "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5e9c2f70000000049454e44ae426082")


def test_a_worker_submits_with_a_photo_and_the_village_turns_green(person, deps, axe_check, tmp_path):
    campaign_id = services.launch(deps, user_id(deps, "supervisor"), services.NewCampaign(
        title="发热人员筛查", form=FORM, working_days=2, root_grid_code="350583106", target_level=None,
        grid_codes=(UNIT,), instructions="逐户询问体温"))
    photo = tmp_path / "现场.png"
    photo.write_bytes(TINY_PNG)

    page = person("worker")
    page.get_by_role("link", name="任务", exact=True).click()
    page.get_by_role("link", name="发热人员筛查").click()
    expect(page.locator("h1")).to_have_text("发热人员筛查")
    page.get_by_label("走访户数").fill("42")
    page.get_by_label("发热人数").fill("1")
    page.get_by_label("现场照片").set_input_files(str(photo))
    assert axe_check(page) == []
    page.screenshot(path=str(tmp_path / "assignment-phone.png"), full_page=True)
    page.get_by_role("button", name="提交").click()
    expect(page.locator("main")).to_contain_text("已报送")
    [sent] = reads.get_assignment(deps, reads_user(deps, "admin"), _assignment(deps)).get("submissions")
    assert sent["photos"][0]["content_type"] == "image/png" and sent["data"] == {"households": 42, "fever": 1}

    services.review(deps, user_id(deps, "leader"), _assignment(deps), approved=True)
    desk = person("supervisor", DESK)
    desk.goto(f"/campaigns/{campaign_id}")
    village = desk.locator(f'#gridmap path[data-grid="{HUIHUANG}"]')
    expect(village).to_have_attribute("fill", "#1e7b34")  # 全部审核通过: green
    expect(desk.locator(f'tr[data-grid="{HUIHUANG}"]')).to_have_attribute("data-state", "accepted")
    assert axe_check(desk) == []
    desk.screenshot(path=str(tmp_path / "campaign-desk.png"), full_page=True)


def reads_user(deps, username):
    with deps.uow() as uow:
        return uow.session.scalar(select(User).where(User.username == username))


def _assignment(deps) -> int:
    [row] = reads.my_assignments(deps, reads_user(deps, "admin"), include_done=True)
    return row["id"]
