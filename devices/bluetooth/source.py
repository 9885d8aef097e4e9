"""A Bluetooth LE patch or pulse oximeter as a live bed, on the station's one Bluetooth loop.

Each patch is one task on that loop: find the patch by its address (which also gives its signal
strength), connect, subscribe to every characteristic WardWatch can decode, start the ECG stream of a
Polar strap, then wait. Notifications are decoded as they come (pure decoders) and pushed to the hub.
When the link drops or the patch is out of range the task tries again with a growing pause, so a patch
that comes back is picked up without anyone acting; meanwhile the link badge says so, and the
supervisor turns the silence into "device disconnected" within 5 s.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError
from wardwatch.app.clock import Clock
from wardwatch.app.domain import DeviceStatus, LinkState, TechnicalEvent, TechnicalKind
from wardwatch.devices import polar_pmd
from wardwatch.devices.base import Sink
from wardwatch.devices.bluetooth.gatt import BATTERY_LEVEL, FEEDS, PMD_CONTROL, PMD_DATA, Feed
from wardwatch.devices.bluetooth.runtime import BleRuntime
from wardwatch.devices.decoded import DecodeError
from wardwatch.devices.delivery import Delivery
from wardwatch.devices.link_health import LinkHealth

log = logging.getLogger(__name__)

FIND_TIMEOUT_S = 5.0  # a patch advertises every 0.1-1 s: five seconds of silence means not in range
CONNECT_TIMEOUT_S = 10.0
RETRY_FIRST_S = 0.5  # after a failed connection attempt, doubling up to RETRY_MAX_S
RETRY_MAX_S = 30.0
BATTERY_POLL_S = 60.0  # for batteries that do not notify
RSSI_POLL_S = 30.0
RSSI_LISTEN_S = 2.0
CONTROL_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0  # a patch that never answers a read must not stall its task for ever
# Errors a radio, a stack or a patch can throw at us; each means "not now", never "give up".
LINK_ERRORS = (BleakError, TimeoutError, OSError, EOFError, DecodeError)


class ScanFailed(Exception):
    """Listening for advertisements failed: the radio or its stack is not there, not the patch."""


class BleSource:
    kind = "ble"

    def __init__(self, address: str, bed: str, clock: Clock, runtime: BleRuntime) -> None:
        self.address = address.upper()
        self.source_id = f"ble:{self.address}"
        self.bed = bed
        self.clock = clock
        self.runtime = runtime
        self.decode_errors = 0
        self.retry_s = RETRY_FIRST_S
        self._status = DeviceStatus(self.source_id, self.kind, LinkState.STOPPED)
        self._sink: Sink | None = None
        self._future: concurrent.futures.Future[None] | None = None
        self._stopping = False
        self._failed = False  # a SOURCE_FAILED condition is up for this patch
        self._health = LinkHealth()
        self._rssi: int | None = None
        self._name = ""
        self._last_stamp_ns: int | None = None
        self._scan_error: str | None = None
        self._delivery = Delivery(bed, f"patch {self.address[-5:]}")
        # the pauses of the link's work, here so that a test can shorten them
        self.find_timeout_s = FIND_TIMEOUT_S
        self.battery_poll_s = BATTERY_POLL_S
        self.rssi_poll_s = RSSI_POLL_S
        self.failure_retry_s = RETRY_MAX_S

    # -- Source protocol ----------------------------------------------------------------------------
    @property
    def status(self) -> DeviceStatus:
        return self._status

    def start(self, sink: Sink) -> None:
        self._stopping = False
        self._sink = sink
        self._set(LinkState.STARTING, f"looking for {self.address}")
        self._future = self.runtime.submit(self._guarded(sink))

    def stop(self) -> None:
        """Returns at once (the GUI thread may call it): the task disconnects on the loop on its way out,
        and from now on nothing it still receives reaches the bed, which may already have a new source."""
        self._stopping = True
        future, self._future = self._future, None
        if future is not None:
            future.cancel()
        self._set(LinkState.STOPPED, "", force=True)

    # -- status ---------------------------------------------------------------------------------------
    def _set(self, state: LinkState, detail: str, force: bool = False) -> None:
        if self._stopping and not force:
            return
        now = self.clock.now()
        self._status = DeviceStatus(
            self.source_id,
            self.kind,
            state,
            detail,
            battery_percent=self._delivery.battery_percent,
            decode_errors=self.decode_errors,
            loss_percent=self._health.loss_percent(now),
            rssi_dbm=self._rssi,
        )
        if self._sink is not None:
            self._sink.set_status(self.bed, self._status)

    def _connected(self) -> None:
        self._set(LinkState.CONNECTED, self._name or self.address)

    def _refresh(self) -> None:
        """Show new figures (battery, loss, signal) without changing the link state."""
        self._set(self._status.state, self._status.detail)

    # -- the patch's task ---------------------------------------------------------------------------
    async def _guarded(self, sink: Sink) -> None:
        # An error nobody foresaw (a stack or a patch doing something new) must show on the bed, and
        # must not end the watching of that patch for good: it is tried again, like a lost link.
        while True:
            try:
                await self._run(sink)
            except Exception as exc:
                log.error("patch %s on bed %s failed", self.address, self.bed, exc_info=exc)
                wait = self.failure_retry_s
                self._set(LinkState.FAILED, f"internal error ({type(exc).__name__}), retry in {wait:g} s")
                if not self._failed:
                    self._failed = True
                    sink.push_event(
                        TechnicalEvent(
                            self.bed, TechnicalKind.SOURCE_FAILED, True, self.clock.now(), "Bluetooth patch"
                        )
                    )
                await asyncio.sleep(wait)

    async def _run(self, sink: Sink) -> None:
        # Listening for a patch costs nothing, so an absent patch is listened for all the time and
        # picked up the moment it advertises again. Only connection attempts that fail (a patch heard
        # but refusing, a stack error) wait, longer each time, so a faulty patch cannot hog the radio.
        while True:
            try:
                device = await self._find(self.find_timeout_s)
            except ScanFailed as exc:
                # no adapter, BlueZ down, no permission: say so (not "not in range") and do not spin
                await self._pause(f"no Bluetooth ({exc})")
                continue
            if device is None:
                self._set(LinkState.DISCONNECTED, f"{self.address} not in range, listening")
                continue
            lost = asyncio.Event()
            backends = self.runtime.backends
            kwargs: dict[str, Any] = {} if backends.client is None else {"backend": backends.client}
            client = BleakClient(
                device, disconnected_callback=_setter(lost), timeout=CONNECT_TIMEOUT_S, **kwargs
            )
            subscribed = False
            try:
                await client.connect()
                self._name = client.name if client.name and client.name != self.address else self._name
                await self._subscribe(client, sink)
                subscribed = True
                self.retry_s = RETRY_FIRST_S
                self._connected()
                self._recovered(sink)
                log.info("patch %s connected on bed %s", self.address, self.bed)
                await self._watch(client, lost)
                log.warning("patch %s link lost", self.address)
            except LINK_ERRORS as exc:
                log.info("patch %s: %s", self.address, exc or type(exc).__name__)
            finally:
                await self._disconnect(client)
            if subscribed:
                self._set(LinkState.DISCONNECTED, "link lost, listening")
            else:
                await self._pause("connection failed")

    def _recovered(self, sink: Sink) -> None:
        if self._failed:
            self._failed = False
            sink.push_event(
                TechnicalEvent(
                    self.bed, TechnicalKind.SOURCE_FAILED, False, self.clock.now(), "Bluetooth patch"
                )
            )

    async def _pause(self, detail: str) -> None:
        self._set(LinkState.DISCONNECTED, f"{detail}, retry in {self.retry_s:g} s")
        await asyncio.sleep(self.retry_s)
        self.retry_s = min(RETRY_MAX_S, self.retry_s * 2)

    async def _find(self, timeout_s: float) -> BLEDevice | None:
        """The patch if it advertises within `timeout_s`; notes its signal strength on the way."""
        heard: dict[str, int] = {}

        def match(device: BLEDevice, adv: AdvertisementData) -> bool:
            if device.address.upper() != self.address:
                return False
            heard["rssi"] = adv.rssi
            self._name = adv.local_name or self._name
            return True

        scanner = self.runtime.backends.scanner
        kwargs: dict[str, Any] = {} if scanner is None else {"backend": scanner}
        try:
            device = await BleakScanner.find_device_by_filter(match, timeout=timeout_s, **kwargs)
        except LINK_ERRORS as exc:
            reason = str(exc) or type(exc).__name__
            if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
                reason = "service not running"  # no D-Bus system bus, so no BlueZ
            if reason != self._scan_error:  # once per new reason: a missing adapter is retried for hours
                log.warning("Bluetooth scan for patch %s failed: %s", self.address, reason)
            self._scan_error = reason
            raise ScanFailed(reason) from exc
        self._scan_error = None
        if "rssi" in heard:
            self._rssi = heard["rssi"]
        return device

    async def _subscribe(self, client: BleakClient, sink: Sink) -> None:
        ecg = False
        for service in client.services:
            for char in service.characteristics:
                feed = FEEDS.get(char.uuid)
                if feed is None:
                    continue
                if "read" in char.properties and feed.uuid == BATTERY_LEVEL:
                    self._value(
                        feed, sink, await asyncio.wait_for(client.read_gatt_char(char), READ_TIMEOUT_S)
                    )
                if "notify" in char.properties or "indicate" in char.properties:
                    await client.start_notify(char, self._handler(feed, sink))
                    ecg = ecg or char.uuid == PMD_DATA
        if ecg:
            await self._start_ecg(client)

    def _handler(self, feed: Feed, sink: Sink) -> Callable[[BleakGATTCharacteristic, bytearray], None]:
        def on_value(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            self._value(feed, sink, data)

        return on_value

    def _value(self, feed: Feed, sink: Sink, data: bytes | bytearray) -> None:
        if self._stopping:
            return
        now = self.clock.now()
        try:
            values = feed.decode(bytes(data))
        except DecodeError as exc:
            self.decode_errors += 1
            self._health.add(now, 0, 1)
            log.info("patch %s %s: %s", self.address, feed.what, exc)
            self._refresh()
            return
        lost = self._lost_ecg_frames(values[0].details.get("last_sample_ns"), values) if values else 0
        self._health.add(now, 1, lost)
        battery_before = self._delivery.battery_percent
        self._delivery.push(sink, values, now)
        if lost or self._delivery.battery_percent != battery_before:
            self._refresh()

    def _lost_ecg_frames(self, stamp_ns: object, values: list[Any]) -> int:
        """ECG frames that never arrived, told from the gap between the sensor's own time stamps."""
        if not isinstance(stamp_ns, int) or values[0].samples is None:
            return 0
        last, self._last_stamp_ns = self._last_stamp_ns, stamp_ns
        if last is None or stamp_ns <= last:
            return 0
        frame_ns = len(values[0].samples) / polar_pmd.ECG_RATE_HZ * 1e9
        return max(0, round((stamp_ns - last) / frame_ns) - 1)

    async def _start_ecg(self, client: BleakClient) -> None:
        """Ask a Polar strap for live ECG: indications on the control point first, then the command."""
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        def on_control(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            if not answer.done() and data[:1] == bytes([polar_pmd.RESPONSE]):
                answer.set_result(bytes(data))

        self._last_stamp_ns = None
        await client.start_notify(PMD_CONTROL, on_control)
        await client.write_gatt_char(PMD_CONTROL, polar_pmd.start_ecg_command(), response=True)
        response = polar_pmd.parse_control_response(await asyncio.wait_for(answer, CONTROL_TIMEOUT_S))
        # "already in state" after a reconnect means the stream is running: that is what we asked for
        if not response.ok and response.status != 6:
            raise BleakError(f"ECG stream not started: {response.text}")

    async def _watch(self, client: BleakClient, lost: asyncio.Event) -> None:
        """Wait while the link holds; now and then read a battery that does not notify, and listen
        for the patch's signal strength."""
        loop = asyncio.get_running_loop()
        next_battery = loop.time() + self.battery_poll_s
        next_rssi = loop.time() + self.rssi_poll_s
        battery = client.services.get_characteristic(BATTERY_LEVEL) if client.services else None
        poll_battery = battery is not None and "notify" not in battery.properties
        while not lost.is_set() and client.is_connected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), timeout=min(1.0, self.battery_poll_s))
            now = loop.time()
            if poll_battery and now >= next_battery and battery is not None and self._sink is not None:
                next_battery = now + self.battery_poll_s
                level = await asyncio.wait_for(client.read_gatt_char(battery), READ_TIMEOUT_S)
                self._value(FEEDS[BATTERY_LEVEL], self._sink, level)
            if now >= next_rssi:
                next_rssi = now + self.rssi_poll_s
                # many patches stop advertising while connected: then the last value heard stands
                with contextlib.suppress(ScanFailed):
                    if await self._find(RSSI_LISTEN_S) is not None:
                        self._refresh()

    async def _disconnect(self, client: BleakClient) -> None:
        if not client.is_connected:
            return
        try:
            await asyncio.wait_for(client.disconnect(), CONNECT_TIMEOUT_S)
        except (*LINK_ERRORS, asyncio.CancelledError) as exc:
            log.info("patch %s disconnect: %s", self.address, exc or type(exc).__name__)


def _setter(event: asyncio.Event) -> Callable[[BleakClient], None]:
    """bleak's disconnected callback, bound to this connection's own event."""
    return lambda _client: event.set()
