"""The arrhythmia analysis fed piecewise to its own process: same signals, same findings as analysing
each whole window in place, and it recovers from a worker that dies."""

from __future__ import annotations

import math
import os
import signal
import time
from concurrent.futures import Future

import numpy as np
import pytest
from wardwatch.app.alarms.analysis_worker import AnalysisWorker, BedWindows, MissingWindow, WaveUpdate
from wardwatch.app.alarms.arrhythmia import channels_off, gather_signals, resample
from wardwatch.app.alarms.bed_analyser import BedAnalyser
from wardwatch.app.alarms.findings import Finding
from wardwatch.app.alarms.settings import default_settings
from wardwatch.app.domain import TechnicalEvent, TechnicalKind, WaveformBlock
from wardwatch.app.hub import StreamHub
from wardwatch.devices.simulator.patient import CHANNELS, SimulatedPatient

BED = "bed01"


class InProcessWorker:
    """The worker's own `BedWindows`, answered at once in this process (to compare with `gather`)."""

    def __init__(self) -> None:
        self.windows = BedWindows()
        self.updates: list[WaveUpdate] = []

    def submit(self, update: WaveUpdate) -> Future[list[Finding]]:
        self.updates.append(update)
        future: Future[list[Finding]] = Future()
        try:
            future.set_result(self.windows.analyse(update))
        except Exception as exc:
            future.set_exception(exc)
        return future


def feed(hub: StreamHub, patient: SimulatedPatient, t_from: float, t_to: float, bed: str = BED) -> None:
    """Push the patient's samples with times in (t_from, t_to], in 40 ms blocks as the simulator does."""
    t = t_from
    while t < t_to - 1e-9:
        t_next = min(t_to, t + 0.04)
        for ch in CHANNELS:
            a, b = math.floor(t * ch.rate) + 1, math.floor(t_next * ch.rate) + 1
            if b > a:
                samples = patient.samples(ch.code, a, b - a)
                hub.push_block(WaveformBlock(bed, ch.code, samples, ch.rate, a / ch.rate, ch.unit, ch.label))
        t = t_next


def vt_episode(patient: SimulatedPatient) -> tuple[float, float]:
    return next((s.start, s.end) for s in patient.timeline.between(0.0, 600.0) if s.rhythm.value == "vt")


def test_windows_fed_piecewise_resample_exactly_like_the_whole_window():
    hub, worker = StreamHub(), InProcessWorker()
    analyser = BedAnalyser(hub, lambda bed: default_settings(), worker)  # type: ignore[arg-type]
    patient = SimulatedPatient("vt", seed=3, bed_index=1)
    window_s = default_settings().arrhythmia_window_s
    feed(hub, patient, 0.0, 5.0)
    for now in np.arange(6.0, 70.0, 1.0):
        feed(hub, patient, now - 1.0, float(now))
        analyser(BED, float(now))
        streams = hub.streams(BED)
        assert streams is not None
        held = worker.windows.apply(WaveUpdate(BED, window_s, default_settings().arrhythmia_priority))
        piecewise = resample(held, window_s)
        whole = gather_signals(streams, window_s)
        assert piecewise.keys() == whole.keys()
        for name, values in whole.items():
            np.testing.assert_array_equal(piecewise[name], values)
    # after the first whole window, each request carries about a second of new samples, not 32 s
    later = worker.updates[5:]
    assert all(not c.replace and len(c.values) <= 260 for u in later for c in u.chunks.values())


def test_the_live_worker_raises_v_tach_and_recovers_after_being_killed():
    hub, worker = StreamHub(), AnalysisWorker()
    analyser = BedAnalyser(hub, lambda bed: default_settings(), worker)
    patient = SimulatedPatient("vt", seed=0, bed_index=1)
    start, end = vt_episode(patient)

    def findings_at(now: float, deadline_s: float = 60.0) -> list[Finding]:
        """Ask until the worker has answered for this moment (the first answer may be the previous
        request's)."""
        give_up = time.monotonic() + deadline_s
        answers = 0
        while time.monotonic() < give_up:
            result = analyser(BED, now)
            if result is not None:
                answers += 1
                if answers == 2:
                    return list(result)
            time.sleep(0.05)
        raise AssertionError("the analysis worker gave no answer")

    try:
        feed(hub, patient, max(0.0, start - 40.0), start + 8.0)
        found = findings_at(start + 8.0)
        assert any(f.key == "arrhythmia:Ventricular_Tachycardia" and not f.held_back for f in found)
        pid = worker.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        feed(hub, patient, start + 8.0, start + 9.0)
        # the request waiting on the dead worker fails (the engine shows "Arrhythmia analysis off")
        with pytest.raises(Exception, match="stopped"):
            findings_at(start + 9.0, deadline_s=10.0)
        feed(hub, patient, start + 9.0, min(end, start + 10.0))
        found = findings_at(min(end, start + 10.0))
        assert worker.pid not in (None, pid)
        assert any(f.key == "arrhythmia:Ventricular_Tachycardia" and not f.held_back for f in found)
    finally:
        worker.shutdown()


def test_a_restarted_worker_gets_the_whole_window_again_without_an_error():
    hub, worker = StreamHub(), InProcessWorker()
    analyser = BedAnalyser(hub, lambda bed: default_settings(), worker)  # type: ignore[arg-type]
    patient = SimulatedPatient("stable", seed=1, bed_index=2)
    feed(hub, patient, 0.0, 40.0)
    assert analyser(BED, 40.0) is None  # the first answer is only ready on the next call
    worker.windows = BedWindows()  # as a worker process started again holds nothing
    feed(hub, patient, 40.0, 41.0)
    assert analyser(BED, 41.0) == []  # the answer to the request made before the restart
    assert not worker.updates[-1].reset  # ... and this one continues a window the worker lost
    feed(hub, patient, 41.0, 42.0)
    assert analyser(BED, 42.0) is None  # MissingWindow: no news, and no alarm-system error
    assert worker.updates[-1].reset and all(c.replace for c in worker.updates[-1].chunks.values())
    feed(hub, patient, 42.0, 43.0)
    assert analyser(BED, 43.0) == []


def test_a_window_that_was_never_sent_is_refused_by_the_worker():
    with pytest.raises(MissingWindow):
        BedWindows().analyse(WaveUpdate(BED, 32.0, default_settings().arrhythmia_priority))


def test_a_replaced_source_and_a_lead_off_reach_the_worker():
    hub, worker = StreamHub(), InProcessWorker()
    analyser = BedAnalyser(hub, lambda bed: default_settings(), worker)  # type: ignore[arg-type]
    patient = SimulatedPatient("stable", seed=1, bed_index=2)
    feed(hub, patient, 0.0, 40.0)
    analyser(BED, 40.0)
    hub.push_event(TechnicalEvent(BED, TechnicalKind.LEAD_OFF, True, 40.0, "lead off"))
    feed(hub, patient, 40.0, 41.0)
    analyser(BED, 41.0)
    assert worker.updates[-1].off == channels_off([TechnicalKind.LEAD_OFF])
    hub.clear_bed(BED)
    feed(hub, patient, 41.0, 50.0)
    analyser(BED, 50.0)
    assert worker.updates[-1].reset


def test_a_station_exits_although_a_worker_that_fell_behind_left_its_pipe_full(tmp_path):
    # The worker is stopped (SIGSTOP) so its pipe fills with requests it never reads; shutdown must
    # still let the process end, as a headless station must end after its last summary line.
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import os, signal
        import numpy as np
        from wardwatch.app.alarms.analysis_worker import AnalysisWorker, WaveChunk, WaveUpdate
        from wardwatch.app.alarms.model import Priority

        worker = AnalysisWorker()
        n = 250_000
        chunk = WaveChunk(np.arange(n) / 250.0, np.zeros(n, np.float32), replace=True)
        worker.submit(WaveUpdate("bed01", 10.0, Priority.HIGH, {"ECG_II": chunk}))
        os.kill(worker.pid, signal.SIGSTOP)
        for _ in range(20):
            worker.submit(WaveUpdate("bed01", 10.0, Priority.HIGH, {"ECG_II": chunk}))
        worker.shutdown()
        print("shut down", flush=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "shut down" in done.stdout
