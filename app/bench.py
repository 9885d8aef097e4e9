"""`wardwatch bench hub`: how many samples the StreamHub takes in and hands out per second on one core."""

from __future__ import annotations

import time

import numpy as np
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import WaveformBlock
from wardwatch.app.hub import StreamHub

CHANNELS = ((MdcCode.ECG_ELEC_POTL_II, 250.0), (MdcCode.PULS_OXIM_PLETH, 125.0), (MdcCode.RESP, 62.5))
BLOCK_S = 0.04  # what the sources push: 40 ms blocks


def bench_hub(seconds: float = 5.0, beds: int = 64) -> dict[str, object]:
    """One thread alternately pushes a 40 ms block per channel of every bed and reads every channel back
    (as a display frame would), until `seconds` have passed."""
    hub = StreamHub()
    rng = np.random.default_rng(0)
    blocks = {
        (b, code, rate): rng.standard_normal(max(1, round(rate * BLOCK_S))).astype(np.float32)
        for b in range(beds)
        for code, rate in CHANNELS
    }
    cursors = {key: 0 for key in blocks}
    bed_ids = [f"bed{b:02d}" for b in range(beds)]
    pushed = read = rounds = 0
    t_station = 1.0e9
    start = time.perf_counter()
    cpu_start = time.process_time()
    while time.perf_counter() - start < seconds:
        for (b, code, rate), samples in blocks.items():
            hub.push_block(WaveformBlock(bed_ids[b], code, samples, rate, t_station))
            pushed += len(samples)
        for key in blocks:
            streams = hub.streams(bed_ids[key[0]])
            assert streams is not None
            chunk = streams.waves[key[1]].ring.read_since(cursors[key])
            cursors[key] = chunk.cursor
            read += len(chunk.values)
        t_station += BLOCK_S
        rounds += 1
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return {
        "beds": beds,
        "channels_per_bed": len(CHANNELS),
        "seconds": round(wall, 2),
        "rounds": rounds,
        "samples_pushed_per_s": round(pushed / wall),
        "samples_read_per_s": round(read / wall),
        "blocks_pushed_per_s": round(rounds * len(blocks) / wall),
        "realtime_factor_64_beds": round((pushed / wall) / (beds * sum(r for _, r in CHANNELS)), 1),
        "cpu_percent": round(100 * cpu / wall, 1),
    }
