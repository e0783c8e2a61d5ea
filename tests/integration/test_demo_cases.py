"""The first run's cases: filed and worked through the services at their own past times, by the people whose
tasks they were; those left past their time limits breach when the worker fires what is due."""
from collections import Counter

from sqlalchemy import select

from engine.cases import demo as demo_cases
from engine.deadlines import firing
from engine.imports import demo
from engine.store import timeline
from engine.store.model import Case, SupervisionOrder, TimelineEvent, User


def test_the_demo_cases_are_worked_by_their_people_and_the_late_ones_breach_once_fired(deps, clock):
    demo.load_nanan(deps)
    assert demo_cases.load(deps) == len(demo_cases.CASES)
    assert demo_cases.load(deps) == 0  # once: a database with cases gets none
    with deps.uow() as uow:
        session = uow.session
        cases = list(session.scalars(select(Case).order_by(Case.id)))
        statuses = Counter(c.status for c in cases)
        actors = {(e.kind, e.actor) for e in session.scalars(
            select(TimelineEvent).where(TimelineEvent.actor_id.is_not(None)))}
        roles = dict(session.execute(select(User.username, User.role)).all())
        assert all(timeline.verify(session, c.id)["intact"] for c in cases)
    assert len(cases) == len(demo_cases.CASES)
    assert statuses == {"registering": 3, "closed": 2, "handling": 2, "dispatching": 2, "mediating": 1,
                        "verifying": 1, "inspecting": 1}
    assert {roles[actor] for kind, actor in actors if kind == "filed"} == {"grid_worker"}
    assert "admin" not in {roles[actor] for _, actor in actors}  # each step by a user whose task it was
    clock.advance(seconds=1)  # the worker starts a moment after `flask demo`
    fired = Counter()
    for _ in range(10):  # as the worker's first sweep does, until nothing is due (a firing may make more due)
        fired.update(firing.fire_deadline(deps, d) for d, _due in firing.due_deadlines(deps))
    with deps.uow() as uow:
        orders = uow.session.scalars(select(SupervisionOrder)).all()
    assert firing.due_deadlines(deps) == [] and fired["fired"] >= 5
    assert orders  # breaches of the past weeks escalate and order supervision on the worker's start
