"""The protocol decoders by the names `wardwatch decode` takes (one message in, values out)."""

from __future__ import annotations

from collections.abc import Callable

from wardwatch.devices import masimo, nonin, polar_pmd
from wardwatch.devices.ble import battery, blood_pressure, cgm, heart_rate, plx, thermometer
from wardwatch.devices.decoded import Decoded, DecodeError
from wardwatch.devices.intellivue import messages as intellivue

Decoder = Callable[[bytes], list[Decoded]]
# a stream of frames or lines: the good ones decoded, an error for each bad one
StreamDecoder = Callable[[bytes], tuple[list[Decoded], list[DecodeError]]]

MESSAGE_DECODERS: dict[str, Decoder] = {
    heart_rate.PROTOCOL: heart_rate.decode,
    plx.SPOT: plx.decode_spot,
    plx.CONTINUOUS: plx.decode_continuous,
    thermometer.PROTOCOL: thermometer.decode,
    blood_pressure.MEASUREMENT: blood_pressure.decode_measurement,
    blood_pressure.INTERMEDIATE: blood_pressure.decode_intermediate,
    cgm.PROTOCOL: cgm.decode,
    battery.PROTOCOL: battery.decode,
    polar_pmd.PROTOCOL: polar_pmd.decode,
}

STREAM_DECODERS: dict[str, StreamDecoder] = {
    nonin.PROTOCOL: nonin.decode_stream,
    masimo.PROTOCOL: masimo.decode_stream,
    intellivue.PROTOCOL: intellivue.decode_stream,
}
