"""Open311 GeoReport v2 over a real HTTP server: discovery, services, a service's definition, filing with
attributes and a photo URL, the list with filters, one request as an array, tokens; XML (read with
xml.etree, element names as the specification has them) and JSON; the spec's errors."""
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from engine.cases import partners
from engine.store.model import Grid, TimelineEvent
from tests.helpers import user_id

UNIT = "350583106201-06-01"
SQUARE = {"type": "Polygon", "coordinates": [[[118.30, 24.90], [118.32, 24.90], [118.32, 24.92], [118.30, 24.92],
                                               [118.30, 24.90]]]}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


@pytest.fixture
def server(app):
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.port}/open311/v2"
    http.shutdown()
    thread.join()


@pytest.fixture
def key(app):
    deps = app.extensions["gridflow"]
    with deps.uow() as uow:
        uow.session.execute(update(Grid).where(Grid.code == UNIT).values(polygon=json.dumps(SQUARE)))
        uow.commit()
    _row, plain = partners.create_key(deps, user_id(deps, "admin"), "12345 热线", "leader", "350583106201-06")
    return plain


def call(url, data=None):
    """(status, content type, body) of a GET, or of a form-encoded POST when `data` is given."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def xml(body: bytes) -> ET.Element:
    return ET.fromstring(body)


def test_discovery_services_and_definition_in_xml_and_json(server):
    status, kind, body = call(f"{server}/discovery.xml")
    root = xml(body)
    assert status == 200 and kind.startswith("text/xml") and root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url").endswith("/open311/v2/")
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]

    root = xml(call(f"{server}/services.xml")[2])
    assert root.tag == "services"
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    assert len(services) == 8
    dispute = services["GF-DISPUTE"]
    assert {c.tag for c in dispute} == {"service_code", "service_name", "description", "metadata", "type",
                                        "keywords", "group"}
    assert dispute.findtext("service_name") == "矛盾纠纷" and dispute.findtext("metadata") == "true"
    assert dispute.findtext("type") == "realtime" and "调解" in dispute.findtext("keywords")
    listed = json.loads(call(f"{server}/services.json")[2])
    assert {s["service_code"] for s in listed} == set(services) and listed[0]["metadata"] is True

    root = xml(call(f"{server}/services/GF-DISPUTE.xml")[2])
    assert root.tag == "service_definition" and root.findtext("service_code") == "GF-DISPUTE"
    attributes = {a.findtext("code"): a for a in root.findall("attributes/attribute")}
    severity = attributes["severity"]
    assert severity.findtext("datatype") == "singlevaluelist" and severity.findtext("variable") == "true"
    assert [v.findtext("key") for v in severity.findall("values/value")] == ["low", "medium", "high"]
    definition = json.loads(call(f"{server}/services/GF-DISPUTE.json")[2])
    assert [a["order"] for a in definition["attributes"]] == [1, 2, 3]

    status, _kind, body = call(f"{server}/services/GF-NOPE.xml")
    assert status == 404 and xml(body).find("error/code").text == "404"
    status, kind, body = call(f"{server}/services.csv")
    assert status == 404 and kind.startswith("text/xml") and xml(body).tag == "errors"


def test_a_report_filed_read_back_listed_and_found_by_token(app, server, key):
    form = {"api_key": key, "service_code": "GF-DISPUTE", "lat": "24.91", "long": "118.31",
            "description": "两户因排水沟堵塞发生争吵", "attribute[severity]": "high", "attribute[title]": "排水沟纠纷",
            "media_url": "https://photos.example.org/ditch.jpg", "first_name": "三", "last_name": "张",
            "phone": "13800000000", "email": "zhang@example.org"}
    status, kind, body = call(f"{server}/requests.xml", form)
    assert status == 201, body
    filed = xml(body).find("request")
    number, token = filed.findtext("service_request_id"), filed.findtext("token")
    assert number.startswith("350583106-")

    again = json.loads(call(f"{server}/requests.json", form)[2])  # the partner retries: filed once
    assert again[0]["service_request_id"] == number

    deps = app.extensions["gridflow"]
    with deps.uow() as uow:
        event = uow.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "filed"))
    assert event.payload["partner"]["name"] == "12345 热线"
    assert event.payload["partner"]["media_url"] == "https://photos.example.org/ditch.jpg"
    assert event.payload["partner"]["phone"] == "13800000000" and event.payload["grid"] == UNIT

    root = xml(call(f"{server}/requests/{number}.xml?api_key={key}")[2])
    assert root.tag == "service_requests" and len(root.findall("request")) == 1
    one = root.find("request")
    assert {c.tag for c in one} == REQUEST_FIELDS
    assert one.findtext("status") == "open" and one.findtext("service_code") == "GF-DISPUTE"
    assert one.findtext("media_url") == "https://photos.example.org/ditch.jpg"
    assert one.findtext("lat") == "24.91" and one.findtext("long") == "118.31"
    assert one.findtext("requested_datetime").endswith("+08:00")
    assert one.findtext("agency_responsible")
    as_json = json.loads(call(f"{server}/requests/{number}.json?api_key={key}")[2])
    assert isinstance(as_json, list) and as_json[0]["service_request_id"] == number
    assert as_json[0]["expected_datetime"].endswith("+08:00")

    form2 = {"api_key": key, "service_code": "GF-SAFETY", "address_string": "辉煌村 6 组 仓库",
             "description": "仓库堆放液化气瓶"}
    second = json.loads(call(f"{server}/requests.json", form2)[2])[0]["service_request_id"]

    def listed(query):
        status, _kind, body = call(f"{server}/requests.xml?api_key={key}&{query}")
        assert status == 200, body
        return [r.findtext("service_request_id") for r in xml(body).findall("request")]

    assert listed("") == [second, number]
    assert listed("service_code=GF-DISPUTE") == [number]
    assert listed(f"service_request_id={number},{second}") == [second, number]
    assert listed(f"service_request_id={number}&status=closed") == [number]  # the ids override the rest
    assert listed("status=open") == [second, number] and listed("status=closed") == []
    now = deps.clock.now()
    later = urllib.parse.quote((now + timedelta(days=1)).isoformat())
    assert listed(f"start_date={later}") == []
    earlier = urllib.parse.quote((now - timedelta(days=1)).isoformat())
    assert listed(f"start_date={earlier}&end_date={later}&page_size=1") == [second]
    assert listed(f"start_date={earlier}&end_date={later}&page_size=1&page=2") == [number]
    status, _kind, body = call(f"{server}/requests.xml?api_key={key}&start_date={earlier}&end_date="
                               + urllib.parse.quote((now + timedelta(days=100)).isoformat()))
    assert status == 400 and "90 days" in xml(body).findtext("error/description")

    found = xml(call(f"{server}/tokens/{token}.xml?api_key={key}")[2]).find("request")
    assert found.findtext("service_request_id") == number and found.findtext("token") == token


def test_errors_are_arrays_of_code_and_description(app, server, key):
    for url, data in ((f"{server}/requests.xml", {"service_code": "GF-DISPUTE", "address_string": "x"}),
                      (f"{server}/requests.xml", {"api_key": "gfp_wrong", "service_code": "GF-DISPUTE"}),
                      (f"{server}/requests.xml?api_key=gfp_wrong", None)):
        status, kind, body = call(url, data)
        root = xml(body)
        assert status == 403 and kind.startswith("text/xml") and root.tag == "errors"
        assert root.find("error/code").text == "403" and root.find("error/description").text
    status, kind, body = call(f"{server}/requests.json", {"api_key": "gfp_wrong", "service_code": "GF-DISPUTE"})
    assert status == 403 and kind.startswith("application/json")
    assert json.loads(body)[0]["code"] == 403

    status, _kind, body = call(f"{server}/requests.json", {
        "api_key": key, "service_code": "GF-DISPUTE", "description": "x" * 4001, "attribute[severity]": "grave",
        "attribute[colour]": "red", "media_url": "ftp://x"})
    problems = " ".join(e["description"] for e in json.loads(body))
    assert status == 400
    for word in ("description", "severity", "colour", "media_url", "address_string"):
        assert word in problems
    status, _kind, body = call(f"{server}/requests.json", {"api_key": key, "service_code": "GF-NOPE",
                                                          "address_string": "x"})
    assert status == 400
    assert call(f"{server}/requests/350583106-20000101-0001.json?api_key={key}")[0] == 404
    outside = {"api_key": key, "service_code": "GF-DISPUTE", "lat": "1", "long": "1", "description": "x"}
    assert call(f"{server}/requests.json", outside)[0] == 400

    deps = app.extensions["gridflow"]
    [row] = partners.list_keys(deps, user_id(deps, "admin"))
    partners.revoke_key(deps, user_id(deps, "admin"), row["id"])
    assert call(f"{server}/requests.json?api_key={key}")[0] == 403
    deps.open311_jurisdiction = "350583"
    assert call(f"{server}/services.json?jurisdiction_id=350583")[0] == 200
    assert call(f"{server}/services.json?jurisdiction_id=elsewhere")[0] == 404
