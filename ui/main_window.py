"""The central station's main window: a fixed grid of bed sectors driven by one frame timer."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.alarms.display import limit_texts, pause_text, tile_alarm
from wardwatch.app.alarms.model import AlarmSnapshot
from wardwatch.app.alarms.news2_watch import BedNews2
from wardwatch.app.alarms.settings import LimitRule
from wardwatch.app.domain import STATION_BED, LinkState
from wardwatch.app.presentation import grid_shape
from wardwatch.app.security.access import AccessControl, Decision
from wardwatch.app.security.actions import Action
from wardwatch.app.security.service import SERVICE_NAME, SecurityService
from wardwatch.app.station import Station, WardError
from wardwatch.ui.alarm_audio import StationSound
from wardwatch.ui.alarm_bar import AlarmBar
from wardwatch.ui.alarm_dialogs import AlarmsDialog
from wardwatch.ui.dialogs import AdmitDialog, DischargeDialog, MoveDialog, SourceDialog
from wardwatch.ui.entries_dialog import EntriesDialog
from wardwatch.ui.limits_dialog import LimitsDialog
from wardwatch.ui.theme import theme
from wardwatch.ui.tile import ECG_SWEEP_S, BedTile
from wardwatch.ui.window_extensions import extend_bed_menu, extend_window


def news2_label(latest: BedNews2 | None) -> tuple[str, str]:
    """The sector's NEWS2 box: "NEWS2 5+ ↑" (a lower bound while a parameter is missing) and its band."""
    if latest is None:
        return "", ""
    return f"NEWS2 {latest.score.text}{(' ' + latest.arrow) if latest.arrow else ''}", latest.score.band.value


def rule_text(rule: LimitRule) -> str:
    """A limit as the audit trail keeps it before and after a change."""
    low = "-" if rule.low is None else f"{rule.low:g}"
    high = "-" if rule.high is None else f"{rule.high:g}"
    state = "on" if rule.enabled else "off"
    return f"{rule.key} low {low} high {high} {rule.priority.name.lower()} delay {rule.delay_s:g} s {state}"


NOT_A_MEDICAL_DEVICE = (
    "WardWatch is not a certified medical device — do not use it for patient care decisions."
)
SUMMARY_PERIOD_S = 0.25


class FrameStats(QObject):
    """Counts painted frames and their cost (used by the display benchmark; cheap enough to keep on)."""

    painted = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.frames = 0
        self.tick_ms: list[float] = []  # copying samples out of the hub and drawing them into the images
        self.paint_ms: list[float] = []  # Qt painting the dirty strips to the window
        self.frame_ms: list[float] = []  # from the frame tick to the end of its paint
        self.first_paint: float | None = None  # time.monotonic() of the first painted frame
        self.record = False
        self._tick_started: float | None = None

    def tick_started(self) -> None:
        self._tick_started = time.perf_counter()

    def tick_done(self) -> None:
        if self._tick_started is not None and self.record:
            self.tick_ms.append((time.perf_counter() - self._tick_started) * 1000)

    def paint_done(self, started: float) -> None:
        now = time.perf_counter()
        if self.first_paint is None:
            self.first_paint = time.monotonic()
            self.painted.emit()
        if self.record:
            self.frames += 1
            self.paint_ms.append((now - started) * 1000)
            if self._tick_started is not None:
                self.frame_ms.append((now - self._tick_started) * 1000)
        self._tick_started = None


class MainWindow(QMainWindow):
    def __init__(self, station: Station, fps: float = 30.0) -> None:
        super().__init__()
        self.station = station
        self.fps = fps
        self.stats = FrameStats()
        self.setWindowTitle(f"WardWatch — {station.name}")
        self.setObjectName("WardWatchMain")
        t = theme()
        self.setStyleSheet(
            f"QMainWindow, QWidget#grid {{ background: {t.colours['background']['window']}; }}"
            f" QStatusBar, QStatusBar QLabel {{ background: {t.colours['background']['header']};"
            f" color: {t.colours['text']['normal']}; }}"
            f" QLabel#notice {{ color: {t.colours['state']['link_warn']}; font-weight: bold; }}"
            f" QLabel#fault {{ background: {t.colours['alarm']['fault_bg']};"
            f" color: {t.colours['alarm']['fault_fg']};"
            " font-weight: bold; font-size: 18px; padding: 4px; }"
            f" QWidget#alarmBar {{ background: {t.colours['background']['header']}; }}"
        )
        self.tiles: list[BedTile] = []
        self._grid = QWidget()
        self._grid.setObjectName("grid")
        layout = QGridLayout(self._grid)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(3)
        cols, _rows = grid_shape(len(station.beds))
        for i, bed in enumerate(station.beds):
            # Golden-ratio phases spread the sectors' wrap points evenly over the sweep.
            tile = BedTile(bed, station.hub, phase_s=(i * 0.6180339887) % 1.0 * ECG_SWEEP_S)
            tile.activated.connect(self.open_bed)
            tile.menuRequested.connect(self._bed_menu)
            layout.addWidget(tile, i // cols, i % cols)
            self.tiles.append(tile)
        self.alarm_bar = AlarmBar()
        self.alarm_bar.acknowledgeRequested.connect(self.acknowledge_all)
        self.alarm_bar.pauseRequested.connect(self.toggle_audio_pause)
        self.alarm_bar.listRequested.connect(lambda: self.alarms_dialog(held_back=True))
        self.alarm_bar.lines.bedClicked.connect(self.open_bed)
        self.alarm_bar.lines.reasonClicked.connect(self.show_alarm_reason)
        self._fault_label = QLabel()
        self._fault_label.setObjectName("fault")
        self._fault_label.setVisible(False)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self._fault_label)
        column.addWidget(self.alarm_bar)
        column.addWidget(self._grid, 1)
        self.setCentralWidget(central)
        # Who acts: every action below asks the one authorisation check (wardwatch.app.security.access)
        # through `authorized`. A window built without the composition root has no security service and
        # acts as the station (embedding, display benches); `wardwatch` always starts the service.
        service = station.services.get(SERVICE_NAME)
        self.security: SecurityService | None = service if isinstance(service, SecurityService) else None
        self.access = self.security.access if self.security is not None else AccessControl.without_users()
        # what to do when the check says no (the security hooks open the login or explain); set by them
        self.on_refused: Callable[[Decision], None] = self._tell_refused
        self._alarm_version = -1
        self._labels = {STATION_BED: "Station", **{b.bed_id: b.label for b in station.beds}}
        self.sound = StationSound(self)
        self._alarms_dialog: AlarmsDialog | None = None
        self._build_status_bar()
        self._build_menus()
        self.bed_views: dict[str, QWidget] = {}
        self._summary_cursor = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._frame)
        self._clock_timer = QTimer(self)
        self._clock_timer.timeout.connect(self._update_status)
        self.bed_view_factory: Callable[[str], QWidget] | None = None

    # -- set-up --------------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = QStatusBar()
        bar.setSizeGripEnabled(False)
        self._station_label = QLabel(f"  {self.station.name}  ")
        self._clock_label = QLabel()
        self._sources_label = QLabel()
        self._recording_label = QLabel()
        self._user_label = QLabel("User: —")
        notice = QLabel(NOT_A_MEDICAL_DEVICE)
        notice.setObjectName("notice")
        bar.addWidget(self._station_label)
        bar.addWidget(self._clock_label)
        bar.addWidget(self._sources_label)
        bar.addWidget(self._recording_label)
        bar.addWidget(self._user_label)
        bar.addPermanentWidget(notice)
        self.setStatusBar(bar)
        self._update_status()

    def _build_menus(self) -> None:
        ward = self.menuBar().addMenu("&Ward")
        for text, slot in (
            ("&Admit patient…", self.admit_dialog),
            ("&Move patient…", self.move_dialog),
            ("&Discharge patient…", self.discharge_dialog),
            ("Assign &source…", self.source_dialog),
        ):
            action = QAction(text, self)
            action.triggered.connect(lambda _=False, s=slot: s(None))
            ward.addAction(action)
        alarms = self.menuBar().addMenu("A&larms")
        for text, key, slot in (
            ("&Acknowledge all", Qt.Key.Key_F2, self.acknowledge_all),
            ("Audio &pause / resume", Qt.Key.Key_F3, self.toggle_audio_pause),
            ("Alarms and &held back…", Qt.Key.Key_F4, lambda: self.alarms_dialog(held_back=True)),
        ):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.triggered.connect(lambda _=False, f=slot: f())
            alarms.addAction(action)
        view = self.menuBar().addMenu("&View")
        full = QAction("&Full screen", self)
        full.setShortcut(QKeySequence(Qt.Key.Key_F11))
        full.triggered.connect(self._toggle_full_screen)
        view.addAction(full)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About WardWatch", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)
        extend_window(self)

    # -- running -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._timer.start(max(1, round(1000 / self.fps)))
        self._clock_timer.start(1000)
        self._frame()

    def stop(self) -> None:
        self._timer.stop()
        self._clock_timer.stop()
        self.sound.silence()

    def _frame(self) -> None:
        self.stats.tick_started()
        now = time.time()
        # Each sector's header and numerics are refreshed every SUMMARY_PERIOD_S, a slice of the
        # sectors per frame, so that the cost is spread evenly instead of landing on one frame.
        per_frame = max(1, math.ceil(len(self.tiles) / max(1.0, SUMMARY_PERIOD_S * self.fps)))
        start = self._summary_cursor
        self._summary_cursor = (start + per_frame) % max(1, len(self.tiles))
        n = len(self.tiles)
        snap = self.station.alarms.snapshot
        self._show_alarms(snap, now)
        paused = pause_text(snap.pause.remaining(now)) if snap.pause else ""
        for i, tile in enumerate(self.tiles):
            if (i - start) % n < per_frame:
                tile.refresh_summary(now)
                tile.set_news2(*news2_label(self.station.news2.latest(tile.bed.bed_id)))
            tile.set_alarm(tile_alarm(snap, tile.bed.bed_id), now, paused)
            tile.advance(now)
            tile.flush()
        self.stats.tick_done()

    def _show_alarms(self, snap: AlarmSnapshot, now: float) -> None:
        """Alarm bar, fault banner and sound from the engine's newest snapshot (memory only)."""
        self.alarm_bar.update_state(snap, self._labels, now, self.sound.problem)
        if snap.version == self._alarm_version:
            return
        self._alarm_version = snap.version
        for tile in self.tiles:  # limits change rarely; the snapshot version covers their changes
            tile.set_limits(limit_texts(self.station.alarms.settings_for(tile.bed.bed_id)))
        if snap.fault:
            self._fault_label.setText(f"⚠ ALARM SYSTEM FAULT — {snap.fault}. Watch the bedside monitors.")
        self._fault_label.setVisible(bool(snap.fault))
        self.sound.show(snap.sounding_priority, snap.pause is not None, snap.escalated)

    def event(self, e: QEvent) -> bool:
        # Qt sends UpdateRequest to the top-level window when it paints the dirty regions of a frame.
        if e.type() == QEvent.Type.UpdateRequest:
            started = time.perf_counter()
            handled = super().event(e)
            self.stats.paint_done(started)
            return handled
        return super().event(e)

    def _update_status(self) -> None:
        now = dt.datetime.now()
        self._clock_label.setText(now.strftime("  %a %d %b %Y  %H:%M:%S  "))
        states = [s.status.state for s in self.station.sources.values()]
        up = sum(1 for s in states if s is LinkState.CONNECTED)
        self._sources_label.setText(f"  Sources: {up}/{len(self.station.beds)} connected  ")
        self._recording_label.setText(f"  Recording: {self.station.recording}  ")
        actor = self.access.actor
        if self.access.unsecured:
            self._user_label.setText("  User: station (no user directory)  ")
        elif actor is None:
            self._user_label.setText("  LOCKED — log in to act (Ctrl+L)  ")
        else:
            self._user_label.setText(f"  User: {actor.name} ({self.access.permissions.title(actor.role)})  ")

    # -- authorisation ---------------------------------------------------------------------------------
    @property
    def user(self) -> str:
        """The name actions are recorded under: the logged-in user's ("station" without a service)."""
        actor = self.access.actor
        return actor.name if actor is not None else "(locked)"

    def authorized(
        self, action: Action | str, target: str = "", *, before: str = "", after: str = "", detail: str = ""
    ) -> str | None:
        """The one check for an action of this window (and of any feature's hook): the user name to act
        as, or None when refused (audited, and the person is told why or asked to log in)."""
        decision = self.access.check(action, target, before=before, after=after, detail=detail)
        if decision:
            return decision.user
        self.on_refused(decision)
        return None

    def permitted(self, action: Action | str, target: str = "") -> bool:
        """Before a dialog opens: True if the action may be taken (nothing audited yet); otherwise the
        refusal is audited and shown, so nobody fills in a form they cannot submit."""
        return self.access.allows(action) or self.authorized(action, target) is not None

    def _tell_refused(self, decision: Decision) -> None:
        self.statusBar().showMessage(decision.reason, 8000)

    # -- actions -------------------------------------------------------------------------------------
    def open_bed(self, bed_id: str) -> None:
        if self.bed_view_factory is None:
            return
        view = self.bed_views.get(bed_id)
        if view is None:
            view = self.bed_view_factory(bed_id)
            self.bed_views[bed_id] = view
            if hasattr(view, "set_mask_names"):  # as the sectors: names hidden while locked
                view.set_mask_names(self.tiles[0].mask_names if self.tiles else False)
            view.destroyed.connect(lambda *_a, b=bed_id: self.bed_views.pop(b, None))
        view.show()
        view.raise_()
        view.activateWindow()

    def refresh_beds(self) -> None:
        self._labels = {STATION_BED: "Station", **{b.bed_id: b.label for b in self.station.beds}}
        for tile in self.tiles:
            tile.set_bed(self.station.bed(tile.bed.bed_id))

    def acknowledge_all(self) -> None:
        if (user := self.authorized(Action.ACKNOWLEDGE, "all beds")) is not None:
            self.station.alarms.acknowledge_all(user)

    def acknowledge_bed(self, bed_id: str) -> None:
        if (user := self.authorized(Action.ACKNOWLEDGE, bed_id)) is not None:
            self.station.alarms.acknowledge_bed(bed_id, user)

    def acknowledge_alarm(self, alarm_id: int) -> bool:
        if (user := self.authorized(Action.ACKNOWLEDGE, f"alarm {alarm_id}")) is None:
            return False
        return self.station.alarms.acknowledge(alarm_id, user)

    def toggle_audio_pause(self) -> None:
        paused = self.station.alarms.snapshot.pause is not None
        user = self.authorized(
            Action.AUDIO_PAUSE,
            "station",
            before="paused" if paused else "sounding",
            after="sounding" if paused else "paused",
        )
        if user is None:
            return
        if paused:
            self.station.alarms.resume_audio(user)
        else:
            self.station.alarms.pause_audio(user)

    def alarms_dialog(self, held_back: bool = False) -> AlarmsDialog:
        dialog = self._alarms_dialog
        if dialog is None:
            dialog = AlarmsDialog(
                lambda: self.station.alarms.snapshot,
                lambda: self._labels,
                self.acknowledge_alarm,
                self.open_bed,
                self,
                history=self.station.queries.journal_between if self.station.queries.available else None,
            )
            self._alarms_dialog = dialog
        if held_back:
            dialog.show_held_back()
        dialog.show()
        dialog.raise_()
        return dialog

    def limits_dialog(self, bed_id: str, parent: QWidget | None = None) -> LimitsDialog | None:
        if not self.permitted(Action.LIMITS_PATIENT, bed_id):
            return None
        engine = self.station.alarms
        dialog = LimitsDialog(self._labels.get(bed_id, bed_id), engine.settings_for(bed_id), parent or self)

        def apply() -> None:
            settings = engine.settings_for(bed_id)
            for rule in dialog.changed_rules():
                old = settings.rule(rule.key)
                user = self.authorized(
                    Action.LIMITS_PATIENT, bed_id, before=rule_text(old) if old else "", after=rule_text(rule)
                )
                if user is not None:
                    engine.set_limit(bed_id, rule, user)

        dialog.accepted.connect(apply)
        dialog.open()
        return dialog

    def entries_dialog(self, bed_id: str, parent: QWidget | None = None) -> EntriesDialog | None:
        if not self.permitted(Action.OBSERVATION, bed_id):
            return None
        news2 = self.station.news2
        dialog = EntriesDialog(self._labels.get(bed_id, bed_id), news2.entries(bed_id), parent or self)

        def apply() -> None:
            user = self.authorized(Action.OBSERVATION, bed_id, after=dialog.summary())
            if user is None:
                return
            news2.set_entries(bed_id, dialog.entries(user, self.station.clock.now()))
            self.station.alarms.record_entry(bed_id, dialog.summary(), user)

        dialog.accepted.connect(apply)
        dialog.open()
        return dialog

    def show_alarm_reason(self, alarm_id: int) -> None:
        self.alarms_dialog().select(alarm_id)

    def _bed_menu(self, bed_id: str, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction("Open bed view", lambda: self.open_bed(bed_id))
        menu.addAction("Acknowledge this bed's alarms", lambda: self.acknowledge_bed(bed_id))
        menu.addAction("Alarm limits…", lambda: self.limits_dialog(bed_id))
        menu.addAction("Observations for NEWS2…", lambda: self.entries_dialog(bed_id))
        menu.addSeparator()
        menu.addAction("Admit patient…", lambda: self.admit_dialog(bed_id))
        menu.addAction("Move patient…", lambda: self.move_dialog(bed_id))
        menu.addAction("Discharge patient…", lambda: self.discharge_dialog(bed_id))
        menu.addAction("Assign source…", lambda: self.source_dialog(bed_id))
        extend_bed_menu(self, menu, bed_id)
        menu.exec(pos)

    def _run_ward_action(self, action: Callable[[], None]) -> None:
        try:
            action()
        except WardError as exc:
            QMessageBox.warning(self, "WardWatch", str(exc))
        self.refresh_beds()

    def admit_dialog(self, bed_id: str | None, parent: QWidget | None = None) -> None:
        if not self.permitted(Action.ADMIT, bed_id or ""):
            return
        dialog = AdmitDialog(self.station, bed_id, parent or self)
        if dialog.exec() and self.authorized(Action.ADMIT, dialog.bed_id()) is not None:
            self._run_ward_action(lambda: self.station.admit(dialog.bed_id(), dialog.patient()))

    def move_dialog(self, bed_id: str | None, parent: QWidget | None = None) -> None:
        if not self.permitted(Action.MOVE, bed_id or ""):
            return
        dialog = MoveDialog(self.station, bed_id, parent or self)
        if dialog.exec() and (
            self.authorized(Action.MOVE, dialog.from_bed(), before=dialog.from_bed(), after=dialog.to_bed())
            is not None
        ):
            self._run_ward_action(lambda: self.station.move(dialog.from_bed(), dialog.to_bed()))

    def discharge_dialog(self, bed_id: str | None, parent: QWidget | None = None) -> None:
        if not self.permitted(Action.DISCHARGE, bed_id or ""):
            return
        dialog = DischargeDialog(self.station, bed_id, parent or self)
        if dialog.exec() and self.authorized(Action.DISCHARGE, dialog.bed_id()) is not None:
            self._run_ward_action(lambda: self.station.discharge(dialog.bed_id()))

    def source_dialog(self, bed_id: str | None, parent: QWidget | None = None) -> None:
        if not self.permitted(Action.ASSIGN_SOURCE, bed_id or ""):
            return
        dialog = SourceDialog(self.station, bed_id, parent or self)
        if not dialog.exec():
            return
        before = self.station.bed(dialog.bed_id()).source_spec or "none"
        after = dialog.spec() or "none"
        if self.authorized(Action.ASSIGN_SOURCE, dialog.bed_id(), before=before, after=after) is not None:
            self._run_ward_action(lambda: self.station.assign_source(dialog.bed_id(), dialog.spec()))

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About WardWatch",
            "<b>WardWatch</b> — an open central station for hospital wards.<br><br>"
            f"<b>{NOT_A_MEDICAL_DEVICE}</b>",
        )

    def closeEvent(self, event: object) -> None:
        self.stop()
        for view in list(self.bed_views.values()):
            view.close()
        super().closeEvent(event)  # type: ignore[arg-type]
