"""The IntelliVue host session as a pure state machine, talking to the emulated monitor in memory (no port,
no clock: the time is handed in), and fed arbitrary bytes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wardwatch.devices.decoded import Decoded, DecodeError
from wardwatch.devices.intellivue import association
from wardwatch.devices.intellivue.emulator import EmulatedIntelliVue, Vitals
from wardwatch.devices.intellivue.framing import deframe, frame
from wardwatch.devices.intellivue.session import Phase, Session, SessionConfig


@dataclass
class Line:
    """Host and monitor joined back to back; `run` moves the time on in steps and carries the bytes."""

    session: Session = field(default_factory=Session)
    monitor: EmulatedIntelliVue = field(default_factory=EmulatedIntelliVue)
    now: float = 0.0
    to_monitor: bytes = b""
    values: list[Decoded] = field(default_factory=list)
    errors: list[DecodeError] = field(default_factory=list)
    sent: list[tuple[float, bytes]] = field(default_factory=list)

    def start(self) -> Line:
        self.to_monitor = self.session.start(self.now)
        return self

    def run(self, seconds: float, step: float = 0.05) -> None:
        end = self.now + seconds
        while self.now < end:
            self.now += step
            if self.to_monitor:
                self.sent.append((self.now, self.to_monitor))
            back = self.monitor.feed(self.to_monitor, self.now) + self.monitor.tick(self.now)
            values, errors, replies = self.session.feed(back, self.now)
            self.values += values
            self.errors += errors
            self.to_monitor = replies + self.session.tick(self.now)

    def labels(self) -> set[str]:
        return {v.label for v in self.values}


def test_intellivue_session_associates_answers_the_mds_event_then_polls_numerics_and_waves():
    line = Line().start()
    line.run(3.0)
    assert line.session.phase is Phase.POLLING and line.session.problem is None
    # the create event is answered before the first poll, as the guide's dialog requires
    assert line.monitor.received[:4] == ["association request", "mds create result", "ext poll", "ext poll"]
    assert {
        "HR",
        "SpO2",
        "RR",
        "NIBP sys",
        "NIBP dia",
        "NIBP mean",
        "Temp",
        "ECG II",
        "Pleth",
    } <= line.labels()
    hr = next(v for v in line.values if v.label == "HR")
    assert (hr.value, hr.code) == (72.0, 147842)
    ecg = [v for v in line.values if v.label == "ECG II"]
    assert ecg[0].rate_hz == 500.0 and ecg[0].unit == "mV"
    assert 1200 <= sum(len(v.samples or ()) for v in ecg) <= 1600  # about 3 s at 500 Hz
    assert line.errors == []


def test_intellivue_session_keeps_the_association_alive_and_asks_again_when_a_poll_ends():
    line = Line().start()
    line.run(35.0, step=0.1)
    gaps = [b - a for (a, _), (b, _) in zip(line.sent, line.sent[1:], strict=False)]
    assert max(gaps) <= SessionConfig().keepalive_s + 0.2
    hr_times = [v.details["poll_number"] for v in line.values if v.label == "HR"]
    assert len(hr_times) >= 33  # numerics once a second, across three extended poll periods
    assert line.monitor.received.count("ext poll") >= 6 and line.session.phase is Phase.POLLING


def test_intellivue_session_uses_single_polls_when_the_monitor_offers_no_extended_ones():
    line = Line(monitor=EmulatedIntelliVue(extended=False)).start()
    line.run(3.0)
    assert "ext poll" not in line.monitor.received
    assert {"HR", "ECG II", "Pleth"} <= line.labels()
    assert 2 <= sum(1 for v in line.values if v.label == "HR") <= 4


def test_intellivue_session_refused_waits_then_tries_again():
    line = Line(monitor=EmulatedIntelliVue(refuse=True)).start()
    line.run(0.5)
    assert line.session.phase is Phase.IDLE and "refused" in (line.session.problem or "")
    line.monitor.refuse = False
    line.run(SessionConfig().retry_s + 1.0)
    assert line.session.phase is Phase.POLLING and line.session.problem is None
    assert line.monitor.received.count("association request") == 2


def test_intellivue_session_a_silent_monitor_is_associated_again():
    line = Line().start()
    line.run(2.0)
    line.monitor.silent = True
    line.run(SessionConfig().reply_timeout_s + 0.5)
    assert line.session.phase is Phase.ASSOCIATING and "no reply" in (line.session.problem or "")
    line.monitor.silent = False
    line.values.clear()
    line.run(SessionConfig().answer_timeout_s + 1.0)  # the request sent into the silence is asked again
    assert line.session.phase is Phase.POLLING and line.session.associations == 2
    assert "HR" in line.labels()


def test_intellivue_session_no_answer_to_the_request_is_asked_again():
    line = Line(monitor=EmulatedIntelliVue(silent=True)).start()
    line.run(SessionConfig().answer_timeout_s + 0.5)
    assert line.monitor.received.count("association request") == 2
    assert "no answer" in (line.session.problem or "")


def test_intellivue_session_abort_and_release():
    line = Line().start()
    line.run(1.0)
    line.session.feed(frame(association.abort()), line.now)
    assert line.session.phase is Phase.IDLE and "aborted" in (line.session.problem or "")
    line.run(SessionConfig().retry_s + 1.0)
    assert line.session.phase is Phase.POLLING
    release = line.session.close()
    assert deframe(release)[0][0][1] == association.release_request()
    assert line.session.phase is Phase.RELEASING
    line.to_monitor = release
    line.run(0.2)
    assert line.session.phase is Phase.IDLE and line.session.problem == "association released"
    line.run(SessionConfig().retry_s + 1.0)
    assert line.session.phase is Phase.IDLE  # a released session stays closed


def test_intellivue_session_a_monitor_release_is_answered():
    line = Line().start()
    line.run(1.0)
    _, _, replies = line.session.feed(frame(association.release_request()), line.now)
    assert deframe(replies)[0][0][1] == association.release_result()
    assert line.session.phase is Phase.IDLE


def test_intellivue_session_values_follow_the_monitor():
    line = Line().start()
    line.run(1.5)
    line.monitor.vitals = Vitals(hr=121, temp=38.4)
    line.values.clear()
    line.run(1.5)
    assert {v.value for v in line.values if v.label == "HR"} == {121.0}
    (temp,) = {(v.code, v.value) for v in line.values if v.label == "Temp"}
    assert temp == (150344, 38.4)  # the device's code; the station maps it to body temperature


def _in_phase(phase: str) -> Session:
    line = Line().start()
    if phase == "polling":
        line.run(1.0)
    return line.session


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["associating", "polling"]),
    st.lists(st.one_of(st.binary(max_size=120), st.binary(max_size=120).map(frame)), max_size=6),
)
def test_intellivue_session_any_bytes_give_values_or_errors_never_an_exception(phase, chunks):
    session = _in_phase(phase)
    now = 2.0
    for chunk in chunks:
        values, errors, replies = session.feed(chunk, now)
        assert isinstance(values, list) and isinstance(errors, list) and isinstance(replies, bytes)
        session.tick(now)
        now += 0.5


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_intellivue_session_mutated_monitor_messages_never_raise(data):
    monitor = EmulatedIntelliVue()
    session = Session()
    sent = session.start(0.0)
    stream = monitor.feed(sent, 0.1)
    frames = [user for _, user in deframe(stream)[0]]
    session.feed(stream, 0.1)
    stream = monitor.feed(session.tick(0.2), 0.2) + monitor.tick(1.5)
    frames += [user for _, user in deframe(stream)[0]]
    victim = bytearray(data.draw(st.sampled_from(frames)))
    for _ in range(data.draw(st.integers(1, 4))):
        victim[data.draw(st.integers(0, len(victim) - 1))] = data.draw(st.integers(0, 255))
    fresh = Session()
    fresh.start(0.0)
    for s in (session, fresh):
        s.feed(frame(bytes(victim)), 2.0)
        s.tick(2.0)


def test_intellivue_session_endless_noise_is_bounded():
    session = Session()
    session.start(0.0)
    _, errors, _ = session.feed(b"\xc0" + b"\x55" * 20000, 0.1)
    assert any("without an end of frame" in str(e) for e in errors)
    assert len(session._pending) == 0


@pytest.mark.parametrize("waves", [True, False])
def test_intellivue_session_asks_for_waves_only_when_wanted(waves):
    session = Session(SessionConfig(waves=waves))
    request = deframe(session.start(0.0))[0][0][1]
    info = association.decode_session(request).user_info
    assert info is not None and bool(info.extended_options & association.EXT_WAVES) is waves
