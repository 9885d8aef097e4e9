"""The handover report as a PDF (reportlab): a ward summary page, then one section per bed.

Per bed: the patient, the period, NEWS2 over the period as a small plot with its bands, vital signs by
hour (min/median/max), alarms by type with acknowledgement times, each alarm, the alarms held back with
their reasoning, technical problems and the nurses' notes. Plots are drawn from the same numbers the
tables print. The page footer says what the document holds and that WardWatch is not a certified
medical device. Written to a temporary file beside `out` and renamed when complete, mode 0600.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from wardwatch.app.alarms.early_warning import Band
from wardwatch.app.review.episodes import AlarmEpisode
from wardwatch.app.review.handover import BedShift
from wardwatch.app.review.news2_history import BAND_ORDER, News2History, hourly_highest
from wardwatch.app.review.vitals import VitalsTable

NOTICE = "WardWatch is not a certified medical device; do not use it for patient care decisions."
CONFIDENTIAL = "Confidential: contains personal health information."
PAGE = landscape(A4)
MARGIN = 12 * mm
HOURS_PER_TABLE = 12  # vitals columns per table; a longer period continues in a further table
MAX_ALARM_ROWS = 200  # per bed; beyond it the report says how many more there were

# The standard PDF fonts hold the Windows-1252 characters only: others are written as their nearest.
_PLAIN = str.maketrans({"₂": "2", "↑": "^", "↓": "v", "≥": ">=", "≤": "<=", "→": "->", "µ": "u"})

_BAND_COLOUR = {
    Band.LOW: colors.HexColor("#2e7d32"),
    Band.LOW_MEDIUM: colors.HexColor("#9e9d24"),
    Band.MEDIUM: colors.HexColor("#ef6c00"),
    Band.HIGH: colors.HexColor("#c62828"),
}
_BAND_TEXT = {Band.LOW: "low", Band.LOW_MEDIUM: "low-medium", Band.MEDIUM: "medium", Band.HIGH: "high"}

_GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e0e0e0")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9e9e9e")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
)


def _table(rows: list[list[object]], widths: Sequence[float]) -> Table:
    table = Table(rows, repeatRows=1, colWidths=list(widths), hAlign="LEFT")
    table.setStyle(_GRID)
    return table


def plain(text: str) -> str:
    """Text the standard fonts can show, with XML specials escaped for a Paragraph."""
    return escape(text.translate(_PLAIN).encode("cp1252", "replace").decode("cp1252"))


def clock(t: float, with_day: bool = False) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%d %b %H:%M" if with_day else "%H:%M")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s < 600 and s % 60 else f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


class _Styles:
    def __init__(self) -> None:
        base = getSampleStyleSheet()
        self.title = ParagraphStyle("title", parent=base["Title"], fontSize=16, spaceAfter=4)
        self.bed = ParagraphStyle("bed", parent=base["Heading2"], fontSize=13, spaceBefore=0, spaceAfter=2)
        self.section = ParagraphStyle(
            "section", parent=base["Heading4"], fontSize=9, spaceBefore=5, spaceAfter=2
        )
        self.body = ParagraphStyle("body", parent=base["BodyText"], fontSize=8, leading=10)
        self.cell = ParagraphStyle("cell", parent=base["BodyText"], fontSize=7.5, leading=9)


def render_handover(shifts: Sequence[BedShift], start: float, end: float, station: str, out: Path) -> None:
    styles = _Styles()
    long_period = end - start > 20 * 3600
    story: list[object] = [
        Paragraph(plain(f"Handover report — {station}"), styles.title),
        Paragraph(
            plain(
                f"Period {clock(start, True)} – {clock(end, True)} ({duration(end - start)}), local time. "
                f"Made {dt.datetime.now().strftime('%d %b %Y %H:%M')}. {CONFIDENTIAL}"
            ),
            styles.body,
        ),
        Spacer(1, 4),
        _summary_table(shifts, styles),
    ]
    for shift in shifts:
        story.append(PageBreak())
        story += _bed_section(shift, styles, long_period)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".handover-", suffix=".pdf", dir=out.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o600)
        doc = SimpleDocTemplate(
            tmp,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + 4 * mm,
            bottomMargin=MARGIN + 2 * mm,
            title=f"Handover report {station}",
            author="WardWatch",
        )
        header = plain(f"WardWatch handover — {station} — {clock(start, True)} to {clock(end, True)}")
        doc.build(story, onFirstPage=_page(header), onLaterPages=_page(header))  # type: ignore[arg-type]
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _page(header: str) -> object:
    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        width, height = PAGE
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.HexColor("#616161"))
        canvas.drawString(MARGIN, height - MARGIN, header)
        canvas.drawRightString(width - MARGIN, height - MARGIN, f"page {doc.page}")
        canvas.drawString(MARGIN, MARGIN - 2 * mm, f"{CONFIDENTIAL} {NOTICE}")
        canvas.restoreState()

    return draw


def _patient_text(shift: BedShift) -> str:
    if not shift.occupants:
        return "no patient admitted in this period"
    parts = []
    for p in shift.occupants:
        born = f", born {p.birth_date.isoformat()}" if p.birth_date else ""
        stay = f"admitted {clock(p.admitted_at, True)}"
        if p.discharged_at is not None:
            stay += f", left {clock(p.discharged_at, True)}"
        parts.append(f"{p.display_name} (MRN {p.mrn}{born}; {stay})")
    return "; then ".join(parts)


def news2_summary(news2: News2History) -> str:
    scored = np.flatnonzero(news2.scored())
    if len(scored) == 0:
        return "NEWS2: no score (nothing recorded that scores)."
    last = scored[-1]
    hi = scored[np.argmax(news2.totals[scored])]
    lo = scored[np.argmin(news2.totals[scored])]
    band_now = news2.band_at(int(last))
    minutes = {b: int(np.sum(news2.bands[scored] == BAND_ORDER.index(b))) for b in (Band.MEDIUM, Band.HIGH)}
    text = (
        f"NEWS2 at the end {news2.at(int(last))} ({_BAND_TEXT[band_now] if band_now else '—'}), "
        f"highest {news2.at(int(hi))} at {clock(float(news2.times[hi]))}, lowest {news2.at(int(lo))}; "
        f"{minutes[Band.MEDIUM]} min in the medium band, {minutes[Band.HIGH]} min in the high band."
    )
    if not bool(np.all(news2.complete[scored])):
        text += " '+': a lower bound, a parameter was not entered or not measured."
    return text


def news2_plot(news2: News2History, start: float, end: float, width: float, height: float) -> Drawing:
    """NEWS2 over the period on bands (0-4 green, 5-6 amber, 7+ red), the line broken where unscored."""
    drawing = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y = 28, 16
    plot.width, plot.height = width - 36, height - 24
    top = max(10.0, float(np.nanmax(news2.totals)) + 1 if np.isfinite(news2.totals).any() else 10.0)
    for lo, hi, colour in ((0, 4.5, "#e8f5e9"), (4.5, 6.5, "#fff3e0"), (6.5, top, "#ffebee")):
        y0 = plot.y + plot.height * lo / top
        y1 = plot.y + plot.height * min(hi, top) / top
        drawing.add(
            Rect(plot.x, y0, plot.width, y1 - y0, fillColor=colors.HexColor(colour), strokeColor=None)
        )
    hours = (news2.times - start) / 3600.0
    segments = _runs(news2.scored())
    data = [list(zip(hours[a:b].tolist(), news2.totals[a:b].tolist(), strict=True)) for a, b in segments]
    if not data:
        data = [[(0.0, 0.0)]]
    plot.data = data
    for i in range(len(data)):
        plot.lines[i].strokeColor = colors.black
        plot.lines[i].strokeWidth = 1.2
        if not segments:
            plot.lines[i].strokeColor = colors.transparent
    span_h = max((end - start) / 3600.0, 1e-3)
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0.0, span_h
    step = _hour_step(span_h)
    first = (np.ceil(start / (step * 3600.0)) * step * 3600.0 - start) / 3600.0  # on whole clock steps
    plot.xValueAxis.valueSteps = [float(h) for h in np.arange(first, span_h + 1e-9, step)]
    plot.xValueAxis.labelTextFormat = lambda h: clock(start + h * 3600.0)
    plot.xValueAxis.labels.fontSize = 6
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = 0.0, top
    plot.yValueAxis.valueSteps = [0.0, 5.0, 7.0, top]
    plot.yValueAxis.labels.fontSize = 6
    drawing.add(plot)
    drawing.add(String(plot.x + plot.width - 2, height - 6, "NEWS2", fontSize=7, textAnchor="end"))
    return drawing


def _hour_step(span_h: float) -> float:
    for step in (0.25, 0.5, 1.0, 2.0, 3.0, 6.0, 12.0, 24.0):
        if span_h / step <= 12:
            return step
    return 24.0


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the runs of True."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _summary_table(shifts: Sequence[BedShift], styles: _Styles) -> Table:
    rows: list[list[object]] = [
        ["Bed", "Patient", "NEWS2 end (max)", "Alarms", "Held back", "Median ack", "Technical", "Notes"]
    ]
    for s in shifts:
        scored = np.flatnonzero(s.news2.scored())
        news = "—"
        if len(scored):
            peak = int(scored[np.argmax(s.news2.totals[scored])])
            news = f"{s.news2.at(int(scored[-1]))} ({s.news2.at(peak)})"
        acks = [a.ack_after_s for a in s.alarms if a.ack_after_s is not None]
        patient = s.occupants[-1].display_name if s.occupants else "—"
        rows.append(
            [
                plain(s.label),
                Paragraph(plain(patient), styles.cell),
                news,
                str(sum(1 for a in s.alarms if a.audible)),
                str(len(s.held_back)),
                duration(float(np.median(acks))) if acks else "—",
                str(len(s.technical)),
                str(len(s.notes)),
            ]
        )
    return _table(rows, [50, 200, 80, 50, 55, 60, 55, 40])


def _bed_section(shift: BedShift, styles: _Styles, long_period: bool) -> list[object]:
    width = PAGE[0] - 2 * MARGIN
    head = [
        Paragraph(plain(f"{shift.label} — {_patient_text(shift)}"), styles.bed),
        Paragraph(
            plain(f"{shift.bed} · period {clock(shift.start, True)} – {clock(shift.end, True)}"), styles.body
        ),
    ]
    plot = news2_plot(shift.news2, shift.start, shift.end, width * 0.55, 34 * mm)
    news_row = Table(
        [[plot, Paragraph(plain(news2_summary(shift.news2)), styles.body)]],
        colWidths=[width * 0.56, width * 0.44],
    )
    news_row.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    out: list[object] = [KeepTogether([*head, news_row])]
    out += _vitals(shift.vitals(), shift, styles, width)
    out += _alarms(shift, styles, long_period)
    out += _technical(shift, styles, long_period)
    out += _notes(shift, styles, long_period)
    return out


def _vitals(table: VitalsTable, shift: BedShift, styles: _Styles, width: float) -> list[object]:
    out: list[object] = [Paragraph("Vital signs by hour (min/median/max)", styles.section)]
    if not table.rows:
        return [*out, Paragraph("Nothing recorded.", styles.body)]
    n = len(table.hour_starts)
    news2 = hourly_highest(shift.news2, table.hour_starts, shift.end)
    for first in range(0, n, HOURS_PER_TABLE):
        cols = range(first, min(n, first + HOURS_PER_TABLE))
        rows: list[list[str]] = [["", *[clock(table.hour_starts[h]) for h in cols]]]
        for r in table.rows:
            label = f"{r.label} {r.unit}".strip()
            cells = [r.hours[h].text(r.decimals) if r.hours[h] is not None else "—" for h in cols]
            rows.append([plain(label), *cells])
        rows.append(["NEWS2 highest", *[news2[h] for h in cols]])
        label_w = 78.0
        out += [_table(rows, [label_w] + [(width - label_w) / HOURS_PER_TABLE] * len(cols)), Spacer(1, 3)]
    return out


def _alarms(shift: BedShift, styles: _Styles, long_period: bool) -> list[object]:
    out: list[object] = [Paragraph("Alarms by type", styles.section)]
    if not shift.alarms:
        return [*out, Paragraph("No alarms in this period.", styles.body)]
    groups: dict[tuple[str, str], list[AlarmEpisode]] = {}
    for a in shift.alarms:
        groups.setdefault((a.type_text, a.priority), []).append(a)
    rows: list[list[str]] = [
        ["Alarm", "Priority", "Count", "Sounded", "Held back", "Acknowledged", "Median ack", "Longest ack"]
    ]
    for (text, priority), group in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        acks = [a.ack_after_s for a in group if a.ack_after_s is not None]
        rows.append(
            [
                plain(text),
                priority,
                str(len(group)),
                str(sum(1 for a in group if a.audible)),
                str(sum(1 for a in group if a.held_back)),
                str(len(acks)),
                duration(float(np.median(acks))) if acks else "—",
                duration(max(acks)) if acks else "—",
            ]
        )
    out += [_table(rows, [150, 50, 40, 50, 50, 65, 60, 60]), Paragraph("Each alarm", styles.section)]
    rows = [["Raised", "Alarm", "Priority", "Acknowledged by", "after", "Lasted", "Escalated", "State"]]
    for a in shift.alarms[:MAX_ALARM_ROWS]:
        state = "held back" if a.held_back and a.released_at is None else "sounded"
        if a.released_at is not None:
            state = f"held back, released {clock(a.released_at)}"
        rows.append(
            [
                clock(a.raised_at, long_period),
                Paragraph(plain(a.message), styles.cell),
                a.priority,
                plain(a.acknowledged_by or "—"),
                duration(a.ack_after_s),
                duration(a.duration_s),
                clock(a.escalated_at) if a.escalated_at is not None else "—",
                state,
            ]
        )
    out.append(_table(rows, [55, 190, 45, 90, 50, 60, 50, 150]))
    if len(shift.alarms) > MAX_ALARM_ROWS:
        out.append(Paragraph(f"… and {len(shift.alarms) - MAX_ALARM_ROWS} more alarms.", styles.body))
    held = shift.held_back
    out.append(Paragraph("Held-back alarms (found false by the verification)", styles.section))
    if not held:
        out.append(Paragraph("None.", styles.body))
        return out
    rows2: list[list[object]] = [["Time", "Alarm", "Reason", "Released"]]
    for a in held:
        rows2.append(
            [
                clock(a.raised_at, long_period),
                plain(a.type_text),
                Paragraph(plain(a.reason or "—"), styles.cell),
                clock(a.released_at) if a.released_at is not None else "no",
            ]
        )
    out.append(_table(rows2, [55, 130, 450, 60]))
    return out


def _technical(shift: BedShift, styles: _Styles, long_period: bool) -> list[object]:
    out: list[object] = [
        Paragraph("Technical problems (signal loss, sensors, battery, link)", styles.section)
    ]
    if not shift.technical:
        return [*out, Paragraph("None.", styles.body)]
    rows: list[list[object]] = [["Began", "Problem", "Lasted", "Detail"]]
    for e in shift.technical:
        rows.append(
            [
                clock(e.start, long_period),
                plain(e.text),
                duration(e.duration_s) if e.end is not None else "until the end",
                Paragraph(plain(e.detail or ""), styles.cell),
            ]
        )
    return [KeepTogether([*out, _table(rows, [55, 130, 70, 440])])]


def _notes(shift: BedShift, styles: _Styles, long_period: bool) -> list[object]:
    out: list[object] = [Paragraph("Nurses' notes", styles.section)]
    if not shift.notes:
        return [*out, Paragraph("No notes in this period.", styles.body)]
    rows: list[list[object]] = [["Time", "By", "Note"]]
    for n in shift.notes:
        rows.append([clock(n.time, long_period), plain(n.author), Paragraph(plain(n.text), styles.cell)])
    return [KeepTogether([*out, _table(rows, [55, 90, 550])])]
