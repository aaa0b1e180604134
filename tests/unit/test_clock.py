"""core/clock.py: every stored time is written by iso_now/iso_at and read back by seconds_since.

seconds_since reads with datetime.fromisoformat (strptime's first call costs a cold start about
5 ms); this holds it to what strptime with the stored format reads, for any second."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st
from qbo_sync.core import clock

MOMENTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31))


@given(moment=MOMENTS, now=st.floats(min_value=0, max_value=7.3e9))
def test_seconds_since_reads_each_stored_time_as_the_stored_format_says(
    moment: datetime, now: float
) -> None:
    stored = clock.iso_at(moment.replace(tzinfo=UTC).timestamp())
    written = datetime.strptime(stored, clock.ISO_FORMAT).replace(tzinfo=UTC).timestamp()
    with mock.patch.object(clock, "now", return_value=now):
        assert clock.seconds_since(stored) == now - written


def test_a_stored_time_is_utc_whatever_the_machines_zone() -> None:
    with mock.patch.object(clock, "now", return_value=86_400.0):
        assert clock.seconds_since("1970-01-01T00:00:00Z") == 86_400.0
