"""SLA tables: each type's rows sit next to its diagram and win over the shared rows; changing one type's
limits versions that type only."""
import shutil

import pytest
from lxml import etree

from engine.process import specs
from engine.process.catalogue import BPMN_ROOT
from engine.sla.clocks import SLA_TABLES
from workflows import CATALOGUE

DMN = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
SLA_FILES = sorted(p.relative_to(BPMN_ROOT).as_posix() for p in BPMN_ROOT.glob("*/sla.dmn"))


def limit(code: str, severity: str, step: str, root=BPMN_ROOT) -> dict:
    case_type = CATALOGUE[code]
    spec = specs.parse(case_type.process_id, case_type.read_files(root))
    return spec.decide(SLA_TABLES, {"case_type": code, "severity": severity, "step": step})


def rules(path: str) -> list[tuple[list[str], list[str]]]:
    """Each row of an SLA table as (input entries, output entries)."""
    root = etree.parse(str(BPMN_ROOT / path)).getroot()
    return [([e.findtext("dmn:text", "", DMN) for e in rule.iterfind("dmn:inputEntry", DMN)],
             [e.findtext("dmn:text", "", DMN) for e in rule.iterfind("dmn:outputEntry", DMN)])
            for rule in root.iterfind(".//dmn:rule", DMN)]


def test_each_type_with_limits_of_its_own_keeps_them_next_to_its_diagram():
    assert SLA_FILES == ["dispute/sla.dmn", "illegal_construction/sla.dmn", "public_health/sla.dmn", "shared/sla.dmn"]


def test_a_types_own_row_wins_over_the_shared_rows_for_its_step():
    assert limit("illegal_construction", "high", "handle_case")["policy"] == "拆除整改：20 个工作日"
    assert limit("work_safety", "high", "handle_case")["policy"] == "部门处置（紧急）：8 个工作时"


def test_a_step_a_type_has_no_row_for_takes_the_shared_row():
    assert limit("dispute", "high", "dispatch_case")["policy"] == "派遣（紧急）：1 个工作时"
    assert limit("public_health", "low", "case")["policy"] == "其他事项：15 个工作日内办结"
    assert limit("public_health", "high", "case")["policy"] == "公共卫生（紧急）：3 个工作日"


@pytest.mark.parametrize("path", SLA_FILES)
def test_every_sla_table_is_one_first_hit_decision_on_severity_and_step(path):
    root = etree.parse(str(BPMN_ROOT / path)).getroot()
    [decision] = root.findall("dmn:decision", DMN)
    assert decision.get("id") == ("sla_limit" if path.startswith("shared/") else "type_sla_limit")
    table = decision.find("dmn:decisionTable", DMN)
    assert table.get("hitPolicy") == "FIRST"
    assert [i.findtext("dmn:inputExpression/dmn:text", namespaces=DMN) for i in table.iterfind("dmn:input", DMN)] \
        == ["severity", "step"]
    assert [o.get("name") for o in table.iterfind("dmn:output", DMN)] == ["amount", "unit", "policy"]


@pytest.mark.parametrize("path", SLA_FILES)
def test_no_row_is_hidden_behind_an_earlier_row_that_matches_whatever_it_matches(path):
    table = rules(path)
    for index, (later, _) in enumerate(table):
        for earlier, _ in table[:index]:
            assert not all(entry in ("", mine) for entry, mine in zip(earlier, later, strict=True)), (earlier, later)


@pytest.mark.parametrize("path", [p for p in SLA_FILES if not p.startswith("shared/")])
def test_a_types_row_never_repeats_a_shared_row(path):
    assert not set(map(str, rules(path))) & set(map(str, rules("shared/sla.dmn")))


def test_changing_the_dispute_limits_versions_the_dispute_only(tmp_path):
    root = tmp_path / "bpmn"
    shutil.copytree(BPMN_ROOT, root)
    before = {code: specs.content_hash(t.read_files(root)) for code, t in CATALOGUE.items()}
    table = root / "dispute" / "sla.dmn"
    grid_mediation = 'id="dispute_sla_limit_mediate_at_grid_amount"><text>{}</text>'
    table.write_text(table.read_text(encoding="utf-8").replace(grid_mediation.format(1), grid_mediation.format(2)),
                     encoding="utf-8")
    after = {code: specs.content_hash(t.read_files(root)) for code, t in CATALOGUE.items()}
    assert {code for code in CATALOGUE if before[code] != after[code]} == {"dispute"}
    assert limit("dispute", "low", "mediate_at_grid", root)["amount"] == 2
    assert before == {code: specs.content_hash(t.read_files()) for code, t in CATALOGUE.items()}


@pytest.mark.parametrize("severity", ["low", "medium", "high"])
def test_a_disputes_case_clock_says_what_it_covers_whatever_its_severity(severity):
    """One whole-case limit covers mediation at every level a dispute may reach: its text names no severity."""
    answer = limit("dispute", severity, "case")
    assert (answer["amount"], answer["unit"]) == (20, "working_days")
    assert "复杂纠纷" not in answer["policy"] and "三级调解全程" in answer["policy"]
