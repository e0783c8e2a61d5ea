"""The webhook outbox: events are written in the transaction of the change, or not at all; which changes
become which events; an endpoint's grid subtree; nothing is written without an endpoint that wants it."""
import pytest
from sqlalchemy import func, select

from engine.cases import services, webhooks
from engine.deadlines import firing
from engine.errors import ValidationError
from engine.store.model import WebhookDelivery, WebhookEvent
from tests.helpers import open_task, user_id
from tests.integration.test_leases import file_overdue

ANSWERS = (("register_case", "leader", {"decision": "valid", "risk": "low", "violence": False}),
           ("mediate_at_grid", "leader", {"resolved": True, "outcome": "双方达成和解"}),
           ("verify_on_site", "worker", {"passed": True}),
           ("follow_up", "leader", {"satisfied": True}))


def events(deps, case_id=None) -> list[tuple[str, dict]]:
    with deps.uow() as uow:
        query = select(WebhookEvent).order_by(WebhookEvent.id)
        if case_id:
            query = query.where(WebhookEvent.case_id == case_id)
        return [(e.type, e.payload) for e in uow.session.scalars(query)]


def count(deps, table) -> int:
    with deps.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(table))


def test_a_case_from_filing_to_closing_in_events_and_a_failed_change_in_none(deps):
    admin = user_id(deps, "admin")
    everything = webhooks.create_endpoint(deps, admin, "all", "http://127.0.0.1:9/a", webhooks.EVENT_TYPES)
    closing = webhooks.create_endpoint(deps, admin, "closed", "http://127.0.0.1:9/b", ["case.closed"])
    elsewhere = webhooks.create_endpoint(deps, admin, "other town", "http://127.0.0.1:9/c", webhooks.EVENT_TYPES,
                                         grid_code="350583103")
    case_id = services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="dispute", title="纠纷"))
    before = count(deps, WebhookEvent)
    with pytest.raises(ValidationError):  # rolled back: no event either
        services.complete_task(deps, user_id(deps, "leader"), open_task(deps, case_id).id, {"decision": "maybe"})
    assert count(deps, WebhookEvent) == before
    for name, who, data in ANSWERS:
        services.complete_task(deps, user_id(deps, who), open_task(deps, case_id, name).id, data)

    found = events(deps, case_id)
    kinds = [kind for kind, _payload in found]
    assert kinds[0] == "case.filed" and kinds[-1] == "case.closed"
    assert kinds[-2] == "case.status_changed" and found[-2][1]["to"] == "closed"
    assert "task.assigned" in kinds  # verification opens assigned to the reporter
    changes = [(p["from"], p["to"]) for k, p in found if k == "case.status_changed"]
    assert changes[0][0] == "reported" and all(a[1] == b[0] for a, b in zip(changes, changes[1:], strict=False))
    seqs = [p["seq"] for _k, p in found if "seq" in p]
    assert seqs == sorted(seqs) and found[0][1]["case_number"].startswith("350583106-")
    with deps.uow() as uow:
        per_endpoint = dict(uow.session.execute(select(WebhookDelivery.endpoint_id, func.count())
                                                .group_by(WebhookDelivery.endpoint_id)).all())
    assert per_endpoint == {everything["id"]: len(found), closing["id"]: 1}  # none for the other town
    assert elsewhere["id"] not in per_endpoint


def test_warnings_and_breaches_go_out_and_nothing_is_written_without_an_endpoint(deps, clock):
    [quiet] = file_overdue(deps, clock, 1, kind="warning")
    assert count(deps, WebhookEvent) == 0 and count(deps, WebhookDelivery) == 0
    webhooks.create_endpoint(deps, user_id(deps, "admin"), "sla", "http://127.0.0.1:9/a",
                             ["sla.warning", "sla.breached", "supervision.ordered"])
    [warned] = file_overdue(deps, clock, 1, kind="warning")
    [breached] = file_overdue(deps, clock, 1, kind="breach")
    for deadline in firing.lease_due(deps, 20):
        firing.fire_deadline(deps, deadline)
    assert [k for k, _p in events(deps, warned)] == ["sla.warning"]
    assert [k for k, _p in events(deps, breached)] == ["sla.breached", "supervision.ordered"]
    assert [k for k, _p in events(deps, quiet)] == ["sla.warning"]  # filed before any endpoint: only its warning
