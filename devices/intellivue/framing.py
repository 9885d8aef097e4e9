"""MIB/RS232 framing: `C0` · header `11 01 LL LL` · user data · FCS · `C1`, byte-stuffed.

The FCS is RFC 1662's (CRC-16/X-25) over header and user data before stuffing, sent low byte first.
Every byte between the flags that equals `C0`, `C1` or `7D` (header, length, data and FCS) is sent as
`7D` followed by the byte XOR `0x20`. `7D C1` aborts a frame; a `C0` inside a frame starts a new one;
bytes outside frames are line noise.
"""

from __future__ import annotations

from fastcrc import crc16
from wardwatch.devices.decoded import DecodeError

PROTOCOL = "intellivue"
BOF, EOF, ESC = 0xC0, 0xC1, 0x7D
HEADER = bytes([0x11, 0x01])  # protocol id Data Export, message type

# CRC-16/X-25 (catalogued as CRC-16/IBM-SDLC): reflected CCITT polynomial, initial 0xFFFF, ones' complement
# sent (check "123456789" = 0x906E)
FCS = crc16.ibm_sdlc


def _stuff(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b in (BOF, EOF, ESC):
            out += bytes([ESC, b ^ 0x20])
        else:
            out.append(b)
    return bytes(out)


def frame(user_data: bytes) -> bytes:
    """One frame on the wire carrying `user_data`."""
    body = HEADER + len(user_data).to_bytes(2, "big") + user_data
    return bytes([BOF]) + _stuff(body + FCS(body).to_bytes(2, "little")) + bytes([EOF])


def _check(body: bytes, at: int) -> bytes:
    """The user data of an unstuffed frame body (header · data · FCS), or why it is no good frame."""
    if len(body) < 6:
        raise DecodeError(PROTOCOL, f"frame of {len(body)} bytes is too short", at)
    if body[:2] != HEADER:
        raise DecodeError(PROTOCOL, f"frame header {body[:2].hex(' ')} is not 11 01", at)
    data, sent = body[:-2], int.from_bytes(body[-2:], "little")
    if FCS(data) != sent:
        raise DecodeError(PROTOCOL, "frame check sequence does not match", at)
    length = int.from_bytes(data[2:4], "big")
    if length != len(data) - 4:
        raise DecodeError(PROTOCOL, f"frame says {length} bytes of data but holds {len(data) - 4}", at)
    return data[4:]


def deframe(stream: bytes) -> tuple[list[tuple[int, bytes]], list[DecodeError]]:
    """The user data of every good frame in `stream` (with the offset of its `C0`), and an error for
    each bad or aborted frame."""
    frames: list[tuple[int, bytes]] = []
    errors: list[DecodeError] = []
    start: int | None = None
    body = bytearray()
    escaped = False
    for i, b in enumerate(stream):
        if b == BOF:
            if start is not None and body:
                errors.append(DecodeError(PROTOCOL, "frame restarted before its end", start))
            start, body, escaped = i, bytearray(), False
        elif start is None:
            continue  # noise between frames
        elif escaped:
            escaped = False
            if b == EOF:
                errors.append(DecodeError(PROTOCOL, "frame aborted (7D C1)", start))
                start = None
            else:
                body.append(b ^ 0x20)
        elif b == ESC:
            escaped = True
        elif b == EOF:
            try:
                frames.append((start, _check(bytes(body), start)))
            except DecodeError as exc:
                errors.append(exc)
            start = None
        else:
            body.append(b)
    if start is not None:
        errors.append(DecodeError(PROTOCOL, "the stream ends inside a frame", start))
    return frames, errors
