"""The indicator tables as CSV and XLSX (Chinese headers; numbers stay numbers): shared by the API and the page."""
import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from engine.indicators import definitions as d

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def headers(ranked: bool = False) -> list[str]:
    rates = [f"{i.zh}(%)" if i.kind == "rate" else (f"{i.zh}(工时)" if i.kind == "hours" else i.zh)
             for i in d.INDICATORS]
    return [*(["排名"] if ranked else []), "名称", "代码", *rates, "综合得分", "等级",
            *[d.COUNTER_NAMES[c] for c in d.COUNTERS if c not in d.NOW_COUNTERS]]


def line(row: dict, ranked: bool = False) -> list:
    values = []
    for i in d.INDICATORS:
        value = row["values"][i.code]
        values.append(None if value is None else round(value * 100, 2) if i.kind == "rate" else value)
    counts = [row["counts"][c] for c in d.COUNTERS if c not in d.NOW_COUNTERS]
    return [*([row.get("rank")] if ranked else []), row.get("label", ""), str(row.get("code", "") or ""),
            *values, row["score"], row["grade"] or "", *counts]


def table(rows: list[dict], total: dict | None, ranked: bool = False) -> list[list]:
    out = [headers(ranked), *(line(r, ranked) for r in rows)]
    if total is not None:
        out.append(line({**total, "label": "合计", "code": "", "rank": None}, ranked))
    return out


def to_csv(cells: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in cells:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def to_xlsx(cells: list[list], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31] or "指标"
    for row in cells:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def filename(span, grid_code: str, extension: str) -> str:
    return f"indicators-{grid_code}-{span.start.isoformat()}-{span.end.isoformat()}.{extension}"
