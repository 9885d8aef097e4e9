"""Masimo serial output "ASCII 1" (Rad-8 and kin): one text line a second (../shared/PROTOCOLS.md §6).

`MM/DD/YY HH:MM:SS SN=… SPO2=098% BPM=097 PI=03.60% … ALARM=0000 EXC=000800`. Tokens are read by key,
since firmware versions add keys and widen fields; dashes mean "no value".
"""

from __future__ import annotations

import re

from wardwatch.devices.decoded import Decoded, DecodeError, State

PROTOCOL = "masimo"
SPO2, PULSE_RATE, PERFUSION_INDEX = (150456, "SpO2"), (149530, "PR"), (150488, "PI")
PERCENT, BPM = ("%", 262688), ("/min", 264864)
EXCEPTIONS = {
    0x001: "no sensor",
    0x002: "defective sensor",
    0x004: "low perfusion",
    0x008: "pulse search",
    0x010: "interference",
    0x020: "sensor off",
    0x040: "ambient light",
    0x080: "unrecognised sensor",
    0x400: "low signal IQ",
}
_SENSOR_FAULT = 0x001 | 0x002 | 0x020 | 0x080
_DOUBTFUL = 0x004 | 0x008 | 0x010 | 0x040 | 0x400
_TIME = re.compile(r"^(\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\s")
_REQUIRED = ("SPO2", "BPM", "PI", "ALARM", "EXC")
_RANGES = {"SPO2": (0.0, 100.0), "BPM": (0.0, 350.0), "PI": (0.0, 100.0)}


def _number(key: str, text: str, line_no: int) -> float | None:
    text = text.rstrip("%")
    if text and set(text) <= set("-."):
        return None
    try:
        value = float(text)
    except ValueError:
        raise DecodeError(PROTOCOL, f"line {line_no}: {key}={text!r} is not a number") from None
    lo, hi = _RANGES[key]
    if not lo <= value <= hi:
        raise DecodeError(PROTOCOL, f"line {line_no}: {key}={value:g} is out of range")
    return value


def decode_line(line: str, line_no: int = 1) -> list[Decoded]:
    text = line.strip()
    match = _TIME.match(text + " ")
    if match is None:
        raise DecodeError(PROTOCOL, f"line {line_no}: no MM/DD/YY HH:MM:SS time at its start")
    month, day, year, hours, minutes, seconds = match.groups()
    tokens = dict(tok.split("=", 1) for tok in text[match.end() :].split() if "=" in tok)
    missing = [k for k in _REQUIRED if k not in tokens]
    if missing:
        raise DecodeError(PROTOCOL, f"line {line_no}: no {', '.join(missing)}")
    try:
        exc = int(tokens["EXC"], 16)
        alarm = int(tokens["ALARM"], 16)
    except ValueError:
        raise DecodeError(PROTOCOL, f"line {line_no}: EXC or ALARM is not hexadecimal") from None
    details: dict[str, object] = {
        # device clocks drift: the station stamps on reception and keeps this as a secondary field
        "device_time": f"20{year}-{month}-{day}T{hours}:{minutes}:{seconds}",
        "exceptions": [name for bit, name in EXCEPTIONS.items() if exc & bit],
        "device_alarming": alarm != 0,
    }
    if exc & _SENSOR_FAULT:
        state = State.INVALID
    elif exc & _DOUBTFUL:
        state = State.QUESTIONABLE
    else:
        state = State.VALID
    out = []
    for key, (code, label), (unit, unit_code) in (
        ("SPO2", SPO2, PERCENT),
        ("BPM", PULSE_RATE, BPM),
        ("PI", PERFUSION_INDEX, PERCENT),
    ):
        value = _number(key, tokens[key], line_no)
        out.append(
            Decoded(
                code,
                label,
                value,
                unit,
                unit_code,
                state if value is not None else State.UNAVAILABLE,
                details=details,
            )
        )
    return out


def decode_stream(data: bytes) -> tuple[list[Decoded], list[DecodeError]]:
    """Every good line of the text, and an error for each bad one."""
    out: list[Decoded] = []
    errors: list[DecodeError] = []
    for n, line in enumerate(data.decode("ascii", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out += decode_line(line, n)
        except DecodeError as exc:
            errors.append(exc)
    return out, errors
