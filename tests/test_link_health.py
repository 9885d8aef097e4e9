"""A device's link health: the share of the last minute's packets or lines that came in bad."""

from __future__ import annotations

from wardwatch.devices.link_health import LinkHealth


def test_loss_is_the_share_of_bad_units_in_the_last_minute_and_forgets_older_ones():
    health = LinkHealth()
    assert health.loss_percent(0.0) is None  # nothing arrived yet: unknown, not 0 %
    health.add(1.0, good=9, bad=1)
    assert health.loss_percent(2.0) == 10.0
    health.add(50.0, good=10, bad=0)
    assert health.loss_percent(50.0) == 5.0
    assert health.loss_percent(62.0) == 0.0  # the bad second is over a minute old
    assert health.loss_percent(200.0) is None
