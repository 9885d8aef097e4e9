"""One representative, valid capture per protocol, for `wardwatch bench decode` (throughput and fuzzing)."""

from __future__ import annotations

from wardwatch.devices import nonin
from wardwatch.devices.ble import cgm
from wardwatch.devices.intellivue.build import Numeric, numeric_object, poll_result
from wardwatch.devices.intellivue.framing import frame


def _polar_ecg() -> bytes:
    samples = b"".join((s * 37 % 2000 - 1000).to_bytes(3, "little", signed=True) for s in range(73))
    return bytes([0]) + (599_000_000_000).to_bytes(8, "little") + bytes([0]) + samples


# what one unit of each capture is: a message, a packet (25 frames), a line, a frame with 8 numerics
SAMPLES: dict[str, tuple[bytes, str]] = {
    "ble-hr": (bytes.fromhex("1048F003"), "message"),
    "ble-plx-spot": (bytes.fromhex("1F61004800EA070C020A1E0080000000002B00"), "message"),
    "ble-plx-cont": (bytes.fromhex("005F004C00"), "message"),
    "ble-htm": (bytes.fromhex("04420E00FE02"), "message"),
    "ble-bpm": (bytes.fromhex("1478005000FF0748000500"), "message"),
    "ble-icp": (bytes.fromhex("009600FF07FF07"), "message"),
    "ble-cgm": (cgm.seal(bytes.fromhex("0AA078000A000205")), "message"),
    "ble-battery": (bytes.fromhex("64"), "message"),
    "polar-pmd": (_polar_ecg(), "message (73 samples)"),
    "nonin": (nonin.encode_packet(pleth=[(k * 9) & 0xFF for k in range(25)]), "packet (25 frames)"),
    "masimo": (
        b"12/02/26 10:30:00 SN=0000012345 SPO2=098% BPM=072 PI=03.60% SPCO=--.-% SPMET=--.-% DESAT=-- "
        b"PIDELTA=+-- ALARM=0000 EXC=000800\r\n",
        "line",
    ),
    "intellivue": (
        frame(
            poll_result(
                [
                    numeric_object(Numeric(k + 1, physio, unit, raw))
                    for k, (physio, unit, raw) in enumerate(
                        [
                            (0x4182, 0x0AA0, 72),
                            (0x4BB8, 0x0220, 0xFF0003C2),
                            (0x4822, 0x0AA0, 71),
                            (0x500A, 0x0AE0, 16),
                            (0x4A05, 0x0F20, 120),
                            (0x4A06, 0x0F20, 80),
                            (0x4A07, 0x0F20, 93),
                            (0x4B48, 0x17A0, 0xFF000172),
                        ]
                    )
                ]
            )
        ),
        "frame (8 numerics)",
    ),
}
