"""The README's screenshots, at phone size with the installed CJK font, written to docs/screenshots/.

Not part of the suite (the name does not start with test_): run it by name,
`.venv/bin/python -m pytest tests/browser/screenshots.py`."""
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.test_field_app import PNG

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_screenshots_of_filing_on_a_phone_and_of_the_inbox(person):
    OUT.mkdir(parents=True, exist_ok=True)
    worker = person("worker")
    worker.goto("/report")
    worker.get_by_text("矛盾纠纷").click()
    worker.get_by_label("标题").fill("宅基地边界纠纷")
    worker.get_by_label("情况描述").fill("两户因宅基地边界争执，已有推搡")
    worker.get_by_label("特急").check()
    label = worker.locator(".grid-label", has_text="第一单元")
    label.scroll_into_view_if_needed()
    box = label.bounding_box()
    worker.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] + 8)
    expect(worker.locator("#place")).to_contain_text("辉煌村第六网格第一单元")
    worker.set_input_files("#photos", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
    worker.screenshot(path=OUT / "report-phone.png", full_page=True)
    worker.get_by_role("button", name="提交上报").click()
    expect(worker.locator("main")).to_contain_text("已上报")
    worker.screenshot(path=OUT / "case-phone.png", full_page=True)
    leader = person("leader")
    leader.goto("/inbox?tab=offered")
    leader.screenshot(path=OUT / "inbox-phone.png", full_page=True)
