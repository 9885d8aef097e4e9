"""IntelliVue association phase: the session PDUs that open and close a data export session.

A session PDU (ISO 8327 SPDU) is one type byte, an LI (length indicator: one byte, or `FF` + u16 when the
length is over 254) and a list of parameter units (code, LI, value). The host's request (CN) carries
session parameters and, as user data (code `C1`), a presentation PDU: a fixed ASN.1 BER wrapper
(presentation context, ACSE association request, EXTERNAL) around the Philips `MDSEUserInfoStd`, which is
a plain big-endian structure and the only part that ever changes. The wrapper's constructed types use
indefinite lengths, so the request ends with one pair of zero bytes per open type.

The monitor answers with an accept (AC, `0E`) carrying its own `MDSEUserInfoStd` (its poll profile says
whether extended polls are supported), or a refuse (RF, `0C`); a release request (FN, `09`) is answered
with a release result (DN, `0A`); either side may abort (AB, `19`). ../shared/PROTOCOLS.md §5.2, §5.3.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from wardwatch.devices.decoded import DecodeError, Fields
from wardwatch.devices.intellivue.framing import PROTOCOL


class Spdu(IntEnum):
    CONNECT = 0x0D  # CN, association request (host)
    ACCEPT = 0x0E  # AC
    REFUSE = 0x0C  # RF
    FINISH = 0x09  # FN, release request
    DISCONNECT = 0x0A  # DN, release result
    ABORT = 0x19  # AB


KINDS = {
    Spdu.CONNECT: "association request",
    Spdu.ACCEPT: "association accepted",
    Spdu.REFUSE: "association refused",
    Spdu.FINISH: "release request",
    Spdu.DISCONNECT: "release result",
    Spdu.ABORT: "abort",
}

# Session parameter unit codes (ISO 8327) that matter here.
PI_USER_DATA = 0xC1  # carries the presentation PDU
PI_REASON = 0x32  # reason code of a refuse
PI_TRANSPORT_DISCONNECT = 0x11  # of an abort

# The session parameters of the guide's example request, sent as they are: the Connect/Accept item
# (PGI 05: protocol options 0, version number 2, and a unit 80 of no value) and the session user
# requirements (PI 14) 0x0002. The guide gives them as fixed bytes, not as something to negotiate.
SESSION_PARAMETERS = bytes.fromhex("05 08 13 01 00 16 01 02 80 00 14 02 00 02")

# Presentation connect (CP-type SET) up to the octet string that holds MDSEUserInfoStd, all from the
# guide's example: mode normal; the two presentation contexts (1: the MDSE abstract syntax 52 01 00 01
# with transfer syntax 51 01; 2: ACSE, OID 1.2.840.10004.2.1.0.0.0.1.1 and ...2.1); then user data for
# context 1: an AARQ whose application context is ...3.1 and whose user information is an EXTERNAL
# (direct reference ...1.1, indirect reference 2) ending in the tag `81` ([1] octet-aligned) whose BER
# length (`48` for 72 bytes) and content follow. Eight constructed types are left open (31, A2, 61, 30,
# A0, 60, BE, 28).
PRESENTATION_CONNECT = bytes.fromhex(
    "31 80"  # CP-type SET
    " A0 80 80 01 01 00 00"  # mode-selector: normal mode
    " A2 80"  # normal-mode parameters
    " A0 03 00 00 01"  # protocol version
    " A4 80"  # presentation context definition list
    " 30 80 02 01 01 06 04 52 01 00 01 30 80 06 02 51 01 00 00 00 00"  # context 1: MDSE
    " 30 80 02 01 02 06 0C 2A 86 48 CE 14 02 01 00 00 00 01 01"  # context 2: ACSE
    " 30 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 02 01 00 00 00 00"
    " 00 00"  # end of the definition list
    " 61 80 30 80 02 01 01"  # user data, fully encoded, context 1
    " A0 80 60 80"  # single ASN.1 type: AARQ
    " A1 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 03 01 00 00"  # application context name
    " BE 80 28 80"  # user information: EXTERNAL
    " 06 0C 2A 86 48 CE 14 02 01 00 00 00 01 01"  # direct reference
    " 02 01 02"  # indirect reference
    " 81"  # octet-aligned: MDSEUserInfoStd follows
)
PRESENTATION_CONNECT_OPEN = 8

# Release request and release result: user data for context 1 holding an RLRQ (62) or RLRE (63) with
# reason 0 (normal), in four open constructed types.
_RELEASE_OPEN = 4


def _presentation_release(tag: int) -> bytes:
    return bytes.fromhex("61 80 30 80 02 01 01 A0 80") + bytes([tag, 0x80, 0x80, 0x01, 0x00])


# Monitor side (the emulator): an accept's presentation PDU, shaped like the request (CPA-type SET, the
# contexts accepted, an AARE (61) with result 0) but not copied from a device capture.
PRESENTATION_ACCEPT = bytes.fromhex(
    "31 80 A0 80 80 01 01 00 00 A2 80 A0 03 00 00 01"
    " A5 80 30 80 80 01 00 81 02 51 01 00 00 30 80 80 01 00 81 0C 2A 86 48 CE 14 02 01 00 00 00 02 01"
    " 00 00 00 00"  # presentation context result list: both accepted
    " 61 80 30 80 02 01 01 A0 80 61 80"  # user data, context 1: AARE
    " A1 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 03 01 00 00"
    " A2 03 02 01 00"  # result: accepted
    " BE 80 28 80 02 01 02 81"
)
PRESENTATION_ACCEPT_OPEN = 8

POLL_PROFILE_SUPPORT = 0x0001  # NOM_POLL_PROFILE_SUPPORT
POLL_PROFILE_EXT = 0xF001  # NOM_ATTR_POLL_PROFILE_EXT

PROTOCOL_VERSION = 0x80000000  # MDDL_VERSION1
NOMENCLATURE_VERSION = 0x40000000  # NOMEN_VERSION
SYST_CLIENT, SYST_SERVER = 0x80000000, 0x00800000
COLD_START = 0x20000000
POLL_PROFILE_REV_0 = 0x80000000
# PollProfileSupport options: P_OPT_DYN_CREATE_OBJECTS | P_OPT_DYN_DELETE_OBJECTS
PROFILE_OPTIONS = 0x60000000
# PollProfileExt options: which extended polls the host wants
EXT_NUMERICS_1S = 0x80000000  # POLL_EXT_PERIOD_NU_1SEC
EXT_WAVES = 0x08000000  # POLL_EXT_PERIOD_RTSA
EXT_ENUMERATIONS = 0x04000000  # POLL_EXT_ENUM


@dataclass(frozen=True, slots=True)
class PollProfileExt:
    options: int
    ext_attributes: bytes = b""  # an encoded attribute list body (none sent by the host)
    ext_count: int = 0


@dataclass(frozen=True, slots=True)
class PollProfile:
    """PollProfileSupport. Periods are RelativeTime (1/8 ms); sizes in bytes."""

    min_poll_period: int = 2500  # 312.5 ms, the guide's example
    max_mtu_rx: int = 2500
    max_mtu_tx: int = 1000
    max_bw_tx: int = 0xFFFFFFFF  # no limit
    options: int = PROFILE_OPTIONS
    revision: int = POLL_PROFILE_REV_0
    ext: PollProfileExt | None = PollProfileExt(EXT_NUMERICS_1S | EXT_WAVES | EXT_ENUMERATIONS)


@dataclass(frozen=True, slots=True)
class UserInfo:
    """MDSEUserInfoStd: what each side says about itself when associating."""

    poll_profile: PollProfile | None = PollProfile()
    system_type: int = SYST_CLIENT
    startup_mode: int = COLD_START
    protocol_version: int = PROTOCOL_VERSION
    nomenclature_version: int = NOMENCLATURE_VERSION
    functional_units: int = 0

    @property
    def extended_options(self) -> int:
        """The PollProfileExt option bits (0 when there is no extension)."""
        ext = self.poll_profile.ext if self.poll_profile else None
        return ext.options if ext else 0


def _attribute_list(items: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(struct.pack(">HH", attr_id, len(value)) + value for attr_id, value in items)
    return struct.pack(">HH", len(items), len(body)) + body


def encode_user_info(info: UserInfo) -> bytes:
    """MDSEUserInfoStd, field by field (72 bytes for the guide's default profile)."""
    out = struct.pack(
        ">IIIII",
        info.protocol_version,
        info.nomenclature_version,
        info.functional_units,
        info.system_type,
        info.startup_mode,
    )
    out += _attribute_list([])  # option list: none
    profiles: list[tuple[int, bytes]] = []
    p = info.poll_profile
    if p is not None:
        packages: list[tuple[int, bytes]] = []
        if p.ext is not None:
            ext = struct.pack(">I", p.ext.options)
            ext += struct.pack(">HH", p.ext.ext_count, len(p.ext.ext_attributes)) + p.ext.ext_attributes
            packages.append((POLL_PROFILE_EXT, ext))
        support = struct.pack(
            ">IIIIII", p.revision, p.min_poll_period, p.max_mtu_rx, p.max_mtu_tx, p.max_bw_tx, p.options
        )
        profiles.append((POLL_PROFILE_SUPPORT, support + _attribute_list(packages)))
    return out + _attribute_list(profiles)


def _ber_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])  # short form: `48` for the 72 bytes of the default
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + n.to_bytes(2, "big")


def _li(n: int) -> bytes:
    return bytes([n]) if n <= 254 else b"\xff" + n.to_bytes(2, "big")


def _spdu(kind: Spdu, parameters: bytes, presentation: bytes) -> bytes:
    body = parameters + bytes([PI_USER_DATA]) + _li(len(presentation)) + presentation
    return bytes([kind]) + _li(len(body)) + body


def _wrapped(prefix: bytes, content: bytes, open_types: int) -> bytes:
    return prefix + _ber_length(len(content)) + content + b"\x00\x00" * open_types


def association_request(info: UserInfo | None = None) -> bytes:
    """The host's association request (CN) with `info` (default: the guide's, extended polls of
    numerics, waves and enumerations)."""
    presentation = _wrapped(
        PRESENTATION_CONNECT, encode_user_info(info or UserInfo()), PRESENTATION_CONNECT_OPEN
    )
    return _spdu(Spdu.CONNECT, SESSION_PARAMETERS, presentation)


def release_request() -> bytes:
    """The host's release request (FN)."""
    return _spdu(Spdu.FINISH, b"", _presentation_release(0x62) + b"\x00\x00" * _RELEASE_OPEN)


# Monitor side, for the emulator and the tests.


def association_accept(info: UserInfo) -> bytes:
    presentation = _wrapped(PRESENTATION_ACCEPT, encode_user_info(info), PRESENTATION_ACCEPT_OPEN)
    return _spdu(Spdu.ACCEPT, SESSION_PARAMETERS, presentation)


def association_refuse(reason: int = 0) -> bytes:
    # A refuse at session level with only a reason code: how the guide's monitors word it is unverified.
    return bytes([Spdu.REFUSE]) + _li(3) + bytes([PI_REASON, 1, reason])


def release_result() -> bytes:
    return _spdu(Spdu.DISCONNECT, b"", _presentation_release(0x63) + b"\x00\x00" * _RELEASE_OPEN)


def abort() -> bytes:
    # transport disconnect: 3 = release the transport connection, user abort
    return bytes([Spdu.ABORT]) + _li(3) + bytes([PI_TRANSPORT_DISCONNECT, 1, 3])


# Decoding.


@dataclass(frozen=True, slots=True)
class SessionPdu:
    kind: Spdu
    user_info: UserInfo | None = None  # of an accept (or a request)
    reason: int | None = None  # of a refuse

    @property
    def label(self) -> str:
        return KINDS[self.kind]


def _read_li(c: Fields, what: str) -> int:
    n = c.u8(what)
    return c.u16(what) if n == 0xFF else n


MAX_BER_DEPTH = 16


def _ber_find_user_info(
    c: Fields, depth: int = 0, in_external: bool = False, indefinite: bool = False
) -> bytes | None:
    """Walk BER TLVs to the end of `c` (or to the end-of-contents of an indefinite length) and return the
    content of the first octet-aligned [1] primitive inside an EXTERNAL: the MDSEUserInfoStd."""
    if depth > MAX_BER_DEPTH:
        raise DecodeError(PROTOCOL, "BER nested too deeply", c.pos)
    found: bytes | None = None
    while c.left or indefinite:
        tag = c.u8("BER tag")
        if tag == 0:
            if not indefinite or c.u8("BER end of contents") != 0:
                raise DecodeError(PROTOCOL, "BER end of contents where none can be", c.pos)
            return found
        if tag & 0x1F == 0x1F:
            raise DecodeError(PROTOCOL, f"BER tag {tag:#04x} in the high-tag form is not expected", c.pos)
        first = c.u8("BER length")
        constructed = bool(tag & 0x20)
        if first == 0x80:
            if not constructed:
                raise DecodeError(PROTOCOL, "BER indefinite length of a primitive", c.pos)
            inner = _ber_find_user_info(c, depth + 1, tag == 0x28, indefinite=True)
        else:
            if first & 0x80:
                octets = first & 0x7F
                if octets > 2:
                    raise DecodeError(PROTOCOL, f"BER length of {octets} octets", c.pos)
                length = int.from_bytes(c.take(octets, "BER long length"), "big")
            else:
                length = first
            value = c.sub(length, "BER value")
            if constructed:
                try:
                    inner = _ber_find_user_info(value, depth + 1, tag == 0x28)
                except DecodeError:
                    # the guide's own protocol version `A0 03 00 00 01` is no TLV list: a constructed
                    # value of definite length that does not parse is skipped whole, it is bounded
                    inner = None
            else:
                inner = value.take(length, "MDSEUserInfoStd") if tag == 0x81 and in_external else None
        found = found if found is not None else inner
    return found


def _attribute_items(c: Fields, what: str) -> list[tuple[int, Fields]]:
    count = c.u16(f"{what} count")
    body = c.sub(c.u16(f"{what} length"), what)
    items = []
    for _ in range(count):
        attr_id = body.u16("attribute id")
        items.append((attr_id, body.sub(body.u16("attribute length"), f"attribute {attr_id:#06x}")))
    return items


def decode_user_info(data: bytes) -> UserInfo:
    c = Fields(PROTOCOL, data, "big")
    protocol_version, nomenclature, functional, system_type, startup = (
        c.u32("protocol version"),
        c.u32("nomenclature version"),
        c.u32("functional units"),
        c.u32("system type"),
        c.u32("startup mode"),
    )
    _attribute_items(c, "option list")
    profile: PollProfile | None = None
    for attr_id, value in _attribute_items(c, "supported profiles"):
        if attr_id != POLL_PROFILE_SUPPORT:
            continue
        revision, min_period, mtu_rx, mtu_tx, bw_tx, options = (
            value.u32("poll profile field") for _ in range(6)
        )
        ext: PollProfileExt | None = None
        for pkg_id, pkg in _attribute_items(value, "optional packages"):
            if pkg_id == POLL_PROFILE_EXT:
                ext_options = pkg.u32("extended poll options")
                ext_count = pkg.u16("extended attribute count")
                ext = PollProfileExt(
                    ext_options,
                    pkg.take(pkg.u16("extended attribute length"), "extended attributes"),
                    ext_count,
                )
        profile = PollProfile(min_period, mtu_rx, mtu_tx, bw_tx, options, revision, ext)
    return UserInfo(profile, system_type, startup, protocol_version, nomenclature, functional)


def decode_session(data: bytes) -> SessionPdu:
    """A session PDU from the monitor (or the host): its type, LI checked against the bytes present,
    its parameter units walked, and the user information of an accept or request read."""
    c = Fields(PROTOCOL, data, "big")
    kind_byte = c.u8("SPDU type")
    if kind_byte not in KINDS:
        raise DecodeError(PROTOCOL, f"unknown session PDU type {kind_byte:#04x}", 0)
    kind = Spdu(kind_byte)
    length = _read_li(c, "session LI")
    if length != c.left:
        raise DecodeError(PROTOCOL, f"session LI says {length} bytes but {c.left} follow", 1)
    user_info: UserInfo | None = None
    reason: int | None = None
    while c.left:
        code = c.u8("session parameter code")
        unit = c.sub(_read_li(c, "session parameter LI"), f"session parameter {code:#04x}")
        if code == PI_REASON and unit.left:
            reason = unit.u8("reason code")
        elif code == PI_USER_DATA and kind in (Spdu.ACCEPT, Spdu.CONNECT):
            found = _ber_find_user_info(unit)
            if found is None:
                raise DecodeError(PROTOCOL, f"{KINDS[kind]} without MDSEUserInfoStd", unit.pos)
            user_info = decode_user_info(found)
    if kind is Spdu.ACCEPT and user_info is None:
        raise DecodeError(PROTOCOL, "association accepted without user data", c.pos)
    return SessionPdu(kind, user_info, reason)
