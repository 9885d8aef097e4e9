"""`wardwatch bench decode`: every protocol's sample decodes; fuzzing raises nothing but DecodeError."""

from __future__ import annotations

from wardwatch.devices.decode_bench import bench_decode
from wardwatch.devices.decoders import MESSAGE_DECODERS, STREAM_DECODERS


def test_every_protocol_is_benchmarked_and_survives_a_short_fuzz_run():
    result = bench_decode(seconds=0.01, fuzz_inputs=300, seed=1)
    assert set(result) == {*MESSAGE_DECODERS, *STREAM_DECODERS}
    for protocol, row in result.items():
        assert isinstance(row, dict) and row["per_s"] > 0, protocol
        fuzz = row["fuzz"]
        assert fuzz["failures"] == 0, (protocol, fuzz["examples"])
        assert fuzz["decoded"] + fuzz["refused"] == 300
