"""The admin pages for partner keys and webhooks: admins only; a key and a secret shown once; field errors in
Chinese next to their fields; revoking; pausing, resuming, the delivery log and sending again."""
import re

from engine.cases import partners, services, webhooks
from tests.helpers import user_id


def test_partner_keys_page_creates_shows_once_and_revokes(app, browser_as):
    admin = browser_as("admin")
    page = admin.get("/admin/partner-keys").get_data(as_text=True)
    assert "合作方密钥" in page and "尚无合作方密钥" in page
    bad = admin.post("/admin/partner-keys", data={"csrf_token": admin.csrf, "partner": "", "username": "judicial",
                                                  "grid_code": "nope"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="partner-error"' in text and 'id="username-error"' in text
    assert "请填写合作方名称" in text and 'aria-invalid="true"' in text
    made = admin.post("/admin/partner-keys", data={"csrf_token": admin.csrf, "partner": "12345 热线",
                                                   "username": "leader", "grid_code": "350583106201-06"})
    text = made.get_data(as_text=True)
    key = re.search(r'class="secret url">(gfp_[^<]+)<', text).group(1)
    assert made.status_code == 200 and "只显示这一次" in text
    again = admin.get("/admin/partner-keys").get_data(as_text=True)
    assert key not in again and key[:12] in again and "以 leader 名义上报至 350583106201-06" in again
    key_id = re.search(r'/admin/partner-keys/(\d+)/revoke', again).group(1)
    revoked = admin.post(f"/admin/partner-keys/{key_id}/revoke", data={"csrf_token": admin.csrf},
                         follow_redirects=True).get_data(as_text=True)
    assert "密钥已吊销" in revoked and "/revoke" not in revoked
    assert browser_as("supervisor").get("/admin/partner-keys").status_code == 404


def test_webhook_pages_add_pause_resume_and_send_again(app, browser_as):
    admin = browser_as("admin")
    bad = admin.post("/admin/webhooks", data={"csrf_token": admin.csrf, "name": "热线", "url": "ftp://x"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请填写 http 或 https 地址" in text and "请至少选择一种事件" in text
    made = admin.post("/admin/webhooks", data={"csrf_token": admin.csrf, "name": "热线回访",
                                               "url": "http://127.0.0.1:9/hook",
                                               "events": ["case.filed", "case.closed"]})
    text = made.get_data(as_text=True)
    assert re.search(r'class="secret url">whsec_[^<]+<', text) and "热线回访" in text
    endpoint = re.search(r'/admin/webhooks/(\d+)"', text).group(1)
    deps = app.extensions["gridflow"]
    services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="dispute", title="纠纷"))
    page = admin.get(f"/admin/webhooks/{endpoint}").get_data(as_text=True)
    assert "案件上报" in page and "待发送" in page and "已尝试 0 次" in page
    paused = admin.post(f"/admin/webhooks/{endpoint}/pause", data={"csrf_token": admin.csrf},
                        follow_redirects=True).get_data(as_text=True)
    assert "推送地址已暂停" in paused and "恢复推送" in paused
    resumed = admin.post(f"/admin/webhooks/{endpoint}/resume", data={"csrf_token": admin.csrf},
                         follow_redirects=True).get_data(as_text=True)
    assert "推送地址已恢复" in resumed and "/redeliver" not in resumed  # nothing tried yet: nothing to send again
    delivery = webhooks.deliveries(deps, user_id(deps, "admin"), int(endpoint))[0]["id"]
    sent = admin.post(f"/admin/webhooks/{endpoint}/deliveries/{delivery}/redeliver",
                      data={"csrf_token": admin.csrf}, follow_redirects=True).get_data(as_text=True)
    assert "该推送将重新发送" in sent
    assert "尚无推送记录" in admin.get(f"/admin/webhooks/{endpoint}?status=delivered").get_data(as_text=True)
    assert browser_as("worker").get(f"/admin/webhooks/{endpoint}").status_code == 404
    assert admin.get("/admin/webhooks/9999").status_code == 404


def test_a_case_filed_by_a_partner_says_so_on_its_page(app, browser_as):
    deps = app.extensions["gridflow"]
    _row, key = partners.create_key(deps, user_id(deps, "admin"), "12345 热线", "leader", "350583106201-06")
    partner = partners.authenticate(deps, key)
    case_id, _token = partners.file_report(
        deps, partner, services.NewCase(type="dispute", title="排水沟纠纷"), {"description": "排水沟"},
        {"address_string": "辉煌村 6 组", "media_url": "https://photos.example.org/1.jpg", "phone": "13800000000"})
    page = browser_as("leader").get(f"/cases/{case_id}").get_data(as_text=True)
    for text in ("来源", "12345 热线", "辉煌村 6 组", "照片链接", "13800000000"):
        assert text in page
