"""A case search as a file: CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese) or XLSX (openpyxl's
write-only workbook, row by row). Rows come from the search page by page (keyset, as the API's), so no more
than one page is held at a time; headers and labels are Chinese, times are Shanghai time, counts are numbers."""
import csv
import io
import tempfile
from zoneinfo import ZoneInfo

from flask import Response, stream_with_context
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from engine.read import pages, search
from web import labels
from web.i18n import TIMEZONE

LOCAL = ZoneInfo(TIMEZONE)
KINDS = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BATCH = 500
CHUNK = 64 * 1024
TIME_FORMAT = "yyyy-mm-dd hh:mm"


def columns(catalogue) -> list[tuple[str, object]]:
    """(Chinese header, how a row gives the cell) for each column."""
    with force_locale("zh_CN"):
        types = {code: t.title_zh for code, t in catalogue.items()}
        statuses = {code: str(text) for code, text in labels.STATUSES.items()}
        severities = {code: str(text) for code, text in labels.SEVERITIES.items()}
        levels = {code: str(text) for code, text in labels.LEVELS.items()}
        return [
            (_("Case number"), lambda r: r["number"]), (_("Title"), lambda r: r["title"]),
            (_("Type"), lambda r: types.get(r["type"], r["type"])),
            (_("Status"), lambda r: statuses.get(r["status"], r["status"])),
            (_("Severity"), lambda r: severities.get(r["severity"], r["severity"])),
            (_("Grid code"), lambda r: r["grid_code"]), (_("Grid"), lambda r: r["grid_name"]),
            (_("Reporter"), lambda r: r["reporter_name"]),
            (_("Reported at"), lambda r: _local(r["created_at"])), (_("Closed at"), lambda r: _local(r["closed_at"])),
            (_("Next due"), lambda r: _local(r["next_due_at"])),
            (_("Responsible level"), lambda r: levels.get(r["responsible_level"], r["responsible_level"])),
            (_("Returns"), lambda r: r["returns"]), (_("Reworks"), lambda r: r["reworks"]),
            (_("Extensions"), lambda r: r["extensions"]), (_("Escalations"), lambda r: r["escalations"]),
            (_("Dissatisfied follow-ups"), lambda r: r["dissatisfied"]),
            (_("Latitude"), lambda r: r["lat"]), (_("Longitude"), lambda r: r["lng"]),
        ]


def _local(moment):
    """A time as Shanghai wall-clock time without a zone (Excel has none)."""
    return moment.astimezone(LOCAL).replace(tzinfo=None) if moment else None


def rows(deps, user, query: dict):
    """Every row of the search, a page at a time, with the reporter's name."""
    cursor = None
    while True:
        found = search.find_cases(deps, user, limit=BATCH, cursor=cursor, **query)
        names = pages.display_names(deps, [r["reporter"] for r in found.items])
        for row in found.items:
            yield {**row, "reporter_name": names.get(row["reporter"], row["reporter"])}
        if found.next_cursor is None:
            return
        cursor = found.next_cursor


def csv_chunks(deps, user, query: dict, catalogue):
    """The CSV, a few hundred rows per chunk, starting with the byte-order mark."""
    cols = columns(catalogue)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _cell in cols])
    yield "\ufeff" + _take(buffer)
    for n, row in enumerate(rows(deps, user, query), 1):
        writer.writerow(["" if v is None else v.strftime("%Y-%m-%d %H:%M") if hasattr(v, "strftime") else v
                         for v in (cell(row) for _header, cell in cols)])
        if n % 200 == 0:
            yield _take(buffer)
    yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def xlsx_chunks(deps, user, query: dict, catalogue):
    """The workbook, written row by row to a temporary file by openpyxl's write-only mode, then sent in chunks."""
    cols = columns(catalogue)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_title())
    sheet.append([header for header, _cell in cols])
    for row in rows(deps, user, query):
        sheet.append([_xlsx_cell(sheet, cell(row)) for _header, cell in cols])
    with tempfile.TemporaryFile() as file:
        book.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk


def _title() -> str:
    with force_locale("zh_CN"):
        return _("Cases")


def _xlsx_cell(sheet, value):
    if hasattr(value, "strftime"):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = TIME_FORMAT
        return cell
    return value


def response(kind: str, deps, user, query: dict) -> Response:
    """The streamed download of the search's rows as `kind` (csv or xlsx)."""
    chunks = (csv_chunks if kind == "csv" else xlsx_chunks)(deps, user, query, deps.catalogue)
    stamp = deps.clock.now().astimezone(LOCAL).strftime("%Y%m%d-%H%M")
    result = Response(stream_with_context(chunks), mimetype=KINDS[kind])
    result.headers["Content-Disposition"] = f'attachment; filename="cases-{stamp}.{kind}"'
    return result
