"""`wardwatch bench decode`: decoding throughput per protocol on one core, and a fuzz run.

Throughput decodes the protocol's representative capture (devices/samples.py) again and again. The fuzz
run feeds each decoder random bytes and mutations of that capture (bytes flipped, cut, repeated,
inserted); any outcome but values or a DecodeError counts as a failure and is reported.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from wardwatch.devices.decoded import Decoded, DecodeError
from wardwatch.devices.decoders import MESSAGE_DECODERS, STREAM_DECODERS
from wardwatch.devices.samples import SAMPLES


def _runner(protocol: str) -> Callable[[bytes], object]:
    message = MESSAGE_DECODERS.get(protocol)
    if message is not None:
        return message
    stream = STREAM_DECODERS[protocol]

    def run(data: bytes) -> list[Decoded]:
        values, _errors = stream(data)
        return values

    return run


def _mutant(rng: random.Random, sample: bytes) -> bytes:
    kind = rng.randrange(6)
    data = bytearray(sample)
    if kind == 0:
        return rng.randbytes(rng.randrange(2 * len(sample) + 2))
    if kind == 1 and data:
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 2:
        del data[rng.randrange(len(data) + 1) :]
    elif kind == 3:
        at = rng.randrange(len(data) + 1)
        data[at:at] = rng.randbytes(rng.randrange(1, 8))
    elif kind == 4:
        data = data * rng.randrange(2, 4)
    elif data:
        at = rng.randrange(len(data))
        data[at] ^= 1 << rng.randrange(8)
    return bytes(data)


def throughput(protocol: str, seconds: float) -> float:
    decode = _runner(protocol)
    sample = SAMPLES[protocol][0]
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            decode(sample)
        n += 200
    return n / (time.perf_counter() - start)


def fuzz(protocol: str, inputs: int, seed: int) -> dict[str, object]:
    decode = _runner(protocol)
    sample = SAMPLES[protocol][0]
    rng = random.Random(seed)
    decoded = refused = 0
    failures: list[str] = []
    for _ in range(inputs):
        data = _mutant(rng, sample)
        try:
            decode(data)
            decoded += 1
        except DecodeError:
            refused += 1
        except Exception as exc:  # what the run is looking for
            if len(failures) < 5:
                failures.append(f"{type(exc).__name__}: {exc} on {data.hex()}")
    return {
        "inputs": inputs,
        "decoded": decoded,
        "refused": refused,
        "failures": len(failures),
        "examples": failures,
    }


def bench_decode(seconds: float = 1.0, fuzz_inputs: int = 0, seed: int = 0) -> dict[str, object]:
    result: dict[str, object] = {}
    for protocol, (_sample, unit) in SAMPLES.items():
        row: dict[str, object] = {"unit": unit, "per_s": round(throughput(protocol, seconds))}
        if fuzz_inputs:
            row["fuzz"] = fuzz(protocol, fuzz_inputs, seed)
        result[protocol] = row
    return result
