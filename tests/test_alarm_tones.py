"""IEC 60601-1-8 tones (pulse counts, timing, harmonics) and the player's behaviour, offscreen."""

from __future__ import annotations

import io
import itertools
import wave
from dataclasses import replace

import numpy as np
import pytest
from wardwatch.app.alarms.model import Priority
from wardwatch.app.alarms.tone_patterns import SAMPLE_RATE, load_patterns, pulse, synthesise, to_wav_bytes
from wardwatch.ui.alarm_player import AlarmPlayer


def _pulses(samples: np.ndarray) -> list[tuple[float, float]]:
    """(start, duration) of each pulse, from where the signal is not silent."""
    loud = np.abs(samples) > 1e-3
    # close the tiny gaps between zero crossings inside a pulse
    window = int(0.004 * SAMPLE_RATE)
    smoothed = np.convolve(loud.astype(float), np.ones(window), mode="same") > 0
    padded = np.concatenate(([0], smoothed.astype(int), [0]))  # so every pulse has both edges
    edges = np.flatnonzero(np.diff(padded))
    starts, ends = edges[::2], edges[1::2]
    return [(s / SAMPLE_RATE, (e - s) / SAMPLE_RATE) for s, e in zip(starts, ends, strict=False)]


@pytest.mark.parametrize(
    ("priority", "count"), [(Priority.HIGH, 10), (Priority.MEDIUM, 3), (Priority.LOW, 2)]
)
def test_burst_has_the_iec_number_of_pulses(priority, count):
    assert len(_pulses(synthesise(load_patterns()[priority]))) == count


def test_high_priority_timing_is_within_iec_ranges():
    pattern = load_patterns()[Priority.HIGH]
    assert 0.075 <= pattern.pulse_s <= 0.200
    onsets = pattern.onsets
    spacing = [b - a - pattern.pulse_s for a, b in itertools.pairwise(onsets)]
    assert all(s >= 0.05 for s in spacing)
    assert 0.35 <= spacing[4] <= 1.30  # between pulses 5 and 6
    assert 2.5 <= pattern.repeat_s <= 15.0


@pytest.mark.parametrize("priority", [Priority.MEDIUM, Priority.LOW])
def test_medium_and_low_timing_is_within_iec_ranges(priority):
    pattern = load_patterns()[priority]
    assert 0.125 <= pattern.pulse_s <= 0.250
    onsets = pattern.onsets
    assert all(0.125 <= b - a - pattern.pulse_s <= 0.250 for a, b in itertools.pairwise(onsets))
    assert pattern.repeat_s >= (2.5 if priority is Priority.MEDIUM else 15.0)


@pytest.mark.parametrize("priority", list(Priority))
def test_each_pulse_has_four_harmonics_in_band_within_15_db_of_its_fundamental(priority):
    pattern = load_patterns()[priority]
    assert 150 <= pattern.fundamental_hz <= 1000
    x = pulse(replace(pattern, pulse_s=1.0, rise_s=0.1))  # a long pulse: sharp spectral lines
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)

    def level(f: float) -> float:
        return 20 * np.log10(spectrum[np.argmin(np.abs(freqs - f))])

    f0 = level(pattern.fundamental_hz)
    harmonics = [
        k * pattern.fundamental_hz
        for k in range(2, 20)
        if 300 <= k * pattern.fundamental_hz <= 4000 and abs(level(k * pattern.fundamental_hz) - f0) <= 15
    ]
    assert len(harmonics) >= 4


def test_wav_bytes_read_back_as_16_bit_mono():
    data = to_wav_bytes(synthesise(load_patterns()[Priority.MEDIUM]))
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SAMPLE_RATE)
        assert w.getnframes() > SAMPLE_RATE * 0.9


def _fast_patterns():
    return {p: replace(t, repeat_s=0.3, repeat_escalated_s=0.15) for p, t in load_patterns().items()}


def test_player_starts_a_burst_at_once_and_a_higher_priority_breaks_through(qtbot):
    player = AlarmPlayer(patterns=_fast_patterns())
    started: list[str] = []
    player.burst_started.connect(started.append)
    player.set_priority(Priority.LOW)
    player.set_priority(Priority.HIGH)
    assert started == ["low", "high"]
    player.set_priority(Priority.MEDIUM)  # lower: waits for the running interval
    assert started == ["low", "high"]
    qtbot.waitUntil(lambda: started[-1] == "medium", timeout=6000)  # after the high burst (3.1 s)


def test_player_repeats_on_its_interval_and_stops_when_silenced_or_paused(qtbot):
    player = AlarmPlayer(patterns=_fast_patterns())
    started: list[str] = []
    player.burst_started.connect(started.append)
    player.set_priority(Priority.MEDIUM)
    qtbot.waitUntil(lambda: len(started) >= 3, timeout=3000)
    player.set_paused(True)
    count = len(started)
    qtbot.wait(500)
    assert len(started) == count
    player.set_paused(False)
    assert len(started) == count + 1
    player.set_priority(None)
    count = len(started)
    qtbot.wait(500)
    assert len(started) == count


def test_player_without_an_audio_device_says_so_and_keeps_its_state(qtbot):
    player = AlarmPlayer(patterns=_fast_patterns())
    player.set_priority(Priority.HIGH)
    assert player.priority is Priority.HIGH
    if not player.available:
        assert "not sounded" in (player.problem or "")
