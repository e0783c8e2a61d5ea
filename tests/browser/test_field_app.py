"""The field app in Chromium at phone and desk size, in Chinese: a dispute from the worker's phone to the
police and back to the worker's verification; filing offline; two liaisons on one task; axe on every page."""
import base64

from playwright.sync_api import expect
from sqlalchemy import func, select

from engine.cases import services
from engine.imports import demo
from engine.store.model import Attachment, Case, Department, User
from tests.browser.conftest import DESK
from tests.helpers import open_task, user_id

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYmAAAAAKAANQonMOAAAAAElFTkSuQmCC")
POLICE = "350583106_police"


def checked(page, axe_check):
    assert axe_check(page) == [], page.url
    return page


def claim_from_offered(page, task_title, axe_check):
    page.goto("/inbox?tab=offered")
    checked(page, axe_check)
    card = page.locator(".card", has_text=task_title).first
    card.get_by_role("button", name="领取").click()
    expect(page.locator("h1")).to_have_text(task_title)
    return checked(page, axe_check)


def fill_dispute_report(page, title: str, description: str) -> None:
    """On 上报: a most urgent dispute, placed by tapping the first unit grid on the map, with one photo."""
    page.get_by_text("矛盾纠纷").click()
    page.get_by_label("标题").fill(title)
    page.get_by_label("情况描述").fill(description)
    page.get_by_label("特急").check()
    label = page.locator(".grid-label", has_text="第一单元")
    label.scroll_into_view_if_needed()
    box = label.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] + 8)
    expect(page.locator("#place")).to_contain_text("辉煌村第六网格第一单元")
    page.set_input_files("#photos", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])


def test_a_dispute_from_the_workers_phone_through_the_police_to_verification(person, deps, axe_check):
    worker = person("worker")
    worker.get_by_role("link", name="上报", exact=True).click()
    fill_dispute_report(worker, "宅基地边界纠纷，双方持械对峙", "两户因宅基地边界争执")
    expect(worker.locator("#photo-previews img")).to_have_count(1)
    checked(worker, axe_check)
    worker.get_by_role("button", name="提交上报").click()
    expect(worker.locator("main")).to_contain_text("已上报，案件编号")
    expect(worker.locator(".thumbs img")).to_have_count(1)
    checked(worker, axe_check)

    leader = person("leader", DESK)
    claim_from_offered(leader, "立案登记", axe_check)
    leader.get_by_label("有效").check()
    expect(leader.locator("legend", has_text="风险等级")).to_contain_text("必填")  # required once valid is chosen
    leader.get_by_role("button", name="提交").click()
    expect(leader.locator("#violence-error")).to_have_text("此项为必填项。")
    leader.get_by_label("高", exact=True).check()
    leader.locator("fieldset", has_text="是否涉及暴力").get_by_label("是", exact=True).check()
    leader.get_by_role("button", name="提交").click()
    expect(leader.locator("main")).to_contain_text("已完成：立案登记")

    supervisor = person("supervisor", DESK)

    def dispatch_to_police():
        claim_from_offered(supervisor, "派遣", axe_check)
        supervisor.get_by_label("主办部门").select_option("police")
        supervisor.get_by_role("button", name="提交").click()
        expect(supervisor.locator("main")).to_contain_text("已完成：派遣")
    dispatch_to_police()

    police = person(POLICE)
    claim_from_offered(police, "处置", axe_check)
    expect(police.locator(".summary .thumbs img")).to_have_count(1)  # the worker's photo
    returning = police.locator("details", has_text="退回（非本单位职责）")  # a side action with its own button
    returning.locator("summary").click()
    returning.get_by_role("button", name="确认退回").click()
    expect(returning.locator("#return-reason-error")).to_have_text("此项为必填项。")
    checked(police, axe_check)
    returning.get_by_label("理由").fill("双方已和解，不属治安案件")
    returning.get_by_role("button", name="确认退回").click()
    expect(police.locator("main")).to_contain_text("已完成：处置")

    dispatch_to_police()  # re-dispatched: the police handle it after all
    claim_from_offered(police, "处置", axe_check)
    expect(police.locator("label[for=result]")).to_contain_text("必填")  # the main form keeps the outcome
    police.get_by_label("处置结果").fill("已现场调处，双方签订协议")
    agreement = {"name": "协议.png", "mimeType": "image/png", "buffer": PNG + b"agreement"}
    police.set_input_files("#evidence_after", files=[agreement])
    police.get_by_role("button", name="提交").click()
    expect(police.locator("main")).to_contain_text("已完成：处置")

    worker.get_by_role("link", name="待办").click()
    worker.locator(".card", has_text="现场核查").get_by_role("link").click()
    checked(worker, axe_check)
    worker.get_by_label("是", exact=True).check()
    worker.get_by_role("button", name="提交").click()
    expect(worker.locator("main")).to_contain_text("已完成：现场核查")
    worker.get_by_role("link", name="我的上报").click()
    checked(worker, axe_check)
    worker.locator(".card a").first.click()
    timeline = worker.locator(".timeline")
    for words in ("上报了事项", "退回", "完成了：现场核查", "处置结果"):
        expect(timeline).to_contain_text(words)
    expect(worker.locator(".status")).to_have_text("回访")
    checked(worker, axe_check)
    for path in ("/notices", "/account"):
        worker.goto(path)
        checked(worker, axe_check)


def test_a_report_filed_offline_is_kept_through_a_reload_and_sent_once(person, deps, axe_check):
    worker = person("worker")
    worker.goto("/report")
    worker.wait_for_function("navigator.serviceWorker.controller !== null || "
                             "navigator.serviceWorker.ready.then(() => true)")
    worker.reload()
    worker.wait_for_function("navigator.serviceWorker.controller !== null")
    worker.context.set_offline(True)
    worker.get_by_text("环境污染").click()
    worker.get_by_label("标题").fill("河道倾倒建筑垃圾")
    worker.set_input_files("#photos", files=[{"name": "河道.png", "mimeType": "image/png", "buffer": PNG}])
    worker.get_by_role("button", name="提交上报").click()
    expect(worker.locator("#outbox")).to_contain_text("待发送")
    expect(worker.locator("#outbox-items li")).to_have_count(1)
    worker.reload()
    expect(worker.locator("#outbox-items li")).to_contain_text("河道倾倒建筑垃圾")
    checked(worker, axe_check)
    worker.context.set_offline(False)
    expect(worker.locator("#outbox-items li")).to_contain_text("已发送")
    worker.reload()
    with deps.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Case)) == 1
        assert uow.session.scalar(select(func.count()).select_from(Attachment)) == 1

    # online as far as the browser knows, but the report's request is lost on the way: it waits in the queue
    worker.route("**/report", lambda route: route.abort() if route.request.method == "POST" else route.fallback())
    worker.get_by_text("环境污染").click()
    worker.get_by_label("标题").fill("路灯损坏")
    worker.get_by_role("button", name="提交上报").click()
    expect(worker.locator("#outbox-items li", has_text="路灯损坏")).to_contain_text("待发送")
    worker.unroute("**/report")
    worker.reload()
    expect(worker.locator("#outbox-items li", has_text="路灯损坏")).to_contain_text("已发送")
    with deps.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Case)) == 2


def test_two_liaisons_open_one_task_and_the_slower_is_told_clearly(person, deps, axe_check):
    with deps.uow() as uow:
        police = uow.session.scalar(select(Department.id).where(Department.code == "350583106-police"))
        uow.session.add(User(username="police2", display_name="第二民警", role="liaison", department_id=police,
                             password_hash=demo._hashed(demo.DEMO_PASSWORD)))
        uow.commit()
    case_id = services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="dispute", title="噪音纠纷"))
    services.complete_task(deps, user_id(deps, "leader"), open_task(deps, case_id).id,
                           {"decision": "valid", "risk": "low", "violence": True})
    services.complete_task(deps, user_id(deps, "supervisor"), open_task(deps, case_id).id,
                           {"lead_department": "police", "co_departments": []})
    task_id = open_task(deps, case_id, "handle_case").id
    quick, slow = person(POLICE), person("police2", DESK)
    for page in (quick, slow):
        page.goto(f"/tasks/{task_id}")
    quick.get_by_role("button", name="领取").click()
    slow.get_by_role("button", name="领取").click()
    expect(slow.locator("main")).to_contain_text("该任务已被他人领取")
    expect(slow.locator("h1")).to_have_text("待办")
    checked(slow, axe_check)
