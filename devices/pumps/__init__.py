"""Infusion pumps: a simulated pump channel (`pump:<programme>[+<scenario>]`).

Real pump interfaces found documented, for a later module behind the same Source protocol: IEEE 11073
SDC (ISO/IEEE 11073-10700/-20701; Dräger's open `sdc11073` library implements providers and consumers,
for testing only) and the IHE PCD Infusion Pump Event Communication profile (the pump's event stream
over HL7 v2). Vendor serial protocols (e.g. B. Braun's and BD Alaris' RS-232 interfaces) are published
only to partners under agreement.
"""

from __future__ import annotations

from wardwatch.app.sources import SourceContext
from wardwatch.devices.base import Source, SourceError
from wardwatch.devices.pumps.programmes import PROGRAMMES, SCENARIOS
from wardwatch.devices.pumps.simulator import SimulatedPump


def parse_spec(arg: str) -> tuple[str, str, int]:
    """`heparin`, `heparin+occlusion`, `saline+near-end#2` → (programme, scenario, channel)."""
    text, _, channel_text = arg.strip().partition("#")
    programme, _, scenario = text.partition("+")
    programme, scenario = programme.strip().lower(), (scenario.strip().lower() or "normal")
    if programme not in PROGRAMMES:
        raise SourceError(f"unknown pump programme {programme!r}; known: {', '.join(PROGRAMMES)}")
    if scenario not in SCENARIOS:
        raise SourceError(f"unknown pump scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    try:
        channel = int(channel_text) if channel_text.strip() else 1
    except ValueError:
        raise SourceError(f"pump channel {channel_text!r} is not a whole number") from None
    return programme, scenario, channel


def make_source(arg: str, bed: str, ctx: SourceContext) -> Source:
    """Entry point of the `pump` source kind."""
    programme, scenario, channel = parse_spec(arg)
    return SimulatedPump(
        programme,
        PROGRAMMES[programme],
        SCENARIOS[scenario],
        bed,
        ctx.clock,
        seed=ctx.seed,
        channel=channel,
        runner=ctx.runner,
    )


__all__ = ["SimulatedPump", "make_source", "parse_spec"]
