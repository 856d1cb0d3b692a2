"""db/topology.py's arithmetic of WAL positions: consistency tokens, where a replica's next
record goes, and a replica's lag in time read off the primary's positions."""

from __future__ import annotations

import math

import pytest

from db.topology import BadToken, Timeline, next_record, parse_token

BLOCK, SEGMENT = 8192, 16 * 1024 * 1024


def test_tokens_are_lsn_text_and_anything_else_is_refused() -> None:
    assert parse_token("0/4DF0E808") == 0x4DF0E808
    assert parse_token("1/0") == 1 << 32
    for bad in ("", "x", "0/", "/1", "0/0/0", "G/0", "0/123456789", "-1/0"):
        with pytest.raises(BadToken):
            parse_token(bad)


def test_the_next_record_starts_aligned_and_after_a_page_header() -> None:
    assert next_record(0x1003, block=BLOCK, segment=SEGMENT) == 0x1008
    assert next_record(0x1008, block=BLOCK, segment=SEGMENT) == 0x1008
    # a record that ends a page: the next one starts after the page's header
    assert next_record(3 * BLOCK, block=BLOCK, segment=SEGMENT) == 3 * BLOCK + 24
    # ... the long header on a segment's first page (after a segment switch)
    assert next_record(2 * SEGMENT, block=BLOCK, segment=SEGMENT) == 2 * SEGMENT + 40


def test_lag_is_the_age_of_the_oldest_position_a_replica_has_not_replayed() -> None:
    timeline = Timeline(keep=10)
    for at, position in ((100.0, 1000), (100.25, 1000), (100.5, 2000), (100.75, 3000)):
        timeline.add(at, position)
    assert timeline.lag(3000, now=101) == 0  # caught up
    assert timeline.lag(2500, now=101) == pytest.approx(0.25)  # missing what came at 100.75
    assert timeline.lag(1500, now=101) == pytest.approx(0.5)
    assert timeline.lag(999, now=101) == math.inf  # behind all we know: how far is unknown
    timeline.add(120.0, 3000)  # older samples are forgotten
    assert [at for at, _ in timeline.samples] == [120.0]
