"""A bed sector of the central display: header, sweeping waves on the left, numerics on the right.

Painted by hand (no child widgets): waves come from a backing QImage that `SweepTrace`s update
incrementally; header and numerics are repainted only when what they show changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget
from wardwatch.app.alarms.display import TileAlarm, flash_on
from wardwatch.app.alarms.model import Priority
from wardwatch.app.codes import MdcCode, info, is_ecg
from wardwatch.app.domain import Bed, LinkState, TechnicalKind
from wardwatch.app.hub import StreamHub, WaveChannel
from wardwatch.app.presentation import BedSummary, Freshness, NumericView, summarise
from wardwatch.ui.sweep import BLACK, ScaleMode, SweepTrace, TraceScale, ecg_scale
from wardwatch.ui.theme import theme

ECG_SWEEP_S = 6.0
# A device that delivers its wave in bursts longer than this (a Polar H10: ~0.56 s, IntelliVue: 0.25 s)
# is played out one burst (plus a margin for thread jitter) behind its newest sample, so that its sweep
# moves every frame instead of jumping once per burst. Shorter blocks (the simulator's 40 ms) are drawn
# on arrival: playing them out too would cost ~25 % more drawing at 64 beds (measured) for steps of 1 mm.
PLAYOUT_MIN_BURST_S = 0.1
PLAYOUT_MARGIN_S = 0.015
RESP_SWEEP_S = 12.0
LABEL_SIZE = QSize(90, 16)  # at most: a label's box is as wide as its text

LINK_COLOURS = {
    LinkState.CONNECTED: "link_ok",
    LinkState.STARTING: "link_warn",
    LinkState.DISCONNECTED: "link_down",
    LinkState.FAILED: "link_down",
    LinkState.STOPPED: "link_warn",
}
LINK_SYMBOL = {  # shape as well as colour, so the link state reads without colour
    LinkState.CONNECTED: "●",
    LinkState.STARTING: "◌",
    LinkState.DISCONNECTED: "✕",
    LinkState.FAILED: "✕",
    LinkState.STOPPED: "■",
}


def trace_scale(code: MdcCode) -> TraceScale:
    if is_ecg(code):
        return ecg_scale()
    if code is MdcCode.PRESS_BLD_ART_ABP:
        return TraceScale(ScaleMode.FIXED, 20.0, 180.0)
    return TraceScale(ScaleMode.AUTO, 0.0, 1.0)


def sweep_seconds(code: MdcCode) -> float:
    return RESP_SWEEP_S if code is MdcCode.RESP else ECG_SWEEP_S


@dataclass(frozen=True, slots=True)
class OverlayStamp:
    """A trace's label (and the ECG's calibration pulse) kept in the tile's backing image, with the
    columns they cover as plain ints (image coordinates) for the per-frame check."""

    trace: SweepTrace
    label: QImage
    label_at: QPoint
    label_x: tuple[int, int]  # first and last column
    cal: QRect | None
    cal_x: tuple[int, int]


@dataclass(slots=True)
class TileLayout:
    header: QRect
    waves: QRect
    numerics: QRect


def tile_layout(size: QSize) -> TileLayout:
    w, h = size.width(), size.height()
    header_h = max(16, min(28, int(h * 0.15)))
    body_h = max(1, h - header_h)
    wave_w = max(1, int(w * 0.68))
    return TileLayout(
        header=QRect(0, 0, w, header_h),
        waves=QRect(0, header_h, wave_w, body_h),
        numerics=QRect(wave_w, header_h, max(1, w - wave_w), body_h),
    )


class BedTile(QWidget):
    activated = Signal(str)  # double-click: open the bed view
    menuRequested = Signal(str, QPoint)

    def __init__(self, bed: Bed, hub: StreamHub, parent: QWidget | None = None, phase_s: float = 0.0) -> None:
        super().__init__(parent)
        self.bed = bed
        self.phase_s = phase_s
        self.hub = hub
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 100)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._theme = theme()
        self._layout = tile_layout(self.size())
        self._image = QImage(
            max(1, self._layout.waves.width()),
            max(1, self._layout.waves.height()),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        self._image.fill(QColor(0, 0, 0))
        self._traces: dict[MdcCode, SweepTrace] = {}
        self._overlay: list[OverlayStamp] = []
        # the bounding box of what changed this frame, as plain ints (QRect.united per strip costs more)
        self._dirty: tuple[int, int, int, int] | None = None
        self._label_images: dict[tuple[str, int, int], QImage] = {}
        self._wave_codes: tuple[MdcCode, ...] = ()
        self._generation = -1
        self.mask_names = False
        self.summary: BedSummary = summarise(bed, None, 0.0)
        self._fonts_stale = True
        self._font_small = QFont()
        self._font_header = QFont()
        self._font_big = QFont()
        self._font_mid = QFont()
        self.frames_drawn = 0
        self.latencies: list[float] = []  # sample age at hand-over, filled only when measuring
        self.measure_latency = False
        self.alarm: TileAlarm | None = None
        self.limits: dict[MdcCode, str] = {}
        self.news2: tuple[str, str] = ("", "")  # text ("NEWS2 5+ ↑") and band
        self._alarm_lit = True
        self._paused_text = ""
        self.setAccessibleName(bed.label)

    # -- data -> image -----------------------------------------------------------------------------
    def set_bed(self, bed: Bed) -> None:
        self.bed = bed
        self.setAccessibleName(bed.label)
        self.refresh_summary(0.0, force=True)

    def _band_rects(self, codes: tuple[MdcCode, ...]) -> list[QRect]:
        if not codes:
            return []
        weights = [1.7 if is_ecg(c) else 1.0 for c in codes]
        total = sum(weights)
        h = self._image.height()
        rects, y = [], 0
        for i, wt in enumerate(weights):
            bh = h - y if i == len(weights) - 1 else int(h * wt / total)
            rects.append(QRect(0, y + 1, self._image.width(), max(1, bh - 2)))
            y += bh
        return rects

    def _rebuild_traces(self, channels: dict[MdcCode, WaveChannel]) -> None:
        self._image.fill(QColor(0, 0, 0))
        self._traces = {}
        for code, band in zip(self._wave_codes, self._band_rects(self._wave_codes), strict=True):
            colour = self._theme.parameter(info(code).colour)
            width = 1.6 if is_ecg(code) and band.height() > 60 else 1.0
            trace = SweepTrace(band, sweep_seconds(code), colour, trace_scale(code), width, self.phase_s)
            ch = channels.get(code)
            trace.reset(band, ch.ring if ch else None, ch.rate if ch else 1.0)
            self._traces[code] = trace
        self._overlay = self._overlay_items()
        self._stamp_overlay(None)
        self._mark_dirty(self._layout.waves)

    def _mark_dirty(self, rect: QRect) -> None:
        self._mark_box(rect.left(), rect.top(), rect.left() + rect.width(), rect.top() + rect.height())

    def _mark_box(self, x0: int, y0: int, x1: int, y1: int) -> None:
        d = self._dirty
        self._dirty = (
            (x0, y0, x1, y1) if d is None else (min(d[0], x0), min(d[1], y0), max(d[2], x1), max(d[3], y1))
        )

    def flush(self) -> None:
        """Ask Qt to repaint what changed this frame, as one rectangle.

        One rectangle, not a region: Qt's raster engine clips a multi-rectangle region on a slow path
        (~40 µs per image blit instead of ~4 µs), which at 64 beds costs more than the wider blit.
        """
        if self._dirty is not None:
            x0, y0, x1, y1 = self._dirty
            self.update(x0, y0, x1 - x0, y1 - y0)
            self._dirty = None

    def advance(self, now: float) -> bool:
        """Draw what arrived since the last frame; True if anything was drawn."""
        streams = self.hub.streams(self.bed.bed_id)
        if streams is None:
            return False
        channels = streams.waves
        if streams.generation != self._generation:
            self._generation = streams.generation
            self._wave_codes = ()
        codes = tuple(c for c in self.summary.waves if c in channels) or self._wave_codes
        if codes != self._wave_codes:
            self._wave_codes = codes
            self._rebuild_traces(channels)
        pending = [
            (trace, ch)
            for code, trace in self._traces.items()
            if (ch := channels.get(code)) is not None and ch.ring.count != trace.cursor
        ]
        if not pending:
            return False
        painter = QPainter(self._image)
        wr = self._layout.waves
        lo_hi: dict[int, int] = {}
        for trace, ch in pending:
            burst = ch.block_span_s
            until = now - (burst + PLAYOUT_MARGIN_S) if burst > PLAYOUT_MIN_BURST_S else math.inf
            for x, width in trace.advance(painter, ch.ring, ch.rate, until):
                lo_hi[x] = max(lo_hi.get(x, 0), width)  # traces with the same sweep share their strips
            if self.measure_latency and trace.newest_time is not None:
                self.latencies.append(now - trace.newest_time)
        self._stamp_overlay(lo_hi, painter)
        painter.end()
        top, bottom = wr.top(), wr.top() + wr.height()
        for x, width in lo_hi.items():
            self._mark_box(wr.left() + x, top, wr.left() + x + width, bottom)
        self.frames_drawn += 1
        return True

    def refresh_summary(self, now: float, force: bool = False) -> None:
        summary = summarise(self.bed, self.hub.streams(self.bed.bed_id), now, self.mask_names)
        if not force and summary == self.summary:
            return
        old = self.summary
        self.summary = summary
        lay = self._layout
        if force or (old.label, old.patient_text, old.message, old.link_text, old.link_state) != (
            summary.label,
            summary.patient_text,
            summary.message,
            summary.link_text,
            summary.link_state,
        ):
            self._mark_dirty(lay.header)
        if force or old.numerics != summary.numerics or old.occupied != summary.occupied:
            self._mark_dirty(lay.numerics)
        if (
            force
            or old.message != summary.message
            or old.waves != summary.waves
            or old.occupied != summary.occupied
        ):
            self._mark_dirty(lay.waves)

    def set_news2(self, text: str, band: str) -> None:
        if (text, band) != self.news2:
            self.news2 = (text, band)
            self._mark_dirty(self._layout.header)

    def set_limits(self, limits: dict[MdcCode, str]) -> None:
        if limits != self.limits:
            self.limits = limits
            self._mark_dirty(self._layout.numerics)

    def set_alarm(self, alarm: TileAlarm | None, now: float, paused_text: str = "") -> None:
        """The bed's most urgent alarm from the engine's snapshot; repaints the header only when the
        alarm, its flash phase or the audio-paused countdown changes."""
        lit = True
        if alarm is not None and alarm.priority is not None:
            lit = flash_on(alarm.priority, now, alarm.steady)
        paused_text = paused_text if alarm is not None else ""
        if (alarm, lit, paused_text) != (self.alarm, self._alarm_lit, self._paused_text):
            self.alarm, self._alarm_lit, self._paused_text = alarm, lit, paused_text
            self._mark_dirty(self._layout.header)

    # -- Qt events ---------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        self._layout = tile_layout(event.size())
        wr = self._layout.waves
        self._image = QImage(
            max(1, wr.width()), max(1, wr.height()), QImage.Format.Format_ARGB32_Premultiplied
        )
        self._image.fill(QColor(0, 0, 0))
        streams = self.hub.streams(self.bed.bed_id)
        self._fonts_stale = True
        self._rebuild_traces(streams.waves if streams else {})
        super().resizeEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.activated.emit(self.bed.bed_id)
        event.accept()

    def keyPressEvent(self, event: object) -> None:
        key = getattr(event, "key", lambda: None)()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated.emit(self.bed.bed_id)
        else:
            super().keyPressEvent(event)  # type: ignore[arg-type]

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.menuRequested.emit(self.bed.bed_id, event.globalPos())

    def _ensure_fonts(self) -> None:
        if not self._fonts_stale:
            return
        self._fonts_stale = False
        self._label_images.clear()
        lay = self._layout
        header_px = max(10, int(lay.header.height() * 0.62))
        self._font_header = QFont(self.font())
        self._font_header.setPixelSize(header_px)
        self._font_header.setBold(True)
        self._font_small = QFont(self.font())
        self._font_small.setPixelSize(max(9, int(header_px * 0.8)))
        rows = 3.2
        big = int(min(lay.numerics.height() / rows * 0.78, lay.numerics.width() * 0.34))
        self._font_big = QFont(self.font())
        self._font_big.setPixelSize(max(12, big))
        self._font_big.setBold(True)
        self._font_mid = QFont(self.font())
        self._font_mid.setPixelSize(max(10, int(big * 0.55)))
        self._font_mid.setBold(True)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ensure_fonts()
        p = QPainter(self)
        lay = self._layout
        bounds = event.rect()
        if bounds.intersects(lay.waves):
            ox, oy = lay.waves.left(), lay.waves.top()
            for r in event.region():
                part = r.intersected(lay.waves)
                if not part.isEmpty():
                    p.drawImage(part.topLeft(), self._image, part.translated(-ox, -oy))
            self._paint_wave_overlay(p, bounds)
        if bounds.intersects(lay.header):
            self._paint_header(p)
        if bounds.intersects(lay.numerics):
            self._paint_numerics(p)
        p.end()

    # -- painting helpers --------------------------------------------------------------------------
    def _paint_header(self, p: QPainter) -> None:
        t = self._theme
        s = self.summary
        r = self._layout.header
        p.fillRect(r, t.colour("background", "header"))
        p.setPen(t.colour("background", "border"))
        p.drawLine(r.bottomLeft(), r.bottomRight())
        p.setFont(self._font_header)
        fm = QFontMetrics(self._font_header)
        x = r.left() + 6
        p.setPen(t.colour("text", "normal"))
        p.drawText(QRect(x, r.top(), r.width(), r.height()), Qt.AlignmentFlag.AlignVCenter, s.label)
        x += fm.horizontalAdvance(s.label) + 10
        # link badge, right-aligned: symbol + text so it reads without colour
        p.setFont(self._font_small)
        fms = QFontMetrics(self._font_small)
        badge = f"{LINK_SYMBOL.get(s.link_state, '○') if s.link_state else '○'} {s.link_text}"
        bw = fms.horizontalAdvance(badge) + 8
        badge_rect = QRect(r.right() - bw - 4, r.top(), bw, r.height())
        colour_key = LINK_COLOURS.get(s.link_state) if s.link_state else None
        p.setPen(t.colour("state", colour_key) if colour_key else t.colour("text", "dim"))
        p.drawText(badge_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, badge)
        right_limit = badge_rect.left() - 6
        # message area: the bed's most urgent alarm, else its technical state
        msg_w = 0
        text, bg, fg = self._message_style()
        if text:
            msg_w = min(fms.horizontalAdvance(text) + 12, max(0, right_limit - x - 40))
            if msg_w > 20:
                box = QRect(right_limit - msg_w, r.top() + 2, msg_w, r.height() - 4)
                p.fillRect(box, bg)
                p.setPen(fg)
                p.drawText(
                    box.adjusted(6, 0, -4, 0),
                    Qt.AlignmentFlag.AlignVCenter,
                    fms.elidedText(text, Qt.TextElideMode.ElideRight, box.width() - 10),
                )
        news_text, band = self.news2
        news_w = 0
        if news_text:
            news_w = fms.horizontalAdvance(news_text) + 10
            box = QRect(right_limit - msg_w - news_w - 6, r.top() + 3, news_w, r.height() - 6)
            if box.left() > x + 40:
                colours = {
                    "high": ("high_bg", "high_fg"),
                    "medium": ("medium_bg", "medium_fg"),
                    "low_medium": ("low_bg", "low_fg"),
                }.get(band)
                if colours:
                    p.fillRect(box, t.colour("alarm", colours[0]))
                    p.setPen(t.colour("alarm", colours[1]))
                else:
                    p.setPen(t.colour("text", "dim"))
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, news_text)
                news_w += 6
            else:
                news_w = 0
        name_rect = QRect(x, r.top(), max(0, right_limit - msg_w - news_w - x - 6), r.height())
        p.setPen(t.colour("text", "normal" if self.bed.patient else "dim"))
        p.drawText(
            name_rect,
            Qt.AlignmentFlag.AlignVCenter,
            fms.elidedText(s.patient_text, Qt.TextElideMode.ElideRight, name_rect.width()),
        )

    def _message_style(self) -> tuple[str, QColor, QColor]:
        t = self._theme
        a = self.alarm
        if a is not None:
            text = f"{a.text} · {self._paused_text}" if self._paused_text else a.text
            if a.held_back:
                return text, t.colour("alarm", "held_bg"), t.colour("alarm", "held_fg")
            if a.technical and a.priority is not Priority.HIGH:
                return text, t.colour("state", "technical_bg"), t.colour("state", "technical_fg")
            key = a.priority.word if a.priority is not None else "low"
            if self._alarm_lit and not a.steady:
                return text, t.colour("alarm", f"{key}_bg"), t.colour("alarm", f"{key}_fg")
            return text, t.colour("alarm", "off_bg"), t.colour("alarm", f"{key}_bg")
        s = self.summary
        if not s.message:
            return "", QColor(), QColor()
        failed = s.message_kind in (TechnicalKind.SOURCE_FAILED,)
        return (
            f"! {s.message}",  # technical marker, distinct from the *** of physiological alarms
            t.colour("state", "failed_bg" if failed else "technical_bg"),
            t.colour("state", "failed_fg" if failed else "technical_fg"),
        )

    def _overlay_items(self) -> list[OverlayStamp]:
        """Per trace: its label (and the ECG's calibration pulse), placed in image coordinates."""
        self._ensure_fonts()
        items = []
        streams = self.hub.streams(self.bed.bed_id)
        for code, trace in self._traces.items():
            band = trace.band
            label = info(code).label
            cal = None
            if is_ecg(code):
                wave = streams.waves.get(code) if streams else None
                lead = wave.label if wave is not None and wave.label else label
                label = f"{lead}  x{trace.scale.gain:g}"
                cal = QRect(band.right() - 16, band.top(), 16, band.height())
            colour = self._theme.parameter(info(code).colour)
            image = self._label_image(label, colour, LABEL_SIZE)
            x = band.left() + 4
            items.append(
                OverlayStamp(
                    trace,
                    image,
                    QPoint(x, band.top()),
                    (x, x + image.width() - 1),
                    cal,
                    (cal.left(), cal.right()) if cal is not None else (1, 0),
                )
            )
        return items

    def _paint_wave_overlay(self, p: QPainter, bounds: QRect) -> None:
        """Technical messages and the empty-bed text over the waves, only where repainted (labels and
        calibration pulses live in the backing image, see _stamp_overlay)."""
        t = self._theme
        s = self.summary
        lay = self._layout
        if not s.occupied:
            p.setFont(self._font_small)
            p.setPen(t.colour("text", "empty_bed"))
            p.drawText(lay.waves, Qt.AlignmentFlag.AlignCenter, "No patient — standby")
            return
        if s.message and s.message_kind is not TechnicalKind.LOW_BATTERY:
            target = lay.waves
            origin = lay.waves.topLeft()
            if s.message_kind is TechnicalKind.LEAD_OFF:
                ecg = [tr for c, tr in self._traces.items() if is_ecg(c)]
                target = ecg[0].band.translated(origin) if ecg else target
            elif s.message_kind is TechnicalKind.SENSOR_OFF:
                tr = self._traces.get(MdcCode.PULS_OXIM_PLETH)
                target = tr.band.translated(origin) if tr else target
            if target.intersects(bounds):
                p.setPen(t.colour("state", "technical_fg"))
                p.setFont(self._font_header)
                p.drawText(target, Qt.AlignmentFlag.AlignCenter, s.message)
        if not self._traces and not s.message:
            p.setFont(self._font_small)
            p.setPen(t.colour("text", "dim"))
            p.drawText(lay.waves, Qt.AlignmentFlag.AlignCenter, "No signal")

    def _stamp_overlay(self, strips: dict[int, int] | None, painter: QPainter | None = None) -> None:
        """Put trace labels and calibration pulses into the backing image where the sweep has just
        passed under them (all of them when `strips` is None). Kept in the image, they cost nothing
        in the frames that only blit it; the check runs on plain ints, so most frames make no Qt call
        here at all."""
        if not self._overlay:
            return
        due = []
        for stamp in self._overlay:
            label_due = strips is None or _overlaps(strips, *stamp.label_x)
            cal_due = stamp.cal is not None and (strips is None or _overlaps(strips, *stamp.cal_x))
            if label_due or cal_due:
                due.append((stamp, label_due, cal_due))
        if not due:
            return
        own = painter is None
        p = QPainter(self._image) if own else painter
        for stamp, label_due, cal_due in due:
            if label_due:
                p.drawImage(stamp.label_at, stamp.label)
            if cal_due and stamp.cal is not None:
                self._paint_calibration(p, stamp.trace, stamp.cal)
        if own:
            p.end()

    def _label_image(self, label: str, colour: QColor, size: QSize) -> QImage:
        """A trace label rendered once, on an opaque black box just wide enough for the text: stamped
        again and again into the backing image it stays the same (a transparent one would thicken)."""
        key = (label, colour.rgba(), self._font_small.pixelSize())
        image = self._label_images.get(key)
        if image is None or image.height() != size.height():
            width = min(size.width(), QFontMetrics(self._font_small).horizontalAdvance(label) + 4)
            image = QImage(max(1, width), size.height(), QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(BLACK)
            painter = QPainter(image)
            painter.setFont(self._font_small)
            painter.setPen(colour)
            painter.drawText(QRect(0, 0, width, size.height()), Qt.AlignmentFlag.AlignLeft, label)
            painter.end()
            if len(self._label_images) > 32:  # labels change with gain and lead; keep the cache small
                self._label_images.clear()
            self._label_images[key] = image
        return image

    def _paint_calibration(self, p: QPainter, trace: SweepTrace, cal: QRect) -> None:
        """The 1 mV calibration pulse at the right edge of the ECG band, at the trace's scale."""
        sc = trace.scale
        px_per_mv = (cal.height() - 1) / (sc.hi - sc.lo)
        # ecg_scale() puts the tracked baseline at 36 % of the band height from the bottom.
        base_y = cal.bottom() - 0.36 * (cal.height() - 1)
        top_y = max(cal.top() + 1.0, base_y - px_per_mv)
        x0 = cal.left() + 2
        p.setPen(self._theme.colour("text", "dim"))
        p.drawPolyline(
            [
                QPointF(x0, base_y),
                QPointF(x0 + 3, base_y),
                QPointF(x0 + 3, top_y),
                QPointF(x0 + 8, top_y),
                QPointF(x0 + 8, base_y),
                QPointF(x0 + 11, base_y),
            ]
        )

    def _paint_numerics(self, p: QPainter) -> None:
        t = self._theme
        r = self._layout.numerics
        p.fillRect(r, t.colour("background", "tile"))
        p.setPen(t.colour("background", "border"))
        p.drawLine(r.topLeft(), r.bottomLeft())
        if not self.summary.occupied:
            return
        views = self.summary.numerics
        cells = numeric_cells(r.adjusted(3, 1, -2, -1), len(views))
        for v, cell in zip(views, cells, strict=False):
            self._paint_numeric(p, cell, v, self._font_big if views.index(v) < 2 else self._font_mid)

    def _paint_numeric(self, p: QPainter, cell: QRectF, v: NumericView, value_font: QFont) -> None:
        t = self._theme
        colour = t.colour("text", "stale") if v.freshness is Freshness.STALE else t.parameter(v.colour)
        fm_small = QFontMetrics(self._font_small)
        label_h = fm_small.height()
        head = f"{v.label} {v.unit}"
        two_lines = cell.height() >= 2.2 * label_h
        p.setFont(self._font_small)
        p.setPen(colour)
        if two_lines:
            p.drawText(cell, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), head)
            if v.time_text and fm_small.horizontalAdvance(head + "  " + v.time_text) < cell.width():
                p.drawText(cell, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop), v.time_text)
            value_rect = cell.adjusted(0, label_h * 0.8, 0, 0)
        else:
            p.drawText(cell, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), v.label)
            value_rect = cell.adjusted(fm_small.horizontalAdvance(v.label) + 4, 0, 0, 0)
        limit = self.limits.get(v.code) if v.code is not None else None
        if limit and two_lines:  # small, below the label, as a central station writes them
            p.setFont(self._font_small)
            p.setPen(t.colour("text", "dim"))
            p.drawText(
                cell.adjusted(0, label_h, 0, 0),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                limit,
            )
            value_rect = value_rect.adjusted(fm_small.horizontalAdvance(limit) + 4, 0, 0, 0)
            p.setPen(colour)
        target_px = max(8, min(value_font.pixelSize(), int(value_rect.height() * 1.05)))
        text, font = fit_text(v.text, value_font, target_px, value_rect.width())
        p.setFont(font)
        p.drawText(value_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)


def _overlaps(strips: dict[int, int], left: int, right: int) -> bool:
    """Whether any strip (x, width) covers a column from `left` to `right` inclusive."""
    return any(x <= right and x + width > left for x, width in strips.items())


def numeric_cells(r: QRect, count: int) -> list[QRectF]:
    """Where each numeric goes: the first two (HR, SpO2) large, the rest smaller.

    Tall panels stack them; short ones (many beds on one screen) put HR and SpO2 side by side
    on top and the others side by side below, so that every value keeps a readable size.
    """
    if count == 0:
        return []
    x, y, w, h = float(r.left()), float(r.top()), float(r.width()), float(r.height())
    big, small = min(2, count), max(0, count - 2)
    if h >= 150 or w < 120:
        big_h = h * (0.30 if small else 0.5)
        cells = [QRectF(x, y + i * big_h, w, big_h) for i in range(big)]
        rest = h - big * big_h
        cells += [
            QRectF(x, y + big * big_h + i * rest / max(1, small), w, rest / max(1, small))
            for i in range(small)
        ]
        return cells
    top_h = h * (0.56 if small else 1.0)
    cells = [QRectF(x + i * w / big, y, w / big, top_h) for i in range(big)]
    cells += [QRectF(x + i * w / small, y + top_h, w / small, h - top_h) for i in range(small)]
    return cells


def fit_text(text: str, base: QFont, pixel_size: int, width: float) -> tuple[str, QFont]:
    """The largest font (down to 60 % of `pixel_size`) that fits `text` in `width`.

    A number is never cut: if it does not fit, a pressure drops its mean ("120/80 (93)" -> "120/80")
    and only then shrinks further.
    """
    font = QFont(base)
    candidates = [text]
    if " (" in text:
        candidates.append(text.split(" (")[0])
    for candidate in candidates:
        size = pixel_size
        floor = int(pixel_size * 0.6) if candidate is not candidates[-1] else 7
        while size >= max(7, floor):
            font.setPixelSize(size)
            if QFontMetrics(font).horizontalAdvance(candidate) <= width:
                return candidate, font
            size -= 1
    return candidates[-1], font
