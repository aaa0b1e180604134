"""The daily keeper: no connection dies of disuse, and none expires unannounced.

Intuit's refresh token dies after 100 days unused (rolling), and every grant after at most five
years (hard). A contractor who sends nothing for months must still find QuickBooks connected, so
each connection whose tokens were last granted more than IDLE_DAYS ago is refreshed, through
the same lease as every other refresh (connection/tokens.py), one connection at a time. When
fewer than EXPIRING_DAYS are left before the contractor must reconnect (in practice: the hard
expiry, which no refresh moves), one *Connection Expiring* event goes out per grant: the outbox
derives it from the write that marks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from qbo_sync.connection import services
from qbo_sync.connection.store import Connection
from qbo_sync.connection.tokens import ReauthorizationRequired, RefreshInProgress
from qbo_sync.core.clock import now

logger = Logger(child=True)

DAY = 86400
IDLE_DAYS = 60  # 40 days of margin before the rolling 100: a month of failed runs is survivable
EXPIRING_DAYS = 30
# Stop while this much of the invocation is left: tomorrow's run goes on where it matters (a
# connection refreshed today is skipped without a call to Intuit).
STOP_WITH_SECONDS_LEFT = 30.0


@dataclass
class KeeperRun:
    seen: int = 0
    refreshed: int = 0
    reauthorization_required: int = 0
    failed: int = 0
    expiring_announced: int = 0
    stopped_early: bool = False


def keep_connections(seconds_left: Callable[[], float]) -> KeeperRun:
    run = KeeperRun()
    for connection in services.connections().scan():
        if seconds_left() < STOP_WITH_SECONDS_LEFT:
            run.stopped_early = True
            break
        run.seen += 1
        kept = _refresh_if_idle(connection, run) if connection.usable else None
        if kept is not None:
            _announce_if_expiring(kept, run)
    logger.info("Connections kept", **run.__dict__)
    return run


def idle(connection: Connection, at: float) -> bool:
    """Tokens last granted more than IDLE_DAYS ago (or at an unknown time: stored before the
    lifetimes were kept, and refreshed once to learn them)."""
    return connection.refreshed_at is None or at - connection.refreshed_at > IDLE_DAYS * DAY


def _refresh_if_idle(seen: Connection, run: KeeperRun) -> Connection | None:
    """The connection as it stands after the keeper's refresh (or without one); None when it is
    no longer usable."""
    if not idle(seen, now()):
        return seen
    # Read again by key: the scan's page may be minutes old, and an export may have refreshed.
    latest = services.connections().get(seen.contractor_id)
    if latest is None or not latest.usable:
        return None
    if not idle(latest, now()):
        return latest
    try:
        refreshed, _ = services.access_tokens().refresh(latest)
    except ReauthorizationRequired:
        run.reauthorization_required += 1  # flipped, and announced, by the refresh itself
        return None
    except RefreshInProgress:
        return latest  # another invocation is refreshing it right now
    except Exception as failure:
        # One connection's failure (Intuit down, a throttled KMS) must not stop the others;
        # tomorrow's run tries it again, well inside the rolling 100 days.
        run.failed += 1
        logger.warning(
            "Idle connection not refreshed",
            contractor_id=seen.contractor_id,
            error=type(failure).__name__,
        )
        return latest
    run.refreshed += 1
    logger.info("Idle connection refreshed", contractor_id=seen.contractor_id)
    return refreshed


def _announce_if_expiring(connection: Connection, run: KeeperRun) -> None:
    expires = connection.refresh_expires_at
    if expires is None or connection.expiring_notified_at is not None:
        return
    if expires - now() >= EXPIRING_DAYS * DAY:
        return
    if not services.connections().mark_expiring_notified(connection):
        return  # announced already for this grant (a repeated run), or reconnected meanwhile
    run.expiring_announced += 1
