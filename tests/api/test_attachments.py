"""Photos and documents on cases over HTTP: uploaded within limits, stored once by hash, read only in scope,
and given as evidence when a task is completed."""
import hashlib
import io
import struct
import zlib

import pytest

from tests.api_client import assert_error, at_town_judicial_office, file
from tests.unit.test_filetypes import ooxml

CASE = {"type": "dispute", "title": "邻里纠纷", "severity": "high"}
MB = 1024 * 1024


def png(seed: int = 0, padding: int = 0) -> bytes:
    """A real 1x1 PNG; `seed` changes its pixel, `padding` adds a text chunk to make it bigger."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixel = zlib.compress(bytes([0, seed % 256, 0, 0]))
    extra = chunk(b"tEXt", b"Comment\x00" + b"x" * padding) if padding else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + extra
            + chunk(b"IDAT", pixel) + chunk(b"IEND", b""))


def upload(client, headers, case_id, content, filename="现场照片.png", kind="evidence_before", **form):
    return client.post(f"/api/v1/cases/{case_id}/attachments", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(content), filename, "image/png"), "kind": kind, **form})


def uploaded(client, headers, case_id, content, **kwargs) -> dict:
    response = upload(client, headers, case_id, content, **kwargs)
    assert response.status_code == 201, response.json
    return response.json


def stored_files(app, sha256: str | None = None) -> list:
    root = app.extensions["gridflow"].blobs.root
    return sorted(p for p in root.rglob("*") if p.is_file() and (sha256 is None or p.name == sha256))


@pytest.fixture
def case(client, login) -> dict:
    return file(client, login, severity="high")


@pytest.fixture
def town_case(client, login, case) -> dict:
    """The dispute after village mediation failed: the town judicial office (a liaison) mediates."""
    return at_town_judicial_office(client, login, case)


def test_a_photo_reads_back_byte_identical_with_its_hash_and_lands_on_the_timeline(client, login, case):
    worker, content = login("worker"), png()
    attachment = uploaded(client, worker, case["id"], content)
    sha256 = hashlib.sha256(content).hexdigest()
    assert {k: attachment[k] for k in ("case_id", "task_id", "kind", "filename", "content_type", "size", "sha256",
                                       "uploaded_by")} == {
        "case_id": case["id"], "task_id": None, "kind": "evidence_before", "filename": "现场照片.png",
        "content_type": "image/png", "size": len(content), "sha256": sha256, "uploaded_by": "worker"}
    assert attachment["created_at"].endswith("+08:00")

    content_response = client.get(f"/api/v1/attachments/{attachment['id']}/content", headers=worker)
    assert content_response.status_code == 200
    assert content_response.data == content and hashlib.sha256(content_response.data).hexdigest() == sha256
    assert content_response.mimetype == "image/png"
    assert content_response.headers["ETag"] == f'"{sha256}"'
    assert content_response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = content_response.headers["Content-Disposition"]
    assert disposition.startswith("inline")
    assert "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png" in disposition  # 现场照片.png
    assert "private" in content_response.headers["Cache-Control"]
    unchanged = client.get(f"/api/v1/attachments/{attachment['id']}/content",
                           headers={**worker, "If-None-Match": f'"{sha256}"'})
    assert unchanged.status_code == 304 and unchanged.data == b""

    assert client.get(f"/api/v1/attachments/{attachment['id']}", headers=worker).json == attachment
    assert client.get(f"/api/v1/cases/{case['id']}/attachments", headers=login("leader")).json == [attachment]
    [event] = [e for e in client.get(f"/api/v1/cases/{case['id']}/timeline", headers=worker).json
               if e["kind"] == "attached"]
    assert event["actor"] == "worker" and event["payload"]["sha256"] == sha256
    assert event["payload"]["attachment"] == attachment["id"]
    assert client.get(f"/api/v1/cases/{case['id']}/timeline/verify", headers=worker).json["intact"]


def test_the_same_bytes_are_stored_once_on_disk(client, login, app, case):
    worker, content = login("worker"), png(seed=7)
    other = client.post("/api/v1/cases", json=CASE, headers=worker).json
    first = uploaded(client, worker, case["id"], content, kind="report")
    second = uploaded(client, worker, other["id"], content, filename="again.png", kind="report")
    third = uploaded(client, worker, case["id"], content, kind="document")
    assert len({first["id"], second["id"], third["id"]}) == 3
    assert first["sha256"] == second["sha256"] == third["sha256"]
    assert len(stored_files(app, first["sha256"])) == 1
    assert not [p for p in stored_files(app) if p.name.startswith(".incoming-")]


def test_sending_the_same_file_again_answers_the_first_attachment(client, login, case):
    worker = login("worker")
    first = uploaded(client, worker, case["id"], png(seed=3))
    again = uploaded(client, worker, case["id"], png(seed=3), filename="retry.png")
    assert again == first
    assert len(client.get(f"/api/v1/cases/{case['id']}/attachments", headers=worker).json) == 1


def test_a_user_outside_the_area_gets_404_for_everything_about_an_attachment(client, login, case):
    attachment = uploaded(client, login("worker"), case["id"], png())
    outsider = login("shuitou_worker")
    for url in (f"/api/v1/attachments/{attachment['id']}", f"/api/v1/attachments/{attachment['id']}/content"):
        response = client.get(url, headers=outsider)
        assert_error(response, 404)
        assert "case" not in response.json["message"]  # an attachment's id says nothing about its case
    assert_error(client.get(f"/api/v1/cases/{case['id']}/attachments", headers=outsider), 404)
    assert_error(upload(client, outsider, case["id"], png(seed=1)), 404)
    assert_error(client.get("/api/v1/attachments/999999", headers=login("worker")), 404)


@pytest.mark.parametrize("content", [
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200,  # a Windows program
    b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b"GIF89a\x01\x00\x01\x00",
    ooxml("notes.txt"),  # a ZIP archive that is no office document
    ooxml("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"),  # a Word file with macros
    b"",
], ids=["exe", "html", "svg", "gif", "zip", "docm", "empty"])
def test_a_file_that_is_not_an_accepted_type_is_refused_whatever_it_claims(client, login, app, case, content):
    response = upload(client, login("worker"), case["id"], content, filename="photo.png")
    assert_error(response, 422, "file")
    assert client.get(f"/api/v1/cases/{case['id']}/attachments", headers=login("worker")).json == []
    assert stored_files(app, hashlib.sha256(content).hexdigest()) == []


def test_documents_are_told_by_their_bytes_and_downloaded(client, login, case):
    worker = login("worker")
    pdf = uploaded(client, worker, case["id"], b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", filename="协议书",
                   kind="document")
    docx = uploaded(client, worker, case["id"], ooxml("[Content_Types].xml", "word/document.xml"),
                    filename="调解协议.docx", kind="document")
    assert (pdf["content_type"], pdf["filename"]) == ("application/pdf", "协议书.pdf")
    assert docx["content_type"].endswith("wordprocessingml.document") and docx["filename"] == "调解协议.docx"
    content = client.get(f"/api/v1/attachments/{pdf['id']}/content", headers=worker)
    assert content.mimetype == "application/pdf" and content.headers["Content-Disposition"].startswith("attachment")


def test_the_file_name_loses_folders_and_gets_an_extension_that_matches_the_bytes(client, login, case):
    attachment = uploaded(client, login("worker"), case["id"], png(), filename="../../etc/\u202eevil.html")
    assert attachment["filename"] == "evil.html.png"


def test_a_file_over_the_limit_answers_413_and_nothing_is_written(client, login, app, case):
    worker, before = login("worker"), stored_files(app)
    just_over = png(padding=10 * MB)
    far_over = png(padding=12 * MB)
    for content in (just_over, far_over):
        response = upload(client, worker, case["id"], content)
        assert_error(response, 413)
        assert stored_files(app, hashlib.sha256(content).hexdigest()) == []
    assert "file" in upload(client, worker, case["id"], just_over).json["errors"]
    assert client.get(f"/api/v1/cases/{case['id']}/attachments", headers=worker).json == []
    assert stored_files(app) == before
    kinds = [e["kind"] for e in client.get(f"/api/v1/cases/{case['id']}/timeline", headers=worker).json]
    assert "attached" not in kinds


def test_uploads_may_exceed_the_apps_small_request_limit_that_other_endpoints_keep(client, login, case):
    worker = login("worker")
    assert uploaded(client, worker, case["id"], png(padding=3 * MB))["size"] > 3 * MB
    too_big_elsewhere = client.post("/api/v1/cases", headers=worker, json={**CASE, "description": "x" * (2 * MB)})
    assert_error(too_big_elsewhere, 413)


def test_a_case_keeps_a_limited_number_of_attachments(client, login, app, case):
    app.extensions["gridflow"].attachments_per_case = 2
    worker = login("worker")
    uploaded(client, worker, case["id"], png(seed=1))
    uploaded(client, worker, case["id"], png(seed=2))
    assert_error(upload(client, worker, case["id"], png(seed=3)), 422, "file")


@pytest.mark.parametrize("form, field", [
    ({"kind": "selfie"}, "kind"),
    ({"task_id": "00000000-0000-0000-0000-000000000000"}, "task_id"),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_upload_form_names_the_field(client, login, case, form, field):
    assert_error(upload(client, login("worker"), case["id"], png(), **form), 422, field)


def test_an_upload_without_a_file_names_the_field(client, login, case):
    response = client.post(f"/api/v1/cases/{case['id']}/attachments", headers=login("worker"),
                           content_type="multipart/form-data", data={"kind": "report"})
    assert_error(response, 422, "file")


def test_evidence_for_a_task_needs_someone_who_may_act_on_it(client, login, case):
    [register] = case["tasks"]
    assert_error(upload(client, login("worker"), case["id"], png(), task_id=register["id"]), 403)
    evidence = uploaded(client, login("leader"), case["id"], png(), task_id=register["id"])
    assert evidence["task_id"] == register["id"]


def test_a_liaison_uploads_evidence_and_completes_their_task_through_the_api(client, login, town_case):
    judicial, case_id = login("judicial"), town_case["id"]
    [task] = town_case["tasks"]
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=judicial).status_code == 200
    before = uploaded(client, judicial, case_id, png(seed=11), kind="evidence_before", task_id=task["id"])
    after = uploaded(client, judicial, case_id, png(seed=12), filename="调解后.jpg", kind="evidence_after")
    agreement = uploaded(client, judicial, case_id, b"%PDF-1.4\n", filename="调解协议书.pdf", kind="document")

    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=judicial, json={
        "data": {"resolved": True, "outcome": "达成调解协议"}, "attachments": [after["id"], agreement["id"]]})
    assert response.status_code == 200, response.json
    [completed] = [e for e in response.json["timeline"] if e["kind"] == "completed" and e["task_id"] == task["id"]]
    assert completed["payload"]["attachments"] == [{"id": a["id"], "kind": a["kind"], "filename": a["filename"],
                                                    "sha256": a["sha256"]} for a in (after, agreement)]
    assert after["filename"] == "调解后.jpg.png"
    listed = client.get(f"/api/v1/cases/{case_id}/attachments", headers=login("worker")).json
    assert {a["id"]: a["task_id"] for a in listed} == {before["id"]: task["id"], after["id"]: task["id"],
                                                       agreement["id"]: task["id"]}


def test_a_foreign_or_unknown_attachment_on_completion_is_refused_and_the_task_stays_open(client, login, case):
    worker, leader = login("worker"), login("leader")
    other = client.post("/api/v1/cases", json=CASE, headers=worker).json
    foreign = uploaded(client, worker, other["id"], png(seed=5))
    [task] = case["tasks"]
    for ids in ([foreign["id"]], [999999]):
        response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=leader, json={
            "data": {"decision": "valid", "risk": "low", "violence": False}, "attachments": ids})
        assert_error(response, 422, "attachments")
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=leader).json["status"] == "open"
    assert client.get(f"/api/v1/attachments/{foreign['id']}", headers=worker).json["task_id"] is None
    assert "completed" not in [e["kind"] for e in client.get(f"/api/v1/cases/{case['id']}/timeline",
                                                               headers=worker).json]


def test_evidence_of_one_task_cannot_be_given_for_another(client, login, case):
    leader = login("leader")
    [register] = case["tasks"]
    evidence = uploaded(client, leader, case["id"], png(), task_id=register["id"])
    case_now = client.post(f"/api/v1/tasks/{register['id']}/complete", headers=leader, json={
        "data": {"decision": "valid", "risk": "low", "violence": False}, "attachments": [evidence["id"]]}).json
    [mediation] = case_now["tasks"]
    response = client.post(f"/api/v1/tasks/{mediation['id']}/complete", headers=leader, json={
        "data": {"resolved": True, "outcome": "调解成功"}, "attachments": [evidence["id"]]})
    assert_error(response, 422, "attachments")


def test_nothing_can_be_attached_to_a_closed_case(client, login, case):
    worker = login("worker")
    withdrawn = client.post(f"/api/v1/cases/{case['id']}/withdraw", headers=worker, json={"reason": "已自行解决"})
    assert withdrawn.status_code == 200 and withdrawn.json["closed_at"]
    assert_error(upload(client, worker, case["id"], png()), 409)
