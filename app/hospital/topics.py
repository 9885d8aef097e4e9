"""The MQTT topic tree of hospital-wide sharing (docs/hospital.md): building and parsing topics, and the
slugs that name sites and wards.

    wardwatch/<site>/<ward>/<bed>/<kind>          per bed (info, numerics, alarms, news2, risk, technical,
                                                  waves; requests ack, ack/result, waves/want)
    wardwatch/<site>/<ward>/_station/status       per station (heartbeat and last will)

Pure functions: no broker, no I/O. A topic that is not ours, or is malformed, parses to None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

ROOT = "wardwatch"
STATION_SEGMENT = "_station"  # reserved: never a bed id
ALL_WARDS = "*"  # in a view (`site/*`): every ward of the site
SLUG_PATTERN = r"[A-Za-z0-9_.-]{1,64}"
_SLUG = re.compile(SLUG_PATTERN)
_BED = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class Kind(StrEnum):
    """The last segment(s) of a topic: what the message is."""

    INFO = "info"
    NUMERICS = "numerics"
    ALARMS = "alarms"
    NEWS2 = "news2"
    RISK = "risk"
    TECHNICAL = "technical"
    WAVES = "waves"
    STATUS = "status"  # under _station only
    ACK = "ack"  # a viewer asks the owning station to acknowledge
    ACK_RESULT = "ack/result"  # the owning station answers
    WAVES_WANT = "waves/want"  # a viewer's lease on a bed's waves


BED_KINDS = frozenset(Kind) - {Kind.STATUS}
# what a station publishes about a bed as retained state (a new viewer sees it at once)
RETAINED_KINDS = frozenset({Kind.INFO, Kind.NUMERICS, Kind.ALARMS, Kind.NEWS2, Kind.RISK, Kind.TECHNICAL})


class TopicError(ValueError):
    """A site, ward or bed name that cannot be a topic segment; the message says what is allowed."""


def check_slug(value: object, what: str = "name") -> str:
    """`value` if it is a valid site or ward slug (`[A-Za-z0-9_.-]{1,64}`), else TopicError saying why."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise TopicError(
            f"{what} {value!r} must be 1 to 64 letters, digits, '_', '.' or '-' (no spaces, '/', '+' or '#')"
        )
    if value == STATION_SEGMENT:
        raise TopicError(f"{what} {value!r} is reserved")
    return value


def slugify(name: str, fallback: str = "ward") -> str:
    """A slug made from a free-text name ("ICU 2 (north)" → "icu-2-north"): the default ward of a
    station is the slug of its name."""
    text = re.sub(r"[^a-z0-9_.-]+", "-", name.strip().lower()).strip("-.")[:64].rstrip("-.")
    return text if text and text != STATION_SEGMENT else fallback


def _check_bed(bed: str) -> str:
    if not _BED.fullmatch(bed) or bed == STATION_SEGMENT:
        raise TopicError(f"bed id {bed!r} cannot be a topic segment")
    return bed


def ward_prefix(site: str, ward: str) -> str:
    """`wardwatch/<site>/<ward>` (no trailing slash)."""
    return f"{ROOT}/{site}/{ward}"


def bed_topic(site: str, ward: str, bed: str, kind: Kind) -> str:
    """The topic of one kind of message about one bed."""
    if kind is Kind.STATUS:
        raise TopicError("status is a station topic: use status_topic")
    return f"{ward_prefix(site, ward)}/{_check_bed(bed)}/{kind.value}"


def status_topic(site: str, ward: str) -> str:
    """`wardwatch/<site>/<ward>/_station/status`: heartbeat, clean stop and last will."""
    return f"{ward_prefix(site, ward)}/{STATION_SEGMENT}/{Kind.STATUS.value}"


def ward_filter(site: str, ward: str) -> str:
    """Subscription filter for everything of one ward (`ward` "*" = every ward of the site)."""
    return f"{ROOT}/{site}/{'+' if ward == ALL_WARDS else ward}/#"


def request_filters(site: str, ward: str) -> tuple[str, str]:
    """What the owning station subscribes to: acknowledgement requests and wave leases of its beds."""
    prefix = ward_prefix(site, ward)
    return f"{prefix}/+/{Kind.ACK.value}", f"{prefix}/+/{Kind.WAVES_WANT.value}"


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic; `bed` is None for the station's status topic."""

    site: str
    ward: str
    bed: str | None
    kind: Kind


def parse_topic(topic: str) -> Topic | None:
    """The parts of one of our topics, or None for anything else (foreign, malformed, unknown kind)."""
    parts = topic.split("/")
    if len(parts) < 5 or parts[0] != ROOT:
        return None
    site, ward, owner = parts[1], parts[2], parts[3]
    if not (_SLUG.fullmatch(site) and _SLUG.fullmatch(ward) and _BED.fullmatch(owner)):
        return None
    try:
        kind = Kind("/".join(parts[4:]))
    except ValueError:
        return None
    if owner == STATION_SEGMENT:
        return Topic(site, ward, None, kind) if kind is Kind.STATUS else None
    if kind is Kind.STATUS:
        return None
    return Topic(site, ward, owner, kind)
