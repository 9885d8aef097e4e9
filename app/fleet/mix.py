"""The further devices a simulated ward gets when its config does not say (a demo ward's mix)."""

from __future__ import annotations

# The first beds show each pump and glucose situation once; later beds get quiet devices.
_FIRST: tuple[tuple[str, ...], ...] = (
    ("pump:heparin",),
    ("pump:insulin", "cgm:falling"),
    (),
    ("pump:saline+near-end",),
    ("cgm:stable",),
    ("pump:noradrenaline", "pump:saline+transport#2"),
    (),
    ("pump:antibiotic+occlusion",),
)
_LATER: tuple[tuple[str, ...], ...] = (("pump:saline",), (), ("cgm:stable",), ())


def default_devices(index: int) -> tuple[str, ...]:
    """The devices of simulated bed `index` (0-based)."""
    if index < len(_FIRST):
        return _FIRST[index]
    return _LATER[(index - len(_FIRST)) % len(_LATER)]
