"""Campaigns on the engine: an epidemic screening sent to the 238 unit grids of Luncang (Nan'an), submitted,
returned and resubmitted, reviewed one level up, overdue with the village leaders told, findings filed as cases."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.campaigns import services as campaigns
from engine.cases import notices
from engine.deadlines import firing
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.imports import demo, nanan
from engine.read import campaigns as reads
from engine.store.model import (
    Assignment,
    Case,
    Deadline,
    Finding,
    Grid,
    Notification,
    TimelineEvent,
    User,
)
from tests.helpers import user_id

FORM = [
    {"name": "households", "kind": "count", "title": "走访户数"},
    {"name": "fever", "kind": "count", "title": "发热人数"},
    {"name": "returned_people", "kind": "int", "title": "外地返乡人数"},
    {"name": "note", "kind": "text", "title": "备注", "required": False},
    {"name": "photo", "kind": "photo", "title": "现场照片", "required": False},
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def nanan_deps(deps):
    demo.load_nanan(deps)
    return deps


def _user(deps, username):
    with deps.uow() as uow:
        return uow.session.scalar(select(User).where(User.username == username))


def _doer(deps, grid_id):
    """A grid worker of the grid, else the leader of the grid above (the backup)."""
    with deps.uow() as uow:
        s = uow.session
        worker = s.scalar(select(User.id).where(User.grid_id == grid_id, User.role == "grid_worker").limit(1))
        if worker:
            return worker
        parent = s.scalar(select(Grid.parent_id).where(Grid.id == grid_id))
        return s.scalar(select(User.id).where(User.grid_id == parent, User.role == "grid_leader").limit(1))


def _launch(deps, **changes):
    new = campaigns.NewCampaign(**{"title": "仑苍镇发热人员筛查", "form": FORM, "working_days": 3,
                                   "root_grid_code": nanan.LUNCANG, "target_level": 4,
                                   "instructions": "逐户询问体温与出行史", **changes})
    return campaigns.launch(deps, user_id(deps, "supervisor"), new)


def _fire_all(deps):
    results = {}
    while taken := firing.lease_due(deps, 50):
        for k, v in firing.fire_deadlines(deps, taken).items():
            results[k] = results.get(k, 0) + v
    return results


def test_epidemic_screening_in_luncang(nanan_deps, clock):
    deps = nanan_deps
    start = clock.now()
    campaign_id = _launch(deps)
    with deps.uow() as uow:
        s = uow.session
        rows = s.execute(select(Assignment.id, Assignment.grid_id, Grid.code, Grid.path).join(
            Grid, Grid.id == Assignment.grid_id).where(Assignment.campaign_id == campaign_id)
            .order_by(Grid.code)).all()
        assert s.scalar(select(func.count()).select_from(Deadline).where(
            Deadline.assignment_id.in_([r.id for r in rows]))) == 238 * 3
    assert len(rows) == nanan.LUNCANG_UNITS == 238
    assert all(r.path.startswith(f"/{nanan.CITY}/{nanan.LUNCANG}/") for r in rows)
    assert deps.scheduler.scheduled  # the reminders' and the due time's seconds wake a worker

    # 8 grids of Huihuang stay silent; the other 230 submit on the first day
    huihuang = [r for r in rows if r.code.startswith(nanan.HUIHUANG)]
    silent = {r.id for r in huihuang[-8:]}
    finders = [r for r in huihuang if r.id not in silent][:3]
    clock.advance(hours=2)
    totals = {}
    for r in rows:
        if r.id in silent:
            continue
        doer = _doer(deps, r.grid_id)
        data = {"households": 40 + r.id % 7, "fever": r.id % 3, "returned_people": r.id % 5}
        findings = [campaigns.NewFinding("public_health", f"{r.code} 发现发热聚集", "三户家庭成员同时发热", "high")] \
            if r in finders else []
        photos = [campaigns.Photo("现场.png", PNG)] if r in finders else []
        campaigns.submit(deps, doer, r.id, data, photos, findings)
        village = r.code[:12]
        for k, v in data.items():
            totals.setdefault(village, {}).setdefault(k, 0)
            totals[village][k] += v

    # the town supervisor reviews: 5 go back with a reason, are submitted again, then every one is accepted
    sup = user_id(deps, "supervisor")
    returned = [r for r in rows if r.id not in silent][:5]
    for r in returned:
        campaigns.review(deps, sup, r.id, approved=False, reason="发热人数与卫生院登记不符，请核实")
    with pytest.raises(ValidationError):
        campaigns.review(deps, sup, rows[10].id, approved=False, reason="")
    for r in returned:
        detail = reads.get_assignment(deps, _user(deps, "admin"), r.id)
        assert detail["status"] == "returned" and detail["submissions"][-1]["reason"].startswith("发热人数")
        campaigns.submit(deps, _doer(deps, r.grid_id), r.id, {"households": 40 + r.id % 7, "fever": r.id % 3,
                                                               "returned_people": r.id % 5})
    for r in rows:
        if r.id not in silent:
            campaigns.review(deps, sup, r.id, approved=True)
    with pytest.raises(ConflictError):
        campaigns.review(deps, sup, rows[0].id, approved=True)

    # the one who submitted cannot review; a worker of another grid cannot submit (it reads as not found)
    silent_row = next(r for r in rows if r.id in silent)
    with pytest.raises(NotFoundError):
        campaigns.submit(deps, user_id(deps, "shuitou_worker"), silent_row.id, {})

    # past the due time (3 working days, business calendar): the 8 silent grids fall overdue, exactly once
    clock.set(start + timedelta(days=7))
    assert _fire_all(deps)["fired"] >= 8 * 3  # with the finding cases' own SLA deadlines
    assert _fire_all(deps) == {}
    village_id = user_id(deps, "village")
    with deps.uow() as uow:
        s = uow.session
        fired = s.execute(select(Deadline.assignment_id, Deadline.attempts).where(
            Deadline.assignment_id.is_not(None), Deadline.fired_at.is_not(None))).all()
        assert len(fired) == 8 * 3 and {a for a, _ in fired} == silent and {n for _, n in fired} == {1}
        overdue = s.scalars(select(Assignment.id).where(Assignment.campaign_id == campaign_id,
                                                        Assignment.overdue_at.is_not(None))).all()
        assert set(overdue) == silent
        village_notes = s.scalars(select(Notification.message).where(
            Notification.user_id == village_id, Notification.kind == "campaign_overdue")).all()
        assert len(village_notes) == 8 and all("未按期报送" in m for m in village_notes)
        # the reminders were superseded by the overdue notice: the grids are told nothing twice
        assert s.scalar(select(func.count()).select_from(Notification).where(
            Notification.kind == "campaign_reminder")) == 0

        # 3 findings became public-health cases in the right grids, linked both ways and on the timeline
        links = s.execute(select(Finding, Case).join(Case, Case.id == Finding.case_id)
                          .where(Finding.campaign_id == campaign_id)).all()
        assert len(links) == 3
        for link, case in links:
            assert case.type == "public_health"
            assert s.get(Assignment, link.assignment_id).grid_id == case.grid_id
            kinds = s.scalars(select(TimelineEvent.kind).where(TimelineEvent.case_id == case.id)).all()
            assert "campaign_finding" in kinds
    listed = notices.list_notifications(deps, _user(deps, "village"))
    assert sum(n["kind"] == "campaign_overdue" and n["assignment_id"] in silent for n in listed) == 8
    detail = reads.get_campaign(deps, _user(deps, "supervisor"), campaign_id)
    assert len(detail["findings"]) == 3 and detail["expected"] == 238 and detail["submitted"] == 230
    assert detail["overdue"] == 8 and detail["accepted"] == 230 and detail["on_time"] == 230

    # progress per village, exact, with the numeric totals summed
    progress = reads.progress(deps, _user(deps, "supervisor"), campaign_id)
    assert progress["grid"]["code"] == nanan.LUNCANG and progress["grid"]["expected"] == 238
    villages = {c["code"]: c for c in progress["children"]}
    assert len(villages) == 14
    hh = villages[nanan.HUIHUANG]
    assert (hh["expected"], hh["submitted"], hh["accepted"], hh["on_time"], hh["overdue"]) == (29, 21, 21, 21, 8)
    assert hh["rate"] == round(21 / 29, 4) and hh["state"] == "overdue"
    for code, village in villages.items():
        assert village["totals"] == totals[code]
        if code != nanan.HUIHUANG:
            assert village["submitted"] == village["expected"] == village["accepted"]
            assert village["overdue"] == 0 and village["state"] == "accepted"
    assert sum(v["expected"] for v in villages.values()) == 238
    assert sum(v["returned"] for v in villages.values()) == 5
    down = reads.progress(deps, _user(deps, "supervisor"), campaign_id, under=nanan.HUIHUANG)
    assert sum(c["expected"] for c in down["children"]) == 29 and down["parent"] == nanan.LUNCANG
    assert [s for s in progress["grids"].values()].count("overdue") == 8

    form, export = reads.export_rows(deps, _user(deps, "supervisor"), campaign_id)
    assert len(export) == 235 and sum(r["review"] == "returned" for r in export) == 5  # every submission
    assert sum(r["photos"] for r in export) == 3

    # a town supervisor of another town sees nothing of it
    other = _user(deps, f"sup_{nanan.SHUITOU}")
    assert reads.list_campaigns(deps, other) == []
    for read in (reads.get_campaign, reads.progress, reads.export_rows):
        with pytest.raises(NotFoundError):
            read(deps, other, campaign_id)
    with pytest.raises(NotFoundError):
        reads.get_assignment(deps, other, rows[0].id)
    with pytest.raises(NotFoundError):
        campaigns.cancel(deps, other.id, campaign_id, "不是我的")
    # the city sees it, a Huihuang worker sees their own assignment
    assert [c["id"] for c in reads.list_campaigns(deps, _user(deps, "city_supervisor"))] == [campaign_id]
    assert reads.list_campaigns(deps, _user(deps, "worker"))[0]["id"] == campaign_id


def test_launch_rules_cancel_and_next_round(nanan_deps, clock):
    deps = nanan_deps
    with pytest.raises(PermissionDenied):
        campaigns.launch(deps, user_id(deps, "worker"), campaigns.NewCampaign("x", FORM, 3))
    with pytest.raises(ValidationError) as bad:
        _launch(deps, root_grid_code=nanan.SHUITOU)  # outside Luncang
    assert "root_grid_code" in bad.value.errors
    with pytest.raises(ValidationError):
        _launch(deps, form=[{"name": "x", "kind": "colour", "title": "颜色"}])
    with pytest.raises(ValidationError):
        _launch(deps, working_days=0)

    # a department launches within its jurisdiction: the town's health centre to every village of Luncang
    health = user_id(deps, "350583106_health")
    screening = campaigns.launch(deps, health, campaigns.NewCampaign("村级疫情防控排查", FORM, 2, target_level=2))
    with deps.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.campaign_id == screening)) == 14
    assert [c["id"] for c in reads.list_campaigns(deps, _user(deps, "350583106_health"))] == [screening]
    with pytest.raises(ValidationError):  # outside its jurisdiction
        campaigns.launch(deps, health, campaigns.NewCampaign("x", FORM, 2, root_grid_code=nanan.SHUITOU))

    chosen = ("350583106201-06-01", "350583106201-06-02")
    campaign_id = _launch(deps, title="出租房屋摸排", target_level=None, grid_codes=chosen, recurrence="weekly")
    [mine] = reads.my_assignments(deps, _user(deps, "worker"))
    assert mine["campaign_id"] == campaign_id and mine["grid_code"] == chosen[0]
    campaigns.accept(deps, user_id(deps, "worker"), mine["id"])
    with pytest.raises(ValidationError) as missing:
        campaigns.submit(deps, user_id(deps, "worker"), mine["id"], {"households": 3})
    assert "fever" in missing.value.errors

    # the worker's sweep launches the next round a week later, once
    clock.advance(days=7, seconds=1)
    [second] = campaigns.launch_due_rounds(deps)
    assert campaigns.launch_due_rounds(deps) == []
    assert reads.get_campaign(deps, _user(deps, "supervisor"), second)["round"] == 2

    ended = campaigns.cancel(deps, user_id(deps, "supervisor"), campaign_id, "上级通知暂停摸排")
    assert ended == 2
    detail = reads.get_campaign(deps, _user(deps, "supervisor"), campaign_id)
    assert detail["status"] == "cancelled" and detail["events"][-1]["reason"] == "上级通知暂停摸排"
    with pytest.raises(ConflictError):
        campaigns.submit(deps, user_id(deps, "worker"), mine["id"], {"households": 1, "fever": 0,
                                                                      "returned_people": 0})
    with deps.uow() as uow:
        pending = uow.session.scalar(select(func.count()).select_from(Deadline).join(
            Assignment, Assignment.id == Deadline.assignment_id).where(
            Assignment.campaign_id == campaign_id, Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None)))
    assert pending == 0


def test_a_town_supervisor_counts_only_their_towns_part_of_a_city_campaign(nanan_deps, clock):
    deps = nanan_deps
    new = campaigns.NewCampaign("全市村级安全隐患排查", FORM, 3, root_grid_code=nanan.CITY, target_level=2)
    campaign_id = campaigns.launch(deps, user_id(deps, "city_supervisor"), new)
    with deps.uow() as uow:
        villages = uow.session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.campaign_id == campaign_id))
    city = reads.get_campaign(deps, _user(deps, "city_supervisor"), campaign_id)
    town = reads.get_campaign(deps, _user(deps, "supervisor"), campaign_id)
    [listed] = reads.list_campaigns(deps, _user(deps, "supervisor"))
    assert city["expected"] == villages > 14 and town["expected"] == listed["expected"] == 14  # Luncang's villages
