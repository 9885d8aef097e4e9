"""A real Mosquitto broker for the hospital (MQTT) tests: Debian's /usr/sbin/mosquitto started on a free
loopback port with a config generated in the test's folder, optionally with TLS, a password file and the
topic ACLs the deployment notes (docs/hospital.md) recommend. Loaded as a pytest plugin by conftest.py.

Fixtures: `mqtt_broker` (plain listener, anonymous) and `mqtt_broker_secure` (TLS listener + plain
listener, passwords, ACL; the accounts are in SECURE_SITE / SECURE_STATIONS / SECURE_VIEWER)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from wardwatch.app.hospital.bench import accepts_connections, free_port

MOSQUITTO = Path("/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"

# Station publishes these per bed; anything else under its ward (requests from viewers) it may only read.
STATION_BED_KINDS = ("info", "numerics", "alarms", "news2", "risk", "technical", "waves", "ack/result")


@dataclass(frozen=True)
class StationAccount:
    """A station's broker login and the one ward it owns."""

    username: str
    password: str
    site: str
    ward: str


@dataclass(frozen=True)
class ViewerAccount:
    """A viewer's broker login and the site it may read."""

    username: str
    password: str
    site: str


SECURE_SITE = "general"
SECURE_STATIONS = (
    StationAccount("station-icu", "icu-secret-1", SECURE_SITE, "icu"),
    StationAccount("station-cardio", "cardio-secret-2", SECURE_SITE, "cardio"),
)
SECURE_VIEWER = ViewerAccount("viewer-rrt", "viewer-secret-3", SECURE_SITE)


def station_acl(account: StationAccount) -> str:
    """A station writes only its own ward's state topics and ack results, and reads only the requests
    (acks, wave leases) addressed to its beds: it can neither forge another ward nor a viewer's ack."""
    root = f"wardwatch/{account.site}/{account.ward}"
    lines = [f"user {account.username}"]
    lines += [f"topic write {root}/+/{kind}" for kind in STATION_BED_KINDS]
    lines.append(f"topic write {root}/_station/status")
    lines += [f"topic read {root}/+/ack", f"topic read {root}/+/waves/want"]
    return "\n".join(lines) + "\n"


def viewer_acl(account: ViewerAccount) -> str:
    """A viewer reads its whole site and writes only requests (acks and wave leases), never bed state."""
    root = f"wardwatch/{account.site}"
    return (
        f"user {account.username}\n"
        f"topic read {root}/#\n"
        f"topic write {root}/+/+/ack\n"
        f"topic write {root}/+/+/waves/want\n"
    )


def acl_text(stations: tuple[StationAccount, ...], viewers: tuple[ViewerAccount, ...]) -> str:
    return "\n".join([station_acl(s) for s in stations] + [viewer_acl(v) for v in viewers])


T = TypeVar("T")


def poll_until(condition: Callable[[], T | None], timeout: float, every_s: float = 0.05) -> T | None:
    """What `condition()` gave as soon as it is truthy, or None after `timeout` seconds: the hospital
    tests wait for things crossing a real broker (timeouts generous: CI has two slow cores)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            return None
        time.sleep(every_s)


@dataclass
class Broker:
    """One mosquitto process with its config, password file, ACL, persistence and log under `folder`.

    The ports are chosen once, so `restart()` comes back where the clients expect it."""

    folder: Path
    tls: bool = False
    stations: tuple[StationAccount, ...] = ()
    viewers: tuple[ViewerAccount, ...] = ()
    persistence: bool = True
    port: int = field(default_factory=free_port)
    tls_port: int = 0
    ca_file: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.tls:
            self.tls_port = self.tls_port or free_port()
        self.config_file = self.folder / "mosquitto.conf"
        self.log_file = self.folder / "mosquitto.log"
        self.config_file.write_text(self._config())

    @property
    def secured(self) -> bool:
        return bool(self.stations or self.viewers)

    @property
    def url(self) -> str:
        """The URL a client should use: the TLS listener when there is one."""
        return f"mqtts://127.0.0.1:{self.tls_port}" if self.tls else self.plain_url

    @property
    def plain_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def password(self, username: str) -> str:
        for account in (*self.stations, *self.viewers):
            if account.username == username:
                return account.password
        raise KeyError(username)

    def _config(self) -> str:
        # Running as root, mosquitto would otherwise drop to the 'mosquitto' user and lose the test folder.
        lines = [
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
            f"log_dest file {self.log_file}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            # A station's alarm backlog and a lagging viewer's QoS 1 queue must both fit.
            "max_queued_messages 100000",
            f"listener {self.port} 127.0.0.1",
        ]
        if self.persistence:
            store = self.folder / "store"
            store.mkdir(exist_ok=True)
            lines += ["persistence true", f"persistence_location {store}/", "autosave_interval 1"]
        if self.secured:
            lines += ["allow_anonymous false", f"password_file {self._password_file()}"]
            lines.append(f"acl_file {self._acl_file()}")
        else:
            lines.append("allow_anonymous true")
        if self.tls:
            ca, cert, key = self._certificates()
            lines += [
                f"listener {self.tls_port} 127.0.0.1",
                f"cafile {ca}",
                f"certfile {cert}",
                f"keyfile {key}",
            ]
        return "\n".join(lines) + "\n"

    def _certificates(self) -> tuple[Path, Path, Path]:
        from test_interop_certs import make_ca_and_server_cert

        certs = self.folder / "certs"
        certs.mkdir(exist_ok=True)
        ca, cert, key = make_ca_and_server_cert(certs)
        self.ca_file = ca
        return ca, cert, key

    def _password_file(self) -> Path:
        path = self.folder / "passwords"
        path.unlink(missing_ok=True)
        for i, account in enumerate((*self.stations, *self.viewers)):
            create = ["-c"] if i == 0 else []
            subprocess.run(
                [MOSQUITTO_PASSWD, *create, "-b", str(path), account.username, account.password],
                check=True,
                capture_output=True,
            )
        path.chmod(0o600)
        return path

    def _acl_file(self) -> Path:
        path = self.folder / "acl"
        path.write_text(acl_text(self.stations, self.viewers))
        path.chmod(0o600)
        return path

    def start(self, timeout: float = 15.0) -> None:
        if self.running:
            return
        with (self.folder / "mosquitto.stderr").open("ab") as stderr:
            self._process = subprocess.Popen(
                [str(MOSQUITTO), "-c", str(self.config_file)], stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + timeout
        ports = [self.port] + ([self.tls_port] if self.tls else [])
        while not all(accepts_connections(p) for p in ports):
            if self._process.poll() is not None:
                err = (self.folder / "mosquitto.stderr").read_text(errors="replace")
                raise RuntimeError(f"mosquitto exited at start: {err}\n{self.log_text()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"mosquitto did not listen on {ports} within {timeout} s\n{self.log_text()}"
                )
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """A clean stop: mosquitto saves its persistence file on SIGTERM."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """A crash: SIGKILL, so only what was autosaved survives."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL)
        process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a test of whole processes through the broker (tens of seconds); -m 'not slow' skips"
    )


def _require_mosquitto() -> None:
    if not MOSQUITTO.exists():
        pytest.skip(
            "Debian's mosquitto is not installed (apt-get install mosquitto; packaging/setup.sh test)"
        )


@pytest.fixture
def mqtt_broker(tmp_path: Path) -> Iterator[Broker]:
    """A plain, anonymous broker on a free loopback port."""
    _require_mosquitto()
    broker = Broker(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
def mqtt_broker_secure(tmp_path: Path) -> Iterator[Broker]:
    """A broker with a TLS listener (a CA made in the test), passwords and the recommended ACLs."""
    _require_mosquitto()
    broker = Broker(tmp_path / "mosquitto", tls=True, stations=SECURE_STATIONS, viewers=(SECURE_VIEWER,))
    broker.start()
    try:
        yield broker
    finally:
        broker.close()
