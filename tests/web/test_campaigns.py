"""The campaign pages through the test client: a supervisor launches from the desk, the worker's 任务 tab lists the
assignment and takes a submission with a photo, the reviewer accepts it, the progress table and map data follow,
the export holds the submission; bad input is told next to its field; another town gets 404."""
import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from engine.deadlines import firing
from engine.store.model import Assignment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _launch(sup):
    return sup.post("/campaigns/new", data={
        "csrf_token": sup.csrf, "title": "出租房屋摸排", "instructions": "逐户核查",
        "field_title_0": "出租房间数", "field_kind_0": "count", "field_required_0": "on",
        "field_title_1": "现场照片", "field_kind_1": "photo", "field_required_1": "on",
        "root_grid_code": "350583106201", "target_level": "4", "working_days": "3", "recurrence": ""})


def test_launch_submit_review_progress_and_export(browser_as, app, clock):
    sup, worker, leader = browser_as("supervisor"), browser_as("worker"), browser_as("leader")
    bad = sup.post("/campaigns/new", data={"csrf_token": sup.csrf, "title": "", "working_days": "0",
                                           "root_grid_code": "350583106201", "target_level": "4"})
    assert bad.status_code == 422 and 'id="title-error"' in bad.get_data(as_text=True)
    launched = _launch(sup)
    assert launched.status_code == 302
    campaign_url = launched.headers["Location"]
    campaign_id = int(re.search(r"/campaigns/(\d+)", campaign_url).group(1))

    tab = worker.get("/assignments").get_data(as_text=True)
    assert "出租房屋摸排" in tab and "任务" in tab
    assignment_id = int(re.search(r'data-assignment="(\d+)"', tab).group(1))
    page = worker.get(f"/assignments/{assignment_id}").get_data(as_text=True)
    assert 'name="photos"' in page and "逐户核查" in page
    missing = worker.post(f"/assignments/{assignment_id}", data={"csrf_token": worker.csrf, "action": "submit",
                                                                 "f1": "3"})
    assert missing.status_code == 422 and 'id="f2-error"' in missing.get_data(as_text=True)
    queued = {"csrf_token": worker.csrf, "action": "submit", "f1": "3", "idempotency_key": "k1", "title": "x"}
    sent = worker.post(f"/assignments/{assignment_id}", content_type="multipart/form-data", headers={
        "Accept": "application/json"}, data={**queued, "photos": (io.BytesIO(PNG), "a.png")})
    assert sent.status_code == 201, sent.get_data(as_text=True)  # the offline queue's way of sending
    again = worker.post(f"/assignments/{assignment_id}", content_type="multipart/form-data", headers={
        "Accept": "application/json"}, data={**queued, "photos": (io.BytesIO(PNG), "a.png")})
    assert again.status_code == 201  # a resend whose first send got through submits nothing more
    assert len(worker.get(f"/api/v1/campaign-assignments/{assignment_id}").json["submissions"]) == 1

    review = leader.get(f"/assignments/{assignment_id}").get_data(as_text=True)
    assert 'value="approve"' in review
    assert leader.post(f"/assignments/{assignment_id}", data={"csrf_token": leader.csrf,
                                                              "action": "approve"}).status_code == 302

    progress = sup.get(f"/campaigns/{campaign_id}?under=350583106201-06").get_data(as_text=True)
    assert 'data-grid="350583106201-06-01" data-state="accepted"' in progress
    shapes = sup.get(f"/campaigns/{campaign_id}/map/350583106201.geojson").json
    states = {f["properties"]["code"]: f["properties"]["state"] for f in shapes["features"]}
    assert states.get("350583106201-06") in ("partial", "calm", None) or states == {}

    rows = list(csv.reader(io.StringIO(sup.get(f"/campaigns/{campaign_id}/submissions.csv")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["网格编码", "网格"] and rows[1][0] == "350583106201-06-01" and rows[1][-1] == "3"
    book = load_workbook(io.BytesIO(sup.get(f"/campaigns/{campaign_id}/submissions.xlsx").data))
    assert book.active.max_row == 2

    # past the due time the village leader hears of the grids still silent, linked to their assignments
    deps = app.extensions["gridflow"]
    second = _other_assignment(deps, assignment_id)
    clock.advance(days=7)
    while taken := firing.lease_due(deps, 50):
        firing.fire_deadlines(deps, taken)
    notices = browser_as("village").get("/notices").get_data(as_text=True)
    assert f'href="{second}"' in notices and "任务逾期未报" in notices

    other = browser_as("shuitou_supervisor")
    assert other.get(f"/campaigns/{campaign_id}").status_code == 404
    assert other.get(f"/campaigns/{campaign_id}/submissions.csv").status_code == 404
    assert browser_as("shuitou_worker").get(f"/assignments/{assignment_id}").status_code == 404
    assert worker.get("/campaigns").status_code == 404  # the desk's pages are not the field app's


def _other_assignment(deps, taken: int) -> str:
    """The path of another assignment of the same campaign under the leader's grid, still open."""
    with deps.uow() as uow:
        first = uow.session.get(Assignment, taken)
        other = uow.session.scalar(select(Assignment.id).where(
            Assignment.campaign_id == first.campaign_id, Assignment.id != taken,
            Assignment.path.startswith(first.path.rsplit("/", 2)[0] + "/")).order_by(Assignment.id).limit(1))
    return f"/assignments/{other}"
