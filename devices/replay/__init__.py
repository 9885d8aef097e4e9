"""Replay: recorded WFDB records (PhysioNet) played as live beds, in real time or faster.

Modules: `signals` (signal name → channel table), `derive` (numerics from waves, pure), `record`
(loading a record), `cursor` (the thread-free stepping core), `source` (the threaded `Source`).
Source spec: `replay:<record path without extension>`; options `loop` (default true) and
`block_interval_s` (default 0.04 s of wall time between pushes).
"""

from __future__ import annotations

from wardwatch.app.sources import SourceContext
from wardwatch.devices.base import Source
from wardwatch.devices.replay.cursor import ReplayCursor
from wardwatch.devices.replay.derive import NumericTrack
from wardwatch.devices.replay.record import Channel, Recording, load_record, records_in
from wardwatch.devices.replay.source import ReplaySource, make_replay_source


def make_source(arg: str, bed: str, ctx: SourceContext) -> Source:
    """Entry point of the `replay` source kind."""
    return make_replay_source(arg, bed, ctx.clock, ctx.options)


__all__ = [
    "Channel",
    "NumericTrack",
    "Recording",
    "ReplayCursor",
    "ReplaySource",
    "load_record",
    "make_source",
    "records_in",
]
