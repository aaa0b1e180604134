"""Connections that expire: the refresh-token lifetimes Intuit returns are kept and shown, the
daily keeper refreshes a connection nobody used for 60 days (and leaves a recent one alone),
and the contractor hears once that the grant's hard expiry is near."""

from __future__ import annotations

import calendar as calendar_utc
import time
from collections.abc import Iterator

import pytest
from connection_support import (
    DAY,
    EXPIRING,
    NEEDS_REAUTHORIZATION,
    Calendar,
    capture_events,
    connection_view,
    run_keeper,
    stored_connection,
)
from export_support import CONSUMER, connect

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator
from tests.conftest import by_doc_number
from tests.flows.outbox.test_emitted_events import Emitted

ROLLING = 8726400  # what Intuit (and the emulator) send as x_refresh_token_expires_in
HARD = 5 * 365 * DAY


@pytest.fixture
def emitted(env: LocalEnvironment) -> Iterator[Emitted]:
    with capture_events("keeper-emitted") as captured:
        yield captured


@pytest.fixture
def calendar(env: LocalEnvironment, monkeypatch: pytest.MonkeyPatch) -> Calendar:
    return Calendar(env, monkeypatch)


def epoch(iso: str) -> int:
    return calendar_utc.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def oauth_refreshes(qbo: QboEmulator, realm: str) -> int:
    # Each token request issues one refresh and one access token.
    return len(qbo.issued_tokens(realm)) // 2 - 1


def test_both_refresh_lifetimes_are_stored_and_the_sooner_is_shown(
    env: LocalEnvironment, contractor: str
) -> None:
    before = time.time()
    connected = stored_connection(env, contractor)
    view = connection_view(env, contractor)

    # The hard expiry is only in Intuit's answer when intuit-oauth sent the opt-in header.
    assert abs(int(connected["refresh_hard_expires_at"]) - (before + HARD)) < 60
    assert abs(int(connected["refresh_rolling_expires_at"]) - (before + ROLLING)) < 60
    rolling_iso = time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(connected["refresh_rolling_expires_at"]))
    )
    assert view["refresh_expires_at"] == rolling_iso
    assert view["status"] == "connected"


def test_not_connected_answers_no_refresh_expiry(env: LocalEnvironment) -> None:
    view = connection_view(env, "ctr_nobody")
    assert (view["status"], view["refresh_expires_at"]) == ("not_connected", None)


def test_keeper_refreshes_an_idle_connection_and_leaves_a_recent_one_alone(
    env: LocalEnvironment, qbo: QboEmulator, calendar: Calendar, contractor: str, realm: str
) -> None:
    calendar.advance(61)  # nothing sent for 61 days
    recent_realm = connect(env, "ctr_recent", "Recent Roofing")
    idle_before = stored_connection(env, contractor)
    recent_before = stored_connection(env, "ctr_recent")

    result = run_keeper(env)

    idle_after = stored_connection(env, contractor)
    recent_after = stored_connection(env, "ctr_recent")
    assert (result["refreshed"], result["failed"]) == (1, 0)
    assert oauth_refreshes(qbo, realm) == 1
    assert idle_after["refresh_token"] != idle_before["refresh_token"]
    assert int(idle_after["refresh_rolling_expires_at"]) >= calendar.now() + ROLLING - 60
    assert idle_after["status"] == "connected"
    assert oauth_refreshes(qbo, recent_realm) == 0
    assert recent_after["refresh_token"] == recent_before["refresh_token"]

    run_keeper(env)  # the next day's run (or EventBridge delivering the same one twice)
    assert oauth_refreshes(qbo, realm) == 1


def test_a_contractor_silent_for_a_year_still_exports(
    env: LocalEnvironment, qbo: QboEmulator, calendar: Calendar, contractor: str, realm: str
) -> None:
    for _ in range(6):  # 366 days without an invoice; the schedule fires every day that matters
        calendar.advance(61)
        run_keeper(env)

    env.platform.send_invoice(
        samples.invoice_sent(contractor, "88", "Late Client", [("Gutters", "1", "90.00")])
    )
    env.runtime.poll_sqs(CONSUMER)

    assert list(by_doc_number(qbo, realm)) == ["88"]
    assert connection_view(env, contractor)["status"] == "connected"


def test_expiry_is_announced_once_when_fewer_than_30_days_are_left(
    env: LocalEnvironment, calendar: Calendar, emitted: Emitted, contractor: str, realm: str
) -> None:
    hard_expires_at = int(stored_connection(env, contractor)["refresh_hard_expires_at"])
    while hard_expires_at - calendar.now() > 61 * DAY + 30 * DAY:
        calendar.advance(61)
        run_keeper(env)
    assert emitted.details(EXPIRING) == []  # kept alive for years without a word

    calendar.advance((hard_expires_at - calendar.now()) / DAY - 29)  # 29 days left
    run_keeper(env)
    calendar.advance(1)
    run_keeper(env)

    [announced] = emitted.details(EXPIRING)
    assert set(announced) == {"schema_version", "contractor_id", "realm_id", "refresh_expires_at"}
    assert (announced["contractor_id"], announced["realm_id"]) == (contractor, realm)
    # Intuit answers lifetimes in whole seconds from its own now: a second either way.
    assert abs(epoch(announced["refresh_expires_at"]) - hard_expires_at) <= 2
    assert connection_view(env, contractor)["refresh_expires_at"] == announced["refresh_expires_at"]
    assert "eyJ" not in str(emitted.entries) and "RT1-" not in str(emitted.entries)


def test_keeper_finds_a_revoked_grant_says_so_once_and_then_leaves_it(
    env: LocalEnvironment,
    qbo: QboEmulator,
    calendar: Calendar,
    emitted: Emitted,
    contractor: str,
    realm: str,
) -> None:
    qbo.revoke_refresh_tokens(realm)
    calendar.advance(61)

    first = run_keeper(env)
    calendar.advance(61)
    second = run_keeper(env)

    assert (first["reauthorization_required"], second["reauthorization_required"]) == (1, 0)
    assert connection_view(env, contractor)["status"] == "reauthorization_required"
    assert [event["realm_id"] for event in emitted.details(NEEDS_REAUTHORIZATION)] == [realm]
