"""The dossier and a supervision order (督办单) as PDF, drawn with reportlab.

Chinese is set in STSong-Light, one of the standard CJK fonts every PDF viewer supplies (Adobe's Asian font
packs, pdf.js, poppler's fallbacks): nothing is embedded, so the file stays small and prints on a machine with
no CJK font installed. Its text is encoded with the predefined CMap UniGB-UCS2-H, which maps codes to Unicode
by definition, so text extraction (pypdf, copy and paste) reads it back without a ToUnicode table. A QR code
and the link lead back to the case."""
from io import BytesIO
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from web import labels
from web.i18n import when

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14, wordWrap="CJK")
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8.5, leading=11, textColor=colors.HexColor("#4a5563"))
TITLE = ParagraphStyle("title", parent=BODY, fontSize=16, leading=22, spaceAfter=4)
LINE = ParagraphStyle("line", parent=BODY, spaceAfter=3)
HEADING = ParagraphStyle("heading", parent=BODY, fontSize=12, leading=17, spaceBefore=8, spaceAfter=3)
GRID = TableStyle([("FONT", (0, 0), (-1, -1), FONT, 10), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                   ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c9d1db")),
                   ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f5f8"))])


def dossier(found: dict, catalogue) -> bytes:
    """The dossier: the case's facts, its clocks, its supervision orders and its whole timeline."""
    case, extra = found["case"], found["extra"]
    story = [_header(found, catalogue, _("Case dossier")), _p(_("Clocks"), HEADING)]
    story += [_p(f"{c['title']}：{c['policy']} · {c['level_label']} · {_('due %(when)s', when=c['due'])} · "
                 f"{c['remaining']}") for c in found["clocks"]] or [_p(_("No clocks."))]
    if extra["orders"]:
        story.append(_p(_("Supervision orders"), HEADING))
        story += [_p(f"{when(o['issued_at'])} · {o['grid_name']} · {labels.label('order', o['status'])} · "
                     f"{o['reason']}") for o in extra["orders"]]
    story += [_p(_("Timeline"), HEADING), _p(found["chain"]["text"], SMALL)]
    story += [_p(line, LINE) for line in timeline_lines(found["events"])]
    return _build(story, f"{case['number']} {case['title']}")


def order(found: dict, order: dict, catalogue) -> bytes:
    """A supervision order sheet (督办单): the order, the case it is about and the case's latest events."""
    rows = [(_("Issued"), when(order["issued_at"])), (_("To"), order["grid_name"]),
            (_("Reason and instructions"), order["reason"]), (_("Answer by"), when(order["due_at"])),
            (_("Status"), labels.label("order", order["status"]))]
    if order["answer"]:
        rows.append((_("Answer"), f"{order['answer']}（{when(order['answered_at'])}）"))
    story = [_header(found, catalogue, _("Supervision order sheet")), _p(_("The order"), HEADING), _table(rows),
             _p(_("Latest events"), HEADING)]
    story += [_p(line, LINE) for line in timeline_lines(found["events"][-8:])]
    story += [Spacer(1, 12 * mm), _p(_("Signature of the receiving unit: ____________  Date: ____________"))]
    return _build(story, f"{found['case']['number']} {_('Supervision order sheet')}")


def timeline_lines(events: list[dict]) -> list[str]:
    """Each event on one line: time, who (and their department), what, and its details."""
    lines = []
    for e in events:
        who = f"{e['who']}（{e['department']}）" if e.get("department") else e["who"]
        details = "；".join(f"{title}：{text}" for title, text in e["details"])
        lines.append(f"{when(e['at'])} {who} {e['what']}" + (f" — {details}" if details else ""))
    return lines


def _header(found: dict, catalogue, title: str) -> Table:
    case, extra = found["case"], found["extra"]
    facts = [(_("Case number"), case["number"]), (_("Type"), labels.case_type(catalogue, case["type"])),
             (_("Title"), case["title"]), (_("Place"), " › ".join(g["name"] for g in extra["grid_path"])),
             (_("Status"), labels.label("status", case["status"])),
             (_("Severity"), labels.label("severity", case["severity"])),
             (_("Reported by"), f"{found['names'].get(case['reporter'], case['reporter'])}，"
                                f"{when(case['created_at'])}"),
             (_("Responsible level"), f"{labels.label('level', case['responsible_level'])} · "
                                      f"{extra['responsible_grid']['name']}")]
    heading = [_p(f"{title}：{case['number']}", TITLE), _table(facts), Spacer(1, 2 * mm),
               _p(_("Online: %(link)s", link=found["link"]), SMALL)]
    return Table([[heading, _qr(found["link"])]], colWidths=[140 * mm, 36 * mm],
                 style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))


def _table(rows) -> Table:
    return Table([[_p(k), _p(v)] for k, v in rows], colWidths=[28 * mm, 110 * mm], style=GRID, hAlign="LEFT")


def _qr(link: str) -> Drawing:
    widget = QrCodeWidget(link)
    left, bottom, right, top = widget.getBounds()
    size = 32 * mm
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    return drawing


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _build(story: list, title: str) -> bytes:
    out = BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, title=title, author="Gridflow", leftMargin=16 * mm,
                                 rightMargin=16 * mm, topMargin=14 * mm, bottomMargin=14 * mm)
    document.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return out.getvalue()


def _footer(canvas, document) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.drawRightString(A4[0] - 16 * mm, 8 * mm, f"{document.title} · {canvas.getPageNumber()}")
    canvas.restoreState()
