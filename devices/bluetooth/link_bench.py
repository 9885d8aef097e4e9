"""`wardwatch bench ble`: a Bluetooth patch walks out of range and back, timed on a virtual radio.

A Polar-like strap streams ECG over bumble's virtual controllers (the test radio, so `bumble` must be
installed: the test extras); the station's own Bluetooth source and supervisor watch it. Reported: the
time to the first connection and ECG, from the loss to the link state and to the "device disconnected"
technical alarm, and from the return to the reconnection, the first ECG and the alarm clearing.
"""

from __future__ import annotations

import time

from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import LinkState, TechnicalKind
from wardwatch.app.hub import StreamHub
from wardwatch.app.supervisor import Supervisor
from wardwatch.devices.bluetooth.runtime import BleRuntime
from wardwatch.devices.bluetooth.source import BleSource
from wardwatch.devices.link_timing import conditions, run_figures, samples, since

BED = "bed01"
STRAP = "C1:00:00:00:00:01"


def bench_ble_link(away_s: tuple[float, ...] = (1.0, 10.0, 30.0)) -> dict[str, object]:
    try:
        from wardwatch.devices.bluetooth.virtual import VirtualAir, VirtualPatch
    except ImportError as exc:
        raise SystemExit(f"the Bluetooth bench needs the test extras (bumble): {exc}") from None
    runtime = BleRuntime()
    air = runtime.call(VirtualAir.create())
    runtime.backends = air.backends()
    patch = runtime.call(VirtualPatch.create(air, STRAP, "Polar H10 bench", "chest-ecg"))
    hub, clock = StreamHub(), ScaledClock(1.0)
    hub.add_bed(BED)
    source = BleSource(STRAP, BED, clock, runtime)
    supervisor = Supervisor(hub, clock, lambda: [BED])

    def ecg() -> int:
        return samples(hub, BED, MdcCode.ECG_ELEC_POTL)

    runs: list[dict[str, float]] = []
    started = time.monotonic()
    source.start(hub)
    supervisor.start()
    try:
        first = {
            "connected_s": round(since(started, lambda: source.status.state is LinkState.CONNECTED), 2),
            "first_ecg_s": round(since(started, lambda: ecg() > 0), 2),
        }
        for away in away_s:
            since(time.monotonic(), lambda: ecg() > 0 and not conditions(hub, BED))
            runtime.call(patch.leave())
            left = time.monotonic()
            to_state = since(left, lambda: source.status.state is LinkState.DISCONNECTED)
            to_alarm = since(left, lambda: TechnicalKind.DISCONNECTED in conditions(hub, BED))
            time.sleep(max(0.0, away - (time.monotonic() - left)))
            seen = ecg()
            runtime.call(patch.come_back())
            back = time.monotonic()
            to_connected = since(back, lambda: source.status.state is LinkState.CONNECTED)
            to_data = since(back, lambda seen=seen: ecg() > seen)
            to_clear = since(back, lambda: TechnicalKind.DISCONNECTED not in conditions(hub, BED))
            runs.append(run_figures(away, to_state, to_alarm, to_connected, to_data, to_clear))
    finally:
        source.stop()
        supervisor.stop()
        runtime.close()
    return {"transport": "ble (virtual radio)", **first, "runs": runs}
