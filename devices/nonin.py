"""Nonin OEM III serial data format 2: 5-byte frames at 75 Hz, 25 to a packet (../shared/PROTOCOLS.md §7).

Frame: `01` · STATUS · PLETH · DATA · CHK (sum of the first four bytes, mod 256). STATUS bit 0 (SYNC)
marks frame 1 of a packet; DATA carries a different value in each frame of the packet. The decoder
synchronises on a frame 1 with a good checksum, drops a packet with any bad frame and looks for the next.
"""

from __future__ import annotations

from collections.abc import Sequence

from wardwatch.devices.decoded import Decoded, DecodeError, State

PROTOCOL = "nonin"
FRAME = 5
FRAMES_PER_PACKET = 25
PLETH_RATE_HZ = 75.0
SPO2, PULSE_RATE, PLETH = (150456, "SpO2"), (149530, "PR"), (150452, "Pleth")
PERCENT, BPM, DIMLESS = ("%", 262688), ("/min", 264864), ("1", 262656)
_PERFUSION = {0: None, 1: "green", 2: "red", 3: "yellow"}


def encode_frame(status: int, pleth: int, data: int) -> bytes:
    """One frame as the module sends it (for the emulated oximeter, the decode bench and tests)."""
    head = bytes([0x01, status, pleth & 0xFF, data])
    return head + bytes([sum(head) & 0xFF])


def encode_packet(
    hr: int = 72, spo2: int = 97, status: int = 0x80 | 0x02, pleth: Sequence[int] = ()
) -> bytes:
    """A packet of 25 frames with the standard, extended and display variants of `hr` and `spo2`
    (status: bit 7 always set, perfusion green by default; SYNC is set on frame 1 here)."""
    data = [0] * FRAMES_PER_PACKET
    hr_msb, hr_lsb = (hr >> 7) & 0x03, hr & 0x7F
    data[0], data[1], data[2], data[3] = hr_msb, hr_lsb, spo2, 0x31  # HR, SpO2, firmware revision
    data[8] = data[9] = data[10] = data[15] = data[16] = spo2
    data[13], data[14] = data[19], data[20] = hr_msb, hr_lsb
    waves = list(pleth) or [10 * k for k in range(FRAMES_PER_PACKET)]
    return b"".join(
        encode_frame(status | (0x01 if k == 0 else 0), waves[k], data[k]) for k in range(FRAMES_PER_PACKET)
    )


def _frame_ok(data: bytes, i: int) -> bool:
    return data[i] == 0x01 and data[i + 1] & 0x80 != 0 and sum(data[i : i + 4]) & 0xFF == data[i + 4]


def _hr(msb: int, lsb: int) -> int | None:
    value = ((msb & 0x03) << 7) | (lsb & 0x7F)
    return None if value == 511 else value


def _spo2(byte: int) -> int | None:
    value = byte & 0x7F
    return None if value == 127 else value


def _packet(frames: list[bytes]) -> list[Decoded]:
    status = [f[1] for f in frames]
    d = [f[3] for f in frames]  # d[0] is frame 1's DATA
    worst = 0
    for s in status:
        worst |= s
    details: dict[str, object] = {
        "perfusion": _PERFUSION[(status[-1] >> 1) & 0x03],
        "spo2_display": _spo2(d[8]),
        "spo2_fast": _spo2(d[9]),
        "spo2_beat_to_beat": _spo2(d[10]),
        "hr_extended": _hr(d[13], d[14]),
        "spo2_extended": _spo2(d[15]),
        "hr_display": _hr(d[19], d[20]),
        "firmware": d[3],
    }
    flags = [
        name
        for bit, name in ((6, "sensor disconnect"), (5, "artifact"), (4, "out of track"), (3, "sensor alarm"))
        if worst & (1 << bit)
    ]
    if flags:
        details["status"] = flags
    if worst & 0x40:
        state = State.INVALID  # no sensor on the patient: the numbers are the module's last guesses
    elif worst & 0x38:
        state = State.QUESTIONABLE
    else:
        state = State.VALID
    hr, spo2 = _hr(d[0], d[1]), _spo2(d[2])

    def value(code: tuple[int, str], unit: tuple[str, int], v: int | None) -> Decoded:
        return Decoded(
            code[0],
            code[1],
            None if v is None else float(v),
            unit[0],
            unit[1],
            state if v is not None else State.UNAVAILABLE,
            details=details,
        )

    pleth = Decoded(
        PLETH[0],
        PLETH[1],
        None,
        DIMLESS[0],
        DIMLESS[1],
        state,
        samples=tuple(float(f[2]) for f in frames),
        rate_hz=PLETH_RATE_HZ,
    )
    return [value(PULSE_RATE, BPM, hr), value(SPO2, PERCENT, spo2), pleth]


def decode_packets(data: bytes, final: bool = True) -> tuple[list[Decoded], list[DecodeError], int]:
    """Every whole packet in `data`, an error for each stretch that was not one, and how many bytes
    are settled. With `final` false (a live port) a packet still arriving at the end is not an error:
    its bytes are left unsettled for the next call."""
    out: list[Decoded] = []
    errors: list[DecodeError] = []
    i, noise_from = 0, None
    while i + FRAME <= len(data):
        if not (_frame_ok(data, i) and data[i + 1] & 0x01):
            noise_from = i if noise_from is None else noise_from
            i += 1
            continue
        if noise_from is not None:
            errors.append(
                DecodeError(PROTOCOL, f"{i - noise_from} bytes outside any packet skipped", noise_from)
            )
            noise_from = None
        frames, j = [], i
        while len(frames) < FRAMES_PER_PACKET and j + FRAME <= len(data):
            if not _frame_ok(data, j) or (frames and data[j + 1] & 0x01):
                break
            frames.append(data[j : j + FRAME])
            j += FRAME
        if len(frames) == FRAMES_PER_PACKET:
            out += _packet(frames)
        elif j + FRAME <= len(data):
            errors.append(DecodeError(PROTOCOL, f"packet broken after {len(frames)} good frames, dropped", j))
        elif not final:
            return out, errors, i  # the rest of this packet is still on its way
        else:
            errors.append(DecodeError(PROTOCOL, f"the stream ends {len(frames)} frames into a packet", i))
            return out, errors, len(data)
        i = j
    if not final:  # fewer than 5 bytes are left: maybe the start of the next frame
        if noise_from is not None and i > noise_from:
            errors.append(
                DecodeError(PROTOCOL, f"{i - noise_from} bytes outside any packet skipped", noise_from)
            )
        return out, errors, i
    if noise_from is not None or i < len(data):
        start = noise_from if noise_from is not None else i
        errors.append(DecodeError(PROTOCOL, f"{len(data) - start} trailing bytes are no whole packet", start))
    return out, errors, len(data)


def decode_stream(data: bytes) -> tuple[list[Decoded], list[DecodeError]]:
    """Every whole packet in a captured stream, and an error for each stretch that was not one."""
    values, errors, _settled = decode_packets(data)
    return values, errors
