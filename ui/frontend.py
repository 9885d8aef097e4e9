"""Qt front end, found by the command line through the `wardwatch.frontends` entry point.

`app/` may not import widgets, so the GUI launch and the display benchmark live here and receive a
ready-made `Station` from the composition root.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import psutil
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget
from wardwatch.app.alarms.model import Alarm
from wardwatch.app.domain import TechnicalEvent, TechnicalKind
from wardwatch.app.station import Station
from wardwatch.ui.main_window import MainWindow
from wardwatch.ui.theme import theme

log = logging.getLogger(__name__)


def favour_gui_thread() -> None:
    """Shorten the GIL switch interval (5 ms by default) to 1 ms.

    Source threads run Python too; with the default interval the GUI thread can wait up to 5 ms for
    the GIL each time it gives it up (every Qt call does), which shows up as frame-time spikes at
    64 beds. Measured with `wardwatch bench display --beds 64`: p99 frame 70 -> 53 ms.
    """
    sys.setswitchinterval(0.001)


def ensure_platform() -> None:
    """Use the offscreen platform when there is no display, so benches and CI runs never hang."""
    if "QT_QPA_PLATFORM" not in os.environ and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def application(argv: Sequence[str] = ()) -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication([sys.argv[0], *argv])
    app.setApplicationName("WardWatch")
    app.setOrganizationName("WardWatch")
    app.setStyle("Fusion")
    t = theme()
    pal = QPalette()
    bg = QColor(t.colours["background"]["header"])
    text = QColor(t.colours["text"]["normal"])
    for role, colour in (
        (QPalette.ColorRole.Window, bg),
        (QPalette.ColorRole.Base, QColor("#0b0d11")),
        (QPalette.ColorRole.AlternateBase, bg),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Button, QColor("#222833")),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.Highlight, QColor("#2f6fb3")),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
        (QPalette.ColorRole.ToolTipBase, bg),
        (QPalette.ColorRole.ToolTipText, text),
    ):
        pal.setColor(role, colour)
    app.setPalette(pal)
    return app


def build_window(station: Station, fps: float) -> MainWindow:
    window = MainWindow(station, fps)

    def bed_view(bed_id: str) -> QWidget:
        from wardwatch.ui.bed_view import BedView  # pyqtgraph is only loaded when a bed view opens

        view = BedView(station, bed_id)
        view.admitRequested.connect(lambda b: window.admit_dialog(b, view))
        view.moveRequested.connect(lambda b: window.move_dialog(b, view))
        view.dischargeRequested.connect(lambda b: window.discharge_dialog(b, view))
        view.sourceRequested.connect(lambda b: window.source_dialog(b, view))
        view.acknowledgeRequested.connect(window.acknowledge_bed)
        view.limitsRequested.connect(lambda b: window.limits_dialog(b, view))
        return view

    window.bed_view_factory = bed_view
    return window


def run_gui(
    station: Station,
    fps: float,
    messages: Sequence[str] = (),
    kiosk: bool = False,
    quit_after: float | None = None,
) -> int:
    ensure_platform()
    favour_gui_thread()
    app = application()
    viewer = station.services.get("hospital_viewer")  # `wardwatch --view`: see wardwatch.app.hospital.viewer
    if viewer is not None and getattr(viewer, "view_only", False):
        return run_viewer(station, viewer, fps, messages, kiosk, quit_after)
    window = build_window(station, fps)
    station.start()
    window.start()

    def stop() -> None:
        window.stop()
        station.stop()

    return show_and_run(app, window, messages, kiosk, quit_after, stop)


def show_and_run(
    app: QApplication,
    window: QMainWindow,
    messages: Sequence[str],
    kiosk: bool,
    quit_after: float | None,
    on_exit: Callable[[], None],
) -> int:
    """Show the main window and run Qt's loop until the window closes or a signal ends it; `on_exit`
    runs however the loop ends."""
    screen = app.primaryScreen()
    # Set the geometry as well: a kiosk PC often runs no window manager to honour "full screen".
    if kiosk:
        window.setGeometry(screen.geometry())
        window.showFullScreen()
    else:
        window.setGeometry(screen.availableGeometry())
        window.showMaximized()
    if messages:
        # Non-modal: a broken config file must not stop the ward from being watched.
        box = QMessageBox(
            QMessageBox.Icon.Warning, "WardWatch configuration", "\n\n".join(messages), parent=window
        )
        box.setModal(False)
        box.show()
    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), app.quit)
    # Ctrl+C in the terminal, and a service manager's stop (SIGTERM), close the station cleanly: Qt
    # would otherwise swallow SIGINT, and SIGTERM would end it as a crash ("Station restarted" next time).
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    keepalive = QTimer()
    keepalive.start(250)
    keepalive.timeout.connect(lambda: None)
    try:
        return app.exec()
    finally:
        on_exit()


def build_viewer_window(station: Station, viewer: object, fps: float) -> QMainWindow:
    """The viewer-only main window (`wardwatch --view`): the hospital page, logged into from this
    machine's own record like the station (the security hooks work on it as on the main window)."""
    from wardwatch.app.hospital.viewer import HospitalViewer
    from wardwatch.app.security.access import AccessControl
    from wardwatch.app.security.service import SERVICE_NAME, SecurityService
    from wardwatch.ui.hospital_window import FRAME_FPS, HospitalWindow
    from wardwatch.ui.security_hooks import SecurityUi

    assert isinstance(viewer, HospitalViewer)
    service = station.services.get(SERVICE_NAME)
    security = service if isinstance(service, SecurityService) else None
    access = security.access if security is not None else AccessControl.without_users()
    window = HospitalWindow(viewer, access, security, fps=min(fps, FRAME_FPS))
    if security is not None:
        window.security_ui = SecurityUi(window, security)  # type: ignore[arg-type, attr-defined]
    return window


def run_viewer(
    station: Station,
    viewer: object,
    fps: float,
    messages: Sequence[str] = (),
    kiosk: bool = False,
    quit_after: float | None = None,
) -> int:
    """The viewer-only station: no local beds are monitored (the station is not started), the
    hospital page is the main window and the rapid-response overview is one keystroke away."""
    app = application()
    window = build_viewer_window(station, viewer, fps)

    def stop() -> None:
        window.close()
        station.stop()  # never started; this releases what the station made when it was built

    return show_and_run(app, window, messages, kiosk, quit_after, stop)


def process_age_s() -> float:
    """Seconds since this process was created.

    On Linux from the kernel's boot clock, to 10 ms: psutil's create_time goes through the wall clock
    and the boot time in whole seconds, and was seen to be off by up to a second on a VM whose clock
    had been adjusted since boot."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat(5), counted after ")"
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return time.time() - psutil.Process().create_time()


def _percentile(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(np.asarray(values), q)), 2) if len(values) else None


def bench_display(
    station: Station, seconds: float, fps: float, warmup_s: float = 2.0, size: tuple[int, int] = (1920, 1080)
) -> dict[str, object]:
    """Run the real main window for `seconds` after a warm-up and return the measured figures."""
    ensure_platform()
    favour_gui_thread()
    proc = psutil.Process()
    app = application()
    window = build_window(station, fps)
    window.resize(*size)
    station.start()
    window.start()
    window.show()
    rss_start = proc.memory_info().rss / 2**20
    deadline = time.monotonic() + warmup_s
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.001)
    first_paint = window.stats.first_paint
    startup_s = process_age_s() - (time.monotonic() - first_paint) if first_paint is not None else None
    for tile in window.tiles:
        tile.measure_latency = True
        tile.latencies.clear()
    window.stats.record = True
    cpu0 = proc.cpu_times()
    wall0 = time.monotonic()
    deadline = wall0 + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.0005)
    wall = time.monotonic() - wall0
    cpu1 = proc.cpu_times()
    window.stats.record = False
    rss_end = proc.memory_info().rss / 2**20
    latencies = [lat * 1000 for tile in window.tiles for lat in tile.latencies]
    frame_ms = window.stats.frame_ms
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    result: dict[str, object] = {
        "beds": len(station.beds),
        "seconds": round(wall, 2),
        "target_fps": fps,
        "achieved_fps": round(window.stats.frames / wall, 2),
        "frame_ms_p50": _percentile(frame_ms, 50),
        "frame_ms_p99": _percentile(frame_ms, 99),
        "tick_ms_p99": _percentile(window.stats.tick_ms, 99),
        "paint_ms_p99": _percentile(window.stats.paint_ms, 99),
        "latency_ms_p99": _percentile(latencies, 99),
        "latency_ms_max": round(max(latencies), 2) if latencies else None,
        "cpu_percent": round(100 * cpu / wall, 1),
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_end, 1),
        "startup_to_first_paint_s": round(startup_s, 3) if startup_s is not None else None,
        "platform": QApplication.platformName(),
        "window": [window.width(), window.height()],
        "cores": psutil.cpu_count(),
    }
    window.stop()
    window.close()
    station.stop()
    return result


def bench_alarm_latency(station: Station, events: int, fps: float) -> dict[str, object]:
    """Time from an alarm condition being due (after its delay) to its banner painted on screen and
    its tone started, on the real main window with the station's simulated beds running.

    Two kinds of event on the first bed, alternated: a technical condition (low battery, no delay: due
    when the device reports it) and a physiological one (SpO₂ low with its limit moved above the
    patient's value and a 2 s delay: due at condition start + 2 s). Each alarm is acknowledged and
    cleared before the next."""
    ensure_platform()
    favour_gui_thread()
    app = application()
    window = build_window(station, fps)
    window.resize(1920, 1080)
    station.start()
    window.start()
    window.show()
    engine = station.alarms
    bed = station.beds[0].bed_id
    painted: dict[int, float] = {}
    bursts: list[float] = []

    def on_paint() -> None:
        for a in window.alarm_bar.lines.shown():
            painted.setdefault(a.alarm_id, station.clock.now())

    window.alarm_bar.lines.painted.connect(on_paint)
    window.sound.player.burst_started.connect(lambda _p: bursts.append(station.clock.now()))

    def pump(seconds: float, until: Callable[[], bool] | None = None) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (until and until()):
            app.processEvents()
            time.sleep(0.0005)

    pump(3.0)
    engine.acknowledge_all()
    to_banner: dict[str, list[float]] = {"technical": [], "physiological": []}
    to_tone: dict[str, list[float]] = {"technical": [], "physiological": []}
    rule = engine.settings_for(bed).rule("spo2_very_low")
    for i in range(events):
        kind = "technical" if i % 2 == 0 else "physiological"
        bursts.clear()
        if kind == "technical":
            due = station.clock.now()
            station.hub.push_event(TechnicalEvent(bed, TechnicalKind.LOW_BATTERY, True, due, "latency bench"))
            key = "technical:low_battery"
        else:
            assert rule is not None
            engine.set_limit(bed, replace(rule, low=101.0, delay_s=2.0), "bench")
            key = "spo2_very_low"
            due = 0.0

        def raised(key: str = key) -> Alarm | None:
            return next((a for a in engine.snapshot.alarms if a.bed == bed and a.key == key), None)

        pump(6.0, lambda: (a := raised()) is not None and a.alarm_id in painted and bool(bursts))
        alarm = raised()
        if alarm is not None and alarm.alarm_id in painted and bursts:
            if kind == "physiological":
                due = alarm.condition_since + 2.0
            to_banner[kind].append((painted[alarm.alarm_id] - due) * 1000)
            to_tone[kind].append((bursts[0] - due) * 1000)
        if kind == "technical":
            station.hub.push_event(TechnicalEvent(bed, TechnicalKind.LOW_BATTERY, False, station.clock.now()))
        else:
            engine.reset_limits(bed, "bench")
        pump(0.5)
        engine.acknowledge_all()
        pump(0.5)
    result: dict[str, object] = {"events": events, "engine_tick_ms": 100, "target_fps": fps}
    for kind in ("technical", "physiological"):
        result[f"{kind}_measured"] = len(to_banner[kind])
        result[f"{kind}_to_banner_ms_p50"] = _percentile(to_banner[kind], 50)
        result[f"{kind}_to_banner_ms_max"] = round(max(to_banner[kind]), 1) if to_banner[kind] else None
        result[f"{kind}_to_tone_ms_p50"] = _percentile(to_tone[kind], 50)
        result[f"{kind}_to_tone_ms_max"] = round(max(to_tone[kind]), 1) if to_tone[kind] else None
    result["sound_device"] = window.sound.problem or "available"
    window.stop()
    window.close()
    station.stop()
    return result
