"""The handling step's side actions are their own small forms beside the main one: 退回 with a reason, 申请延期
with days, 挂起 with a reason; each completes the task with its choice; errors in Chinese beside its field."""
import re

import pytest

from engine.cases import services
from tests.helpers import open_task, user_id

POLICE = "350583106_police"


@pytest.fixture
def handling(app, browser_as):
    """A dispute dispatched to the police, its handling task claimed by the police liaison: (client, task id)."""
    deps = app.extensions["gridflow"]
    case_id = services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="dispute", title="噪音纠纷"))
    services.complete_task(deps, user_id(deps, "leader"), open_task(deps, case_id).id,
                           {"decision": "valid", "risk": "low", "violence": True})
    services.complete_task(deps, user_id(deps, "supervisor"), open_task(deps, case_id).id,
                           {"lead_department": "police", "co_departments": []})
    task_id = open_task(deps, case_id, "handle_case").id
    police = browser_as(POLICE)
    police.post(f"/tasks/{task_id}/claim", data={"csrf_token": police.csrf})
    police.case_id = case_id
    return police, task_id


def test_the_handling_page_shows_each_side_action_as_its_own_form(handling):
    police, task_id = handling
    page = police.get(f"/tasks/{task_id}").get_data(as_text=True)
    for action in ("return", "extend", "suspend"):
        assert f'action="/tasks/{task_id}/actions/{action}"' in page
    assert page.count("<details") == 3 and "确认退回" in page and "提交延期申请" in page and "提交挂起申请" in page
    assert 'type="radio" name="action"' not in page  # the main form keeps the outcome only
    assert '<input type="hidden" name="action" value="feedback">' in page
    assert re.search(r'for="result">处置结果 <span class="req">必填', page)  # the outcome's own field is required
    assert 'id="reason"' not in page and 'id="return-reason"' in page and 'id="extend-extra_days"' in page


def test_returning_without_a_reason_says_so_beside_the_field_then_returns(app, handling):
    police, task_id = handling
    refused = police.post(f"/tasks/{task_id}/actions/return", data={"csrf_token": police.csrf, "reason": " "})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and '<p class="error" id="return-reason-error">此项为必填项。</p>' in page
    assert re.search(r'<details class="side-action" open>\s*<summary>退回（非本单位职责）', page)
    done = police.post(f"/tasks/{task_id}/actions/return", data={"csrf_token": police.csrf, "reason": "不属治安"})
    assert done.headers["Location"] == "/inbox"
    assert open_task(app.extensions["gridflow"], police.case_id).name == "dispatch_case"  # back to the dispatcher


def test_asking_for_an_extension_needs_whole_days_and_what_was_typed_stays(app, handling):
    police, task_id = handling
    refused = police.post(f"/tasks/{task_id}/actions/extend",
                          data={"csrf_token": police.csrf, "reason": "需协调多方", "extra_days": "三天"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="extend-extra_days-error"' in page and "需协调多方" in page
    assert '<p class="error" id="extend-extra_days-error">请输入 1 到 365 之间的整数。</p>' in page
    police.post(f"/tasks/{task_id}/actions/extend",
                data={"csrf_token": police.csrf, "reason": "需协调多方", "extra_days": "3"})
    deps = app.extensions["gridflow"]
    assert open_task(deps, police.case_id).name == "approve_extension"


def test_suspending_asks_for_approval(app, handling):
    police, task_id = handling
    police.post(f"/tasks/{task_id}/actions/suspend", data={"csrf_token": police.csrf, "reason": "当事人外出务工"})
    assert open_task(app.extensions["gridflow"], police.case_id).name == "approve_suspension"


def test_a_step_without_side_actions_shows_none_and_refuses_them(app, browser_as):
    deps = app.extensions["gridflow"]
    case_id = services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="dispute", title="噪音纠纷"))
    leader, task_id = browser_as("leader"), open_task(deps, case_id).id
    leader.post(f"/tasks/{task_id}/claim", data={"csrf_token": leader.csrf})
    assert "<details" not in leader.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert leader.post(f"/tasks/{task_id}/actions/return", data={"csrf_token": leader.csrf}).status_code == 404
