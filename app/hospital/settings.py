"""Connection settings of hospital-wide sharing: the `[mqtt]` section of the config, overridden by
`--mqtt URL`, `--mqtt-ca`, `--mqtt-cert`, `--mqtt-key`, `--mqtt-user` and `--view SITE/WARD[,WARD…]`.

The password is read from the environment (WARDWATCH_MQTT_PASSWORD) or from `password_file`; never
from the command line (other users could read it in the process list) and never logged (`repr` masks it).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wardwatch.app.hospital.topics import ALL_WARDS, TopicError, check_slug, slugify

PASSWORD_ENV = "WARDWATCH_MQTT_PASSWORD"
DEFAULT_SITE = "site"
DEFAULT_KEEPALIVE_S = 5.0
SOUNDS = ("all", "high", "none")
_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


class SettingsError(ValueError):
    """A connection setting that cannot be used; the message says which and why (never a password)."""


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    tls: bool
    host: str
    port: int

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_url(url: str) -> BrokerUrl:
    """`mqtt://host[:1883]` or `mqtts://host[:8883]` (TLS). Credentials in the URL are refused: they
    would end up in the process list and in logs."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise SettingsError(f"broker URL {url!r} is not valid: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise SettingsError(f"broker URL {url!r} must start with mqtt:// or mqtts://")
    if parts.username is not None or parts.password is not None:
        raise SettingsError(
            "the broker URL must not hold a user or password: use [mqtt] username and "
            f"{PASSWORD_ENV} or password_file"
        )
    if not parts.hostname:
        raise SettingsError(f"broker URL {url!r} names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SettingsError(f"broker URL {url!r} must be just scheme://host:port")
    return BrokerUrl(scheme == "mqtts", parts.hostname, port or _DEFAULT_PORTS[scheme])


@dataclass(frozen=True, slots=True)
class ViewTarget:
    """One ward a viewer shows (`ward` "*": every ward of the site)."""

    site: str
    ward: str

    def __str__(self) -> str:
        return f"{self.site}/{self.ward}"


def parse_view(text: str) -> tuple[ViewTarget, ...]:
    """`SITE/WARD[,WARD…]` (or `SITE/*`) → the wards to view; a later item may name its own site
    (`siteA/icu,siteB/er`)."""
    targets: list[ViewTarget] = []
    site: str | None = None
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        if "/" in item:
            site_text, _, ward = item.partition("/")
            site = check_slug(site_text, "site")
        elif site is None:
            raise SettingsError(f"--view {text!r}: the first ward needs its site, e.g. main/{item}")
        else:
            ward = item
        if ward != ALL_WARDS:
            check_slug(ward, "ward")
        target = ViewTarget(site, ward)
        if target not in targets:
            targets.append(target)
    if not targets:
        raise SettingsError("--view needs SITE/WARD[,WARD…], e.g. main/icu,er or main/*")
    return tuple(targets)


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """Where the broker is and who this station (or viewer) is on it."""

    url: BrokerUrl
    site: str
    ward: str
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    keepalive_s: float = DEFAULT_KEEPALIVE_S
    sound: str = "all"
    view: tuple[ViewTarget, ...] = ()

    def __post_init__(self) -> None:
        try:
            check_slug(self.site, "[mqtt] site")
            check_slug(self.ward, "[mqtt] ward")
        except TopicError as exc:
            raise SettingsError(str(exc)) from None
        if self.sound not in SOUNDS:
            raise SettingsError(f"[mqtt] sound {self.sound!r} must be one of {', '.join(SOUNDS)}")
        if not 1.0 <= self.keepalive_s <= 3600.0:
            raise SettingsError("[mqtt] keepalive_s must be from 1 to 3600 seconds")
        if (self.cert_file is None) != (self.key_file is None):
            raise SettingsError("a client certificate needs its key (and a key its certificate)")
        if self.password is not None and self.username is None:
            raise SettingsError(f"a password ({PASSWORD_ENV} or password_file) needs [mqtt] username")

    @property
    def tls(self) -> bool:
        return self.url.tls

    def describe(self) -> str:
        """One line for logs and status: where, as whom, how (never the password)."""
        auth = f" as {self.username}" if self.username else ""
        cert = " with client certificate" if self.cert_file else ""
        return f"{self.url}{auth}{cert} publishing as {self.site}/{self.ward}"


def read_password(env: Mapping[str, str], password_file: Path | None) -> str | None:
    """The broker password: the environment first, then the file's first line; None if neither."""
    value = env.get(PASSWORD_ENV)
    if value:
        return value
    if password_file is None:
        return None
    try:
        text = password_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"password_file {password_file}: {exc.strerror or exc}") from None
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise SettingsError(f"password_file {password_file} is empty")
    return first


def _config_path(config: Any, attribute: str) -> Path | None:
    value = getattr(config, attribute, None)
    return None if value is None else Path(value).expanduser()


def _arg(args: argparse.Namespace | None, name: str) -> Any:
    return None if args is None else getattr(args, name, None)


def configured_url(config: Any, args: argparse.Namespace | None) -> str | None:
    """The broker URL from `--mqtt` or `[mqtt] url` (None: sharing is off)."""
    return _arg(args, "mqtt") or getattr(config, "mqtt_url", None)


def settings_from(
    config: Any, args: argparse.Namespace | None = None, env: Mapping[str, str] | None = None
) -> MqttSettings | None:
    """The settings from the station config and its command line; None when no broker is configured.
    SettingsError says what is wrong with a setting."""
    url = configured_url(config, args)
    if not url:
        return None
    env = os.environ if env is None else env

    def path(flag: str, attribute: str) -> Path | None:
        value = _arg(args, flag) or getattr(config, attribute, None)
        return None if value is None else Path(value).expanduser()

    ward = getattr(config, "mqtt_ward", None) or slugify(getattr(config, "station_name", "") or "ward")
    view_text = _arg(args, "view")
    settings = MqttSettings(
        url=parse_url(str(url)),
        site=getattr(config, "mqtt_site", None) or DEFAULT_SITE,
        ward=ward,
        ca_file=path("mqtt_ca", "mqtt_ca_file"),
        cert_file=path("mqtt_cert", "mqtt_cert_file"),
        key_file=path("mqtt_key", "mqtt_key_file"),
        username=_arg(args, "mqtt_user") or getattr(config, "mqtt_username", None),
        password=read_password(env, _config_path(config, "mqtt_password_file")),
        keepalive_s=float(getattr(config, "mqtt_keepalive_s", DEFAULT_KEEPALIVE_S)),
        sound=getattr(config, "mqtt_sound", "all"),
        view=parse_view(view_text) if view_text else (),
    )
    for what, file in (
        ("CA file", settings.ca_file),
        ("certificate", settings.cert_file),
        ("key", settings.key_file),
    ):
        if file is not None and not file.is_file():
            raise SettingsError(f"MQTT TLS {what} {file} does not exist")
    if settings.ca_file is not None and not settings.tls:
        raise SettingsError("a CA file is given but the broker URL is mqtt://: use mqtts:// for TLS")
    return settings
