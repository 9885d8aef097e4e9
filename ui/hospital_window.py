"""The hospital page: beds of other stations, read-only, grouped by ward, painted with the station's own
bed tiles from the viewer's in-memory house snapshot on a timer.

Each tile says its ward and bed ("icu · Bed 3"), the station it comes from and the age of that link.
Double-click opens the bed with its waves (the viewer renews its lease while it is open). A remote
alarm is acknowledged only by a role granted `alarm.acknowledge_remote`; the request goes to the owning
station, and its answer is shown. Remote alarms sound through the station's alarm audio as `[mqtt]
sound` says (all, high, none). No admission, limits or sources here: those belong to the owning station.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.alarms.display import pause_text, tile_alarm
from wardwatch.app.alarms.model import Alarm, AlarmSnapshot, State
from wardwatch.app.domain import Bed, LinkState, Patient
from wardwatch.app.hospital.house import (
    EMPTY_HOUSE,
    STATION_LOST_KEY,
    HouseSnapshot,
    RemoteBed,
    RemoteStation,
    station_key,
    without_sound,
)
from wardwatch.app.hospital.viewer import AckOutcome, HospitalViewer
from wardwatch.app.hub import StreamHub
from wardwatch.app.security.access import AccessControl, Decision
from wardwatch.app.security.actions import Action
from wardwatch.app.security.service import SecurityService
from wardwatch.ui.alarm_audio import StationSound
from wardwatch.ui.alarm_bar import AlarmBar
from wardwatch.ui.theme import theme
from wardwatch.ui.tile import ECG_SWEEP_S, BedTile

FRAME_FPS = 15.0  # remote beds: waves only while a bed is open, so the page needs fewer frames
SUMMARY_PERIOD_S = 0.5
TILE_HEIGHT = 130  # at least: a few wards fill the screen, many scroll
COLUMNS = 4
LINK_FRESH_S = 4.0  # older than two heartbeats: the badge turns amber
AUDIO_PAUSE_S = 120.0
WAVES_ON_OPENING = (
    "Waves: double-click to open"  # the viewer's own audio pause (its sound only: the stations keep sounding)
)


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "never heard"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def link_badge(bed: RemoteBed, station: RemoteStation | None, now: float) -> tuple[str, LinkState]:
    """The tile's link badge: the source station and how old its link is."""
    heard = station.last_heard if station is not None else bed.last_heard
    age = None if heard is None else max(0.0, now - heard)
    if bed.station_lost:
        return f"{bed.station} · no data {age_text(age)}", LinkState.DISCONNECTED
    device = bed.link_state
    if device is not None and device is not LinkState.CONNECTED:
        # the station is heard, but its bedside device is not: say so, as the station's own tile does
        words = "lost" if device is LinkState.DISCONNECTED else device.value
        return f"{bed.station} · bedside link {words}", device
    state = LinkState.CONNECTED if age is not None and age <= LINK_FRESH_S else LinkState.STARTING
    return f"{bed.station} · link {age_text(age)}", state


def local_bed(remote: RemoteBed) -> Bed:
    """The tile's Bed: the ward and bed as title; the patient only for the header's colour."""
    patient = None
    if remote.patient is not None:
        patient = Patient(remote.patient.mrn, remote.patient.name, "")
    source = f"mqtt:{remote.device}" if remote.device else None
    return Bed(remote.key, remote.title, patient, source)


def news2_text(bed: RemoteBed) -> tuple[str, str]:
    """The header's NEWS2 box (with the risk when it is above its threshold) and its band."""
    text, band = "", ""
    if bed.news2 is not None and bed.news2.score is not None:
        text, band = bed.news2.text, (bed.news2.band or "").replace("-", "_")
    if bed.risk is not None and bed.risk.above:
        text = f"{text} · risk {bed.risk.percent_text}".lstrip(" ·")
        band = band or "low_medium"
    return text, band


class RemoteBedTile(BedTile):
    """A bed tile of another station: its header names the source station and the link age."""

    def __init__(
        self, remote: RemoteBed, hub: StreamHub, parent: QWidget | None = None, phase_s: float = 0.0
    ) -> None:
        super().__init__(local_bed(remote), hub, parent, phase_s)
        self.remote = remote
        self.station: RemoteStation | None = None

    def set_remote(self, remote: RemoteBed, station: RemoteStation | None) -> None:
        self.station = station
        if remote == self.remote:
            return
        old = self.remote
        self.remote = remote
        if (old.title, old.patient, old.device) != (remote.title, remote.patient, remote.device):
            self.set_bed(local_bed(remote))

    def refresh_summary(self, now: float, force: bool = False) -> None:
        super().refresh_summary(now, force)
        link, state = link_badge(self.remote, self.station, now)
        r = self.remote
        if self.mask_names and r.patient is not None:
            patient = "•••"
        elif r.patient is not None:
            patient = r.patient.text
        else:
            patient = "not admitted" if r.device else "no patient"
        summary = replace(self.summary, link_text=link, link_state=state, patient_text=patient)
        if summary != self.summary:
            self.summary = summary
            self._mark_dirty(self._layout.header)

    def _paint_wave_overlay(self, p: QPainter, bounds: QRect) -> None:
        # a remote bed's waves stream only while it is open: say so, rather than a worrying "No signal"
        s = self.summary
        if s.occupied and not self._traces and not s.message:
            p.setFont(self._font_small)
            p.setPen(self._theme.colour("text", "dim"))
            p.drawText(self._layout.waves, Qt.AlignmentFlag.AlignCenter, WAVES_ON_OPENING)
            return
        super()._paint_wave_overlay(p, bounds)


class RemoteBedDialog(QDialog):
    """One remote bed opened: its tile large with waves streaming, its alarms and their acknowledgement."""

    def __init__(self, window: HospitalWindow, remote: RemoteBed) -> None:
        super().__init__(window)
        self.window_ = window
        self.key = remote.key
        self.setWindowTitle(f"{remote.title} — from {remote.station} (read-only)")
        self.resize(1000, 560)
        self.tile = RemoteBedTile(remote, window.viewer.hub, self)
        self.tile.setMinimumHeight(300)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.alarms = QListWidget()
        self.alarms.setMaximumHeight(120)
        self.ack_button = QPushButton("Acknowledge selected alarm")
        self.ack_all_button = QPushButton("Acknowledge all of this bed")
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.ack_button.clicked.connect(self._ack_selected)
        self.ack_all_button.clicked.connect(lambda: window.acknowledge_remote(self.key, 0, "*"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.ack_button)
        buttons.addWidget(self.ack_all_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tile, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.alarms)
        layout.addLayout(buttons)
        layout.addWidget(self.result)
        self._shown: tuple[Alarm, ...] = ()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.frame)
        window.viewer.open_bed(self.key)  # the station streams the waves while this is open
        self._timer.start(40)

    def frame(self) -> None:
        now = time.time()
        snap = self.window_.snapshot
        remote = snap.bed(self.key)
        if remote is not None:
            station = snap.station(station_key(remote.site, remote.ward))
            self.tile.set_remote(remote, station)
            self.tile.mask_names = self.window_.mask_names
            self.tile.refresh_summary(now)
            self.tile.set_news2(*news2_text(remote))
            self.tile.set_alarm(tile_alarm(snap.alarms, self.key), now)
            self._show_details(remote)
        self.tile.advance(now)
        self.tile.flush()
        allowed = self.window_.can_acknowledge_remote()
        self.ack_button.setEnabled(allowed and bool(self._shown))
        self.ack_all_button.setEnabled(allowed and bool(self._shown))
        outcome = self.window_.last_outcome(self.key)
        if outcome is not None:
            self.result.setText(outcome_text(outcome))

    def _show_details(self, remote: RemoteBed) -> None:
        parts = []
        if remote.news2 is not None and remote.news2.score is not None:
            parts.append(f"{remote.news2.text} ({remote.news2.band or '?'}) {remote.news2.detail}".strip())
        if remote.risk is not None and remote.risk.risk is not None:
            factors = "; ".join(remote.risk.factors[:3])
            parts.append(f"Deterioration risk {remote.risk.percent_text}{': ' + factors if factors else ''}")
        if remote.conditions:
            parts.append("Technical: " + ", ".join(remote.conditions))
        text = "   ·   ".join(parts) or "No NEWS2 or risk from this bed yet."
        if text != self.details.text():
            self.details.setText(text)
        if remote.alarms != self._shown:
            self._shown = remote.alarms
            selected = self.alarms.currentRow()
            self.alarms.clear()
            for a in remote.alarms:
                item = QListWidgetItem(f"{a.banner()}   {a.state.value}")
                item.setData(Qt.ItemDataRole.UserRole, (a.alarm_id, a.key))
                self.alarms.addItem(item)
            if 0 <= selected < self.alarms.count():
                self.alarms.setCurrentRow(selected)

    def _ack_selected(self) -> None:
        item = self.alarms.currentItem() or self.alarms.item(0)
        if item is None:
            return
        alarm_id, key = item.data(Qt.ItemDataRole.UserRole)
        self.window_.acknowledge_remote(self.key, int(alarm_id), str(key))

    def done(self, result: int) -> None:
        self._timer.stop()
        self.window_.viewer.close_bed(self.key)
        self.window_.bed_views.pop(self.key, None)
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        self.window_.viewer.close_bed(self.key)
        self.window_.bed_views.pop(self.key, None)
        super().closeEvent(event)


def outcome_text(outcome: AckOutcome) -> str:
    if outcome.waiting:
        return "Acknowledgement sent to the owning station — waiting for its answer…"
    return f"{'✓ ' if outcome.ok else '✕ Not acknowledged: '}{outcome.detail}"


class HospitalPage(QWidget):
    """The remote beds, one section per ward (station), tiles in a fixed grid inside each."""

    def __init__(self, window: HospitalWindow) -> None:
        super().__init__()
        self.window_ = window
        self.setObjectName("grid")
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(2, 2, 2, 2)
        self.column.setSpacing(4)
        self.tiles: dict[str, RemoteBedTile] = {}
        self.headers: dict[str, QLabel] = {}
        self._layout_key: tuple[tuple[str, tuple[str, ...]], ...] = ()
        self.empty = QLabel("Waiting for stations on the hospital network…")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.column.addWidget(self.empty)

    def rebuild(self, snap: HouseSnapshot) -> bool:
        """Lay the sections out again when the set of stations or beds changed; True if it did."""
        key = tuple((s.key, tuple(b.key for b in snap.beds_of(s.key))) for s in self._stations(snap))
        if key == self._layout_key:
            return False
        self._layout_key = key
        while self.column.count():
            item = self.column.takeAt(0)
            widget = item.widget()
            if widget is not None and widget is not self.empty:
                widget.deleteLater()
        old_tiles = self.tiles
        self.tiles, self.headers = {}, {}
        if not key:
            self.column.addWidget(self.empty)
            self.empty.show()
            return True
        self.empty.hide()
        i = 0
        for station_key_, bed_keys in key:
            header = QLabel()
            header.setObjectName("wardHeader")
            header.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            self.headers[station_key_] = header
            self.column.addWidget(header)
            grid_widget = QWidget()
            grid = QGridLayout(grid_widget)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setSpacing(3)
            for n, bed_key in enumerate(bed_keys):
                remote = snap.bed(bed_key)
                if remote is None:
                    continue
                tile = old_tiles.pop(bed_key, None)
                if tile is None:
                    phase = (i * 0.6180339887) % 1.0 * ECG_SWEEP_S
                    tile = RemoteBedTile(remote, self.window_.viewer.hub, phase_s=phase)
                    tile.activated.connect(self.window_.open_bed)
                    tile.menuRequested.connect(self.window_.bed_menu)
                tile.setMinimumHeight(TILE_HEIGHT)
                grid.addWidget(tile, n // COLUMNS, n % COLUMNS)
                self.tiles[bed_key] = tile
                i += 1
            self.column.addWidget(grid_widget, max(1, -(-len(bed_keys) // COLUMNS)))  # rows share the height
        for tile in old_tiles.values():
            tile.deleteLater()
        return True

    @staticmethod
    def _stations(snap: HouseSnapshot) -> list[RemoteStation]:
        return sorted(snap.stations, key=lambda s: s.key)

    def update_headers(self, snap: HouseSnapshot, now: float) -> None:
        for station in snap.stations:
            header = self.headers.get(station.key)
            if header is None:
                continue
            age = station.link_age(now)
            if station.lost:
                state = "NO DATA"
            elif station.state == "online":
                state = "online"
            else:
                state = station.state
            text = f"  {station.ward} — {station.name} ({station.key}) · {state} · link {age_text(age)}"
            if header.text() != text:
                header.setText(text)
                header.setProperty("lost", station.lost)
                header.setStyleSheet(
                    f"color: {theme().colours['state']['link_down' if station.lost else 'link_ok']};"
                    " font-weight: bold; font-size: 15px;"
                )


class HospitalWindow(QMainWindow):
    """The hospital page as a window: the viewer-only main window (`wardwatch --view`), or opened from a
    station's Hospital menu. Offers what the security hooks need of a main window (tiles, bed_views,
    authorized, permitted, on_refused, the status bar), so logging in works the same way."""

    def __init__(
        self,
        viewer: HospitalViewer,
        access: AccessControl,
        security: SecurityService | None = None,
        fps: float = FRAME_FPS,
        authorize: Callable[..., str | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.access = access
        self.security = security
        self.fps = fps
        self._authorize = authorize
        self.sound_setting = viewer.settings.sound
        self.setWindowTitle(f"WardWatch — hospital: {', '.join(map(str, viewer.targets))} (read-only)")
        self.setObjectName("WardWatchHospital")
        t = theme()
        self.setStyleSheet(
            f"QMainWindow, QWidget#grid {{ background: {t.colours['background']['window']}; }}"
            f" QStatusBar, QStatusBar QLabel {{ background: {t.colours['background']['header']};"
            f" color: {t.colours['text']['normal']}; }}"
            f" QWidget#alarmBar {{ background: {t.colours['background']['header']}; }}"
            f" QLabel#fault {{ background: {t.colours['alarm']['fault_bg']};"
            f" color: {t.colours['alarm']['fault_fg']}; font-weight: bold; font-size: 18px; padding: 4px; }}"
        )
        self.snapshot: HouseSnapshot = viewer.house.snapshot()
        self.on_refused: Callable[[Decision], None] = self._tell_refused
        self.bed_views: dict[str, QWidget] = {}
        self.rapid: QWidget | None = None
        self._pending: dict[str, str] = {}  # bed key -> its latest acknowledgement request
        self._told: set[str] = set()
        self._pause_until = 0.0
        self._summary_at = 0.0
        self._labels: tuple[int, dict[str, str]] = (-1, {})
        # Alarm ids repeat across stations, so the bar is given row ids (1, 2, …) and this maps a row id
        # back to its alarm: "why" opens that alarm's own bed. Rebuilt only when the house changed.
        self._bar_rows: tuple[int, AlarmSnapshot, dict[int, Alarm]] = (-1, EMPTY_HOUSE.alarms, {})
        self._fault = QLabel()
        self._fault.setObjectName("fault")
        self._fault.setVisible(False)
        self.alarm_bar = AlarmBar()
        self.alarm_bar.ack_button.setText("Acknowledge\nremote (F2)")
        self.alarm_bar.acknowledgeRequested.connect(self.acknowledge_top)
        self.alarm_bar.pauseRequested.connect(self.toggle_audio_pause)
        # the bar's list button is the station's own alarm list; here the rapid-response overview stands there
        self.alarm_bar.list_button.hide()
        self.rapid_button = QPushButton("Rapid response\n(F4)")
        self.rapid_button.setMinimumSize(self.alarm_bar.list_button.minimumSize())
        self.rapid_button.setSizePolicy(self.alarm_bar.list_button.sizePolicy())
        self.rapid_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.rapid_button.clicked.connect(self.open_rapid_response)
        self.alarm_bar.layout().addWidget(self.rapid_button)
        self.alarm_bar.lines.bedClicked.connect(self.open_bed)
        self.alarm_bar.lines.reasonClicked.connect(self._open_alarm)
        self.page = HospitalPage(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.page)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self._fault)
        column.addWidget(self.alarm_bar)
        column.addWidget(scroll, 1)  # the security banner goes in above this, at index 2
        self.setCentralWidget(central)
        self.sound = StationSound(self)
        self._build_status_bar()
        self._build_menus()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.frame)
        self._clock = QTimer(self)
        self._clock.timeout.connect(self._update_status)

    # -- what the security hooks expect of a main window -----------------------------------------------
    @property
    def tiles(self) -> list[BedTile]:
        return list(self.page.tiles.values())

    @property
    def mask_names(self) -> bool:
        """Names are hidden while nobody is logged in (as on the station's own sectors)."""
        return (
            self.security is not None
            and self.security.has_directory
            and self.access.actor is None
            and self.security.settings.mask_names_when_locked
        )

    def authorized(
        self, action: Action | str, target: str = "", *, before: str = "", after: str = "", detail: str = ""
    ) -> str | None:
        """The user to act as, or None after the refusal was audited and shown (the station's check)."""
        if self._authorize is not None:
            return self._authorize(action, target, before=before, after=after, detail=detail)
        decision = self.access.check(action, target, before=before, after=after, detail=detail)
        if decision:
            return decision.user
        self.on_refused(decision)
        return None

    def permitted(self, action: Action | str, target: str = "") -> bool:
        return self.access.allows(action) or self.authorized(action, target) is not None

    def can_acknowledge_remote(self) -> bool:
        """Whether the person on this station may acknowledge another station's alarm (greys buttons)."""
        return self.access.allows(Action.ACKNOWLEDGE_REMOTE)

    def _tell_refused(self, decision: Decision) -> None:
        self.statusBar().showMessage(decision.reason, 8000)

    # -- set-up --------------------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = QStatusBar()
        bar.setSizeGripEnabled(False)
        self._network_label = QLabel()
        self._clock_label = QLabel()
        self._user_label = QLabel()
        bar.addWidget(self._network_label)
        bar.addWidget(self._clock_label)
        bar.addWidget(self._user_label)
        notice = QLabel("Read-only view of other stations. Not a certified medical device.")
        bar.addPermanentWidget(notice)
        self.setStatusBar(bar)
        self._update_status()

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&Hospital")
        for text, key, slot in (
            ("&Rapid response…", "F4", self.open_rapid_response),
            ("&Acknowledge the most urgent remote alarm", "F2", self.acknowledge_top),
            ("Audio &pause / resume (this viewer)", "F3", self.toggle_audio_pause),
            ("&Full screen", "F11", self._toggle_full_screen),
        ):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _=False, f=slot: f())
            menu.addAction(action)
        self.hospital_menu = menu

    def _update_status(self) -> None:
        v = self.viewer
        where = ", ".join(map(str, v.targets))
        if v.connected:
            text = f"  Hospital network: {v.settings.url} · viewing {where}  "
        else:
            text = f"  Hospital network NOT CONNECTED ({v.last_error or 'connecting'}) · {where}  "
        self._network_label.setText(text)
        self._clock_label.setText(time.strftime("  %H:%M:%S  "))
        actor = self.access.actor
        if self.access.unsecured:
            self._user_label.setText("  User: station (no user directory)  ")
        elif actor is None:
            self._user_label.setText("  LOCKED — log in to act (Ctrl+L)  ")
        else:
            self._user_label.setText(f"  User: {actor.name} ({self.access.permissions.title(actor.role)})  ")

    # -- running -------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._timer.start(max(1, round(1000 / self.fps)))
        self._clock.start(1000)
        self.frame()

    def stop(self) -> None:
        self._timer.stop()
        self._clock.stop()
        self.sound.silence()

    def frame(self) -> None:
        now = time.time()
        snap = self.viewer.house.snapshot()
        self.snapshot = snap
        self.page.rebuild(snap)
        summary_due = now - self._summary_at >= SUMMARY_PERIOD_S
        if summary_due:
            self._summary_at = now
            self.page.update_headers(snap, now)
            self._report_outcomes()
        mask = self.mask_names
        paused = now < self._pause_until
        pause_label = pause_text(self._pause_until - now) if paused else ""
        stations = {s.key: s for s in snap.stations}
        beds = {b.key: b for b in snap.beds}
        for key, tile in self.page.tiles.items():
            remote = beds.get(key)
            if remote is not None:
                tile.set_remote(remote, stations.get(station_key(remote.site, remote.ward)))
            if summary_due:
                tile.mask_names = mask
                tile.refresh_summary(now)
                if remote is not None:
                    tile.set_news2(*news2_text(remote))
            tile.set_alarm(tile_alarm(snap.alarms, key), now, pause_label)
            tile.advance(now)
            tile.flush()
        self._show_alarms(snap.alarms, now, paused)

    def _show_alarms(self, alarms: AlarmSnapshot, now: float, paused: bool) -> None:
        if self._labels[0] != self.snapshot.version:  # the same mapping while nothing changed: no repaint
            self._labels = (self.snapshot.version, {b.key: b.title for b in self.snapshot.beds})
        self.alarm_bar.update_state(self._bar_view(alarms), self._labels[1], now, self.sound.problem)
        audible = without_sound(alarms, self.sound_setting)
        self.sound.show(audible.sounding_priority, paused, audible.escalated)
        lost = [s for s in self.snapshot.stations if s.lost]
        text = ""
        if lost:
            names = ", ".join(s.name for s in lost)
            text = (
                f"⚠ No data from {names}: their beds are not watched from here. Watch them at their station."
            )
        if not self.viewer.connected and self.viewer.started:
            text = "⚠ NOT CONNECTED to the hospital network: remote beds are not watched from here."
        if text != self._fault.text():
            self._fault.setText(text)
        self._fault.setVisible(bool(text))

    # -- actions ---------------------------------------------------------------------------------------------
    def open_bed(self, key: str) -> QDialog | None:
        view = self.bed_views.get(key)
        if view is None:
            remote = self.snapshot.bed(key) or self.viewer.house.snapshot().bed(key)
            if remote is None:
                return None
            view = RemoteBedDialog(self, remote)
            self.bed_views[key] = view
        view.show()
        view.raise_()
        return view if isinstance(view, QDialog) else None

    def _bar_view(self, alarms: AlarmSnapshot) -> AlarmSnapshot:
        """`alarms` with each shown alarm's id replaced by its row id, unique on this viewer."""
        if self._bar_rows[0] != alarms.version:
            rows = {i: a for i, a in enumerate(alarms.alarms, start=1)}
            view = replace(alarms, alarms=tuple(replace(a, alarm_id=i) for i, a in rows.items()))
            self._bar_rows = (alarms.version, view, rows)
        return self._bar_rows[1]

    def _open_alarm(self, row_id: int) -> None:
        """The alarm bar's "why": `row_id` is the row id `_bar_view` gave the alarm, never a station's id."""
        alarm = self._bar_rows[2].get(row_id)
        if alarm is not None:
            self.open_bed(alarm.bed)

    def bed_menu(self, key: str, pos: QPoint) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Open bed (waves)", lambda: self.open_bed(key))
        remote = self.snapshot.bed(key)
        allowed = self.can_acknowledge_remote()
        if remote is not None and remote.alarms:
            menu.addSeparator()
            for a in remote.alarms:
                action = menu.addAction(
                    f"Acknowledge: {a.banner()}",
                    lambda a=a: self.acknowledge_remote(key, a.alarm_id, a.key),
                )
                action.setEnabled(allowed or a.key == STATION_LOST_KEY)
            every = menu.addAction(
                "Acknowledge all of this bed's alarms", lambda: self.acknowledge_remote(key, 0, "*")
            )
            every.setEnabled(allowed)
        menu.popup(pos)
        return menu

    def acknowledge_top(self) -> None:
        """The alarm bar's acknowledge: the most urgent sounding remote alarm."""
        top = next((a for a in self.snapshot.alarms.alarms if a.state in (State.ACTIVE, State.LATCHED)), None)
        if top is None:
            self.statusBar().showMessage("No remote alarm to acknowledge.", 5000)
            return
        self.acknowledge_remote(top.bed, top.alarm_id, top.key)

    def acknowledge_remote(self, key: str, alarm_id: int, alarm_key: str) -> str | None:
        """Send the acknowledgement to the station that owns the bed, as the logged-in user; the request
        id, or None when refused here (or the alarm is this viewer's own "no data")."""
        remote = self.snapshot.bed(key)
        if alarm_key == STATION_LOST_KEY and remote is not None:
            user = self.authorized(Action.ACKNOWLEDGE, f"no data from {remote.station}")
            if user is not None:
                self.viewer.house.acknowledge_lost(station_key(remote.site, remote.ward), user)
            return None
        user = self.authorized(Action.ACKNOWLEDGE_REMOTE, key, detail=f"alarm {alarm_id} {alarm_key}")
        if user is None:
            return None
        actor = self.access.actor
        role = actor.role if actor is not None else ""
        request = self.viewer.acknowledge(key, alarm_id, alarm_key, user, role)
        if request is not None:
            self._pending[key] = request
            station = remote.station if remote is not None else key
            self.statusBar().showMessage(f"Acknowledgement sent to {station}…", 8000)
        return request

    def last_outcome(self, key: str) -> AckOutcome | None:
        request = self._pending.get(key)
        return None if request is None else self.viewer.ack_outcome(request)

    def _report_outcomes(self) -> None:
        for key, request in list(self._pending.items()):
            outcome = self.viewer.ack_outcome(request)
            if outcome is None or outcome.waiting or request in self._told:
                continue
            self._told.add(request)
            remote = self.snapshot.bed(key)
            where = remote.title if remote is not None else key
            self.statusBar().showMessage(f"{where}: {outcome_text(outcome)}", 10000)

    def toggle_audio_pause(self) -> None:
        now = time.time()
        if now < self._pause_until:
            self._pause_until = 0.0
            return
        if (
            self.authorized(Action.AUDIO_PAUSE, "hospital page", before="sounding", after="paused")
            is not None
        ):
            self._pause_until = now + AUDIO_PAUSE_S

    def open_rapid_response(self) -> QWidget:
        from wardwatch.ui.hospital_rapid import RapidResponseView

        if self.rapid is None:
            self.rapid = RapidResponseView(self.viewer.house.snapshot, self.open_bed, self)
        self.rapid.show()
        self.rapid.raise_()
        return self.rapid

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def showEvent(self, event: object) -> None:
        if not self._timer.isActive():
            self.start()
        super().showEvent(event)  # type: ignore[arg-type]

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        for view in list(self.bed_views.values()):
            view.close()
        super().closeEvent(event)
