"""The incremental sweep: what ends up in the backing image."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter
from wardwatch.app.ring import SampleRing
from wardwatch.ui.sweep import ERASE_PX, ScaleMode, SweepTrace, TraceScale

RATE = 100.0
SWEEP_S = 2.0
WIDTH = 200  # 100 px per second, 1 px per sample


@pytest.fixture
def image(qapp):
    img = QImage(WIDTH, 50, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor(0, 0, 0))
    return img


def _trace() -> SweepTrace:
    return SweepTrace(
        QRect(0, 0, WIDTH, 50), SWEEP_S, QColor(0, 255, 0), TraceScale(ScaleMode.FIXED, -1.0, 1.0)
    )


def _draw(
    trace: SweepTrace, image: QImage, ring: SampleRing, until: float = float("inf")
) -> list[tuple[int, int]]:
    painter = QPainter(image)
    spans = trace.advance(painter, ring, RATE, until)
    painter.end()
    return spans


def _lit_columns(image: QImage) -> set[int]:
    return {
        x for x in range(image.width()) for y in range(image.height()) if image.pixelColor(x, y).green() > 0
    }


def test_samples_newer_than_the_play_out_time_wait_for_a_later_frame(image):
    ring = SampleRing(1000)
    ring.write_block(np.zeros(100), t0=1000.0, rate=RATE)  # 1000.00 .. 1000.99 s
    trace = _trace()
    _draw(trace, image, ring, until=1000.495)
    assert trace.cursor == 50
    _draw(trace, image, ring, until=1001.0)
    assert trace.cursor == 100


def test_nan_samples_leave_a_gap_instead_of_a_line(image):
    values = np.zeros(150, np.float32)
    values[50:100] = np.nan  # half a second of lead off
    ring = SampleRing(1000)
    ring.write_block(values, t0=1000.0, rate=RATE)  # phase 0: t=1000 s is x=0
    _draw(_trace(), image, ring)
    lit = _lit_columns(image)
    assert set(range(5, 45)) <= lit
    assert not lit & set(range(55, 95))
    assert set(range(105, 145)) <= lit


def test_erase_bar_blanks_the_old_sweep_just_ahead_of_the_pen(image):
    ring = SampleRing(1000)
    trace = _trace()
    ring.write_block(np.zeros(200), t0=1000.0, rate=RATE)  # one whole sweep
    _draw(trace, image, ring)
    ring.write_block(np.zeros(30), t0=1002.0, rate=RATE)  # the pen wraps and reaches x=29
    spans = _draw(trace, image, ring)
    lit = _lit_columns(image)
    assert set(range(0, 29)) <= lit
    assert not lit & set(range(31, 29 + ERASE_PX))
    assert (29 + ERASE_PX + 2) in lit  # older sweep still shown beyond the bar
    assert spans and min(x for x, _ in spans) <= 1


def test_a_time_gap_breaks_the_line(image):
    ring = SampleRing(1000)
    ring.write_block(np.zeros(40), t0=1000.0, rate=RATE)
    ring.write_block(np.zeros(40), t0=1001.0, rate=RATE)  # 0.6 s without data in between
    _draw(_trace(), image, ring)
    lit = _lit_columns(image)
    assert not lit & set(range(45, 95))


def test_the_first_sweep_is_redrawn_when_its_guessed_scale_was_far_off(image):
    """A pleth's first half-beat gives a scale far too narrow; what was drawn clipped flat at the
    band's edges is drawn again once the range is known, as a nurse would expect after start-up."""
    trace = SweepTrace(
        QRect(0, 0, WIDTH, 50), SWEEP_S, QColor(0, 255, 0), TraceScale(ScaleMode.AUTO, 0.0, 1.0)
    )
    ring = SampleRing(1000)
    t = np.arange(180) / RATE
    wave = np.sin(2 * np.pi * 1.2 * t).astype(np.float32)
    wave[:20] *= 0.05  # the first 0.2 s: a sliver of the wave
    ring.write_block(wave[:20], t0=1000.0, rate=RATE)
    _draw(trace, image, ring)
    for k in range(20, 180, 4):  # then frames of 40 ms blocks, as the simulator delivers
        ring.write_block(wave[k : k + 4], t0=1000.0 + k / RATE, rate=RATE)
        _draw(trace, image, ring)
    top = {x for x in range(WIDTH) if image.pixelColor(x, 0).green() > 0}
    bottom = {x for x in range(WIDTH) if image.pixelColor(x, 49).green() > 0}
    assert len(top) < 5 and len(bottom) < 5  # no flat runs along the band's edges
    assert len(_lit_columns(image)) >= 170  # and the whole of what arrived is on screen
