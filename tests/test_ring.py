import threading

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from wardwatch.app.ring import SampleRing


def test_read_since_returns_only_new_samples_in_order():
    ring = SampleRing(16)
    ring.write_block([1, 2, 3], t0=10.0, rate=1.0)
    first = ring.read_since(0)
    assert first.values.tolist() == [1, 2, 3]
    assert first.times.tolist() == [10.0, 11.0, 12.0]
    ring.write_block([4, 5], t0=13.0, rate=1.0)
    second = ring.read_since(first.cursor)
    assert second.values.tolist() == [4, 5]
    assert ring.read_since(second.cursor).values.size == 0


def test_slow_reader_gets_the_newest_capacity_and_is_told_what_it_lost():
    ring = SampleRing(4)
    ring.write_block(np.arange(10), t0=0.0, rate=1.0)
    chunk = ring.read_since(0)
    assert chunk.values.tolist() == [6, 7, 8, 9]
    assert chunk.lost == 6


def test_block_larger_than_capacity_keeps_its_tail():
    ring = SampleRing(3)
    ring.write_block(np.arange(7), t0=0.0, rate=2.0)
    assert ring.latest(3).values.tolist() == [4, 5, 6]
    assert ring.latest_time == 3.0


@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=30), st.integers(2, 64))
def test_ring_always_holds_the_newest_samples_whatever_the_block_sizes(sizes, capacity):
    ring = SampleRing(capacity)
    everything: list[float] = []
    t = 0.0
    for n in sizes:
        block = np.arange(len(everything), len(everything) + n, dtype=np.float32)
        ring.write_block(block, t0=t, rate=1.0)
        everything.extend(block.tolist())
        t += n
    expected = everything[-capacity:]
    assert ring.latest(capacity).values.tolist() == expected


def test_concurrent_reader_never_sees_torn_or_reordered_samples():
    ring = SampleRing(256)
    stop = threading.Event()
    errors: list[str] = []

    def writer() -> None:
        i = 0
        while not stop.is_set() and i < 200_000:
            block = np.arange(i, i + 7, dtype=np.float32)
            ring.write(block, block.astype(np.float64))
            i += 7

    thread = threading.Thread(target=writer)
    thread.start()
    cursor = 0
    last = -1.0
    for _ in range(3000):
        chunk = ring.read_since(cursor)
        cursor = chunk.cursor
        if chunk.values.size:
            if not np.array_equal(chunk.values.astype(np.float64), chunk.times):
                errors.append("values and times disagree")
            if np.any(np.diff(chunk.values) != 1) or chunk.values[0] <= last:
                errors.append("samples out of order")
            last = float(chunk.values[-1])
    stop.set()
    thread.join()
    assert not errors


def test_since_time_returns_samples_from_that_time_on():
    ring = SampleRing(100)
    ring.write_block(np.arange(10), t0=100.0, rate=1.0)
    assert ring.since_time(105.0).values.tolist() == [5, 6, 7, 8, 9]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 300), min_size=1, max_size=30),
    st.integers(1, 500),
    st.sampled_from([250.0, 125.0, 62.5, 130.0, 1.0]),
)
def test_block_sample_times_are_the_first_time_plus_index_over_rate_across_the_wrap(sizes, capacity, rate):
    ring = SampleRing(capacity)
    t0 = 1_700_000_000.123
    expected = []
    for n in sizes:
        ring.write_block(np.zeros(n), t0, rate)
        expected.append(t0 + np.arange(n, dtype=np.float64) / rate)
        t0 += n / rate
    want = np.concatenate(expected)[-capacity:]
    np.testing.assert_array_equal(ring.latest(capacity).times, want)
