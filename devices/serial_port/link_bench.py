"""`wardwatch bench link`: a serial monitor's cable pulled and plugged back, timed on a pseudo-terminal.

An emulated Nonin writes its packets into a pty behind a stable link (as /dev/serial/by-id is), or an
emulated IntelliVue answers on it (`--protocol intellivue`: the station must associate again after the
return before data flows); the station's own serial source and supervisor watch it. Reported: the time
from the pull to the link state and to the "device disconnected" technical alarm, and from the return to
the reconnection, the first data and the alarm clearing. Linux (pseudo-terminals) only.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import tty
from pathlib import Path

from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import LinkState, TechnicalKind
from wardwatch.app.hub import StreamHub
from wardwatch.app.supervisor import Supervisor
from wardwatch.devices.intellivue.emulator import EmulatedIntelliVue, EmulatorThread
from wardwatch.devices.link_timing import conditions, run_figures, samples, since
from wardwatch.devices.samples import SAMPLES
from wardwatch.devices.serial_port import DEFAULT_BAUD, DEFAULT_BAUDS
from wardwatch.devices.serial_port.source import SerialSource

BED = "bed01"


class _Cable:
    def __init__(self, link: Path, emulator: EmulatedIntelliVue | None = None) -> None:
        self.link = link
        self.master = self.slave = -1
        self.lock = threading.Lock()
        self.emulator = emulator
        self.server: EmulatorThread | None = None

    def plug(self) -> None:
        with self.lock:
            self.master, self.slave = os.openpty()
            tty.setraw(self.slave)
            self.link.symlink_to(os.ttyname(self.slave))
            if self.emulator is not None:
                self.server = EmulatorThread(self.emulator, self.master).start()

    def unplug(self) -> None:
        with self.lock:
            if self.server is not None:
                self.server.stop()  # before its pty goes, so that it never reads a reused descriptor
                self.server = None
            self.link.unlink()
            os.close(self.master)
            os.close(self.slave)
            self.master = -1

    def write(self, data: bytes) -> None:
        with self.lock:
            if self.master >= 0:
                os.write(self.master, data)


def _one_run(away: float, protocol: str) -> dict[str, float]:
    talks = protocol == "intellivue"
    cable = _Cable(
        Path(tempfile.mkdtemp(prefix="wardwatch-link-")) / f"tty{protocol}",
        EmulatedIntelliVue() if talks else None,
    )
    cable.plug()
    hub, clock = StreamHub(), ScaledClock(1.0)
    source = SerialSource(protocol, str(cable.link), DEFAULT_BAUDS.get(protocol, DEFAULT_BAUD), BED, clock)
    supervisor = Supervisor(hub, clock, lambda: [BED])
    stop = threading.Event()
    wave = MdcCode.ECG_ELEC_POTL_II if talks else MdcCode.PULS_OXIM_PLETH
    packet = SAMPLES["nonin"][0]

    def feed() -> None:
        while not talks and not stop.wait(1 / 3):  # a packet every third of a second, as the module sends
            cable.write(packet)

    source.start(hub)
    supervisor.start()
    threading.Thread(target=feed, daemon=True).start()
    try:
        since(time.monotonic(), lambda: samples(hub, BED, wave) > 0)
        cable.unplug()
        pulled = time.monotonic()
        to_state = since(pulled, lambda: source.status.state is LinkState.DISCONNECTED)
        to_alarm = since(pulled, lambda: TechnicalKind.DISCONNECTED in conditions(hub, BED))
        time.sleep(max(0.0, away - (time.monotonic() - pulled)))
        seen = samples(hub, BED, wave)
        cable.plug()
        returned = time.monotonic()
        to_connected = since(returned, lambda: source.status.state is LinkState.CONNECTED)
        to_data = since(returned, lambda: samples(hub, BED, wave) > seen)
        to_clear = since(returned, lambda: TechnicalKind.DISCONNECTED not in conditions(hub, BED))
    finally:
        stop.set()
        source.stop()
        supervisor.stop()
        if cable.link.is_symlink():
            cable.unplug()
    return run_figures(away, to_state, to_alarm, to_connected, to_data, to_clear)


PROTOCOLS = ("nonin", "intellivue")


def bench_link(away_s: tuple[float, ...] = (1.0, 10.0, 30.0), protocol: str = "nonin") -> dict[str, object]:
    """For IntelliVue, "reconnected" is the association accepted again (the link state is the session's)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"no link bench for {protocol!r}")
    return {"protocol": protocol, "runs": [_one_run(away, protocol) for away in away_s]}
