"""The support staff's view across contractors (contracts.md §18), through the HTTP API:
"which contractors have failing exports or need to reconnect?" answered by routes behind the
SupportClaim, paged, and never showing a token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from export_support import connect
from payments_support import export

from local import samples
from local.environment import LocalEnvironment
from local.qbo_emulator import QboEmulator

PERIOD_CLOSED_THROUGH = "2026-11-30"  # the samples' invoices are dated 2026-11-24
CONTRACTORS = "/quickbooks/support/contractors"


def support_claims(env: LocalEnvironment, **extra: str) -> dict[str, str]:
    claims = env.platform.claims("ctr_support_agent")
    claims[env.stack.environment.get("SUPPORT_CLAIM", "qbo_support")] = "true"
    claims.update(extra)
    return claims


def get(
    env: LocalEnvironment, path: str, claims: dict[str, str] | None, **query: str
) -> tuple[int, Any]:
    response = env.runtime.http("OAuthFunction", "GET", path, query=query, claims=claims)
    return int(response["statusCode"]), json.loads(response["body"] or "null")


def fail_an_export(env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str) -> None:
    export(env, contractor, f"{contractor}-ok", "10.00")
    qbo.close_books(realm, PERIOD_CLOSED_THROUGH)
    env.platform.send_invoice(
        samples.invoice_sent(contractor, f"{contractor}-x", "Client", [("A", "1", "10.00")])
    )
    env.runtime.poll_sqs("InvoiceSentFunction")


def needs_reauthorization(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    qbo.revoke_refresh_tokens(realm)
    qbo.expire_access_tokens(realm)
    env.platform.send_invoice(
        samples.invoice_sent(contractor, f"{contractor}-r", "Client", [("A", "1", "10.00")])
    )
    env.runtime.poll_sqs("InvoiceSentFunction")


@pytest.mark.parametrize(
    "path", [CONTRACTORS, f"{CONTRACTORS}/ctr_123/exports"], ids=["contractors", "exports"]
)
def test_without_the_support_claim_the_routes_answer_403_forbidden(
    env: LocalEnvironment, contractor: str, path: str
) -> None:
    own_token = env.platform.claims(contractor)
    status, body = get(env, path, own_token)
    assert (status, body["error"]) == (403, "forbidden")

    status, body = get(env, path, support_claims(env, qbo_support="false"))
    assert (status, body["error"]) == (403, "forbidden")


def test_without_a_contractor_claim_the_support_routes_answer_401(env: LocalEnvironment) -> None:
    status, body = get(env, CONTRACTORS, {"qbo_support": "true"})
    assert (status, body["error"]) == (401, "unauthorized")


def test_support_lists_failing_and_reauthorization_required_contractors(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    fine_realm = connect(env, "ctr_fine", "Fine Co")
    export(env, "ctr_fine", "F-1", "10.00")
    reauth_realm = connect(env, "ctr_reauth", "Reauth Co")
    fail_an_export(env, qbo, contractor, realm)
    needs_reauthorization(env, qbo, "ctr_reauth", reauth_realm)

    status, failing = get(env, CONTRACTORS, support_claims(env), status="failing")
    assert status == 200, failing
    [item] = failing["items"]
    assert item["contractor_id"] == contractor
    assert (item["failed_exports"], item["status"], item["realm_id"]) == (1, "connected", realm)
    assert item["company_name"] == "Alder & Sons Contracting"
    assert item["last_export_at"] is not None
    assert set(item) >= {
        "contractor_id",
        "realm_id",
        "company_name",
        "status",
        "failed_exports",
        "waiting_payouts",
        "refresh_expires_at",
        "last_export_at",
    }

    status, reauth = get(env, CONTRACTORS, support_claims(env), status="reauthorization_required")
    assert status == 200
    assert [i["contractor_id"] for i in reauth["items"]] == ["ctr_reauth"]
    assert reauth["items"][0]["status"] == "reauthorization_required"

    status, everyone = get(env, CONTRACTORS, support_claims(env))
    assert {i["contractor_id"] for i in everyone["items"]} == {contractor, "ctr_fine", "ctr_reauth"}
    assert fine_realm in {i["realm_id"] for i in everyone["items"]}

    # The support staff's view of one contractor's exports is the contractor's own list (§5).
    status, exports = get(env, f"{CONTRACTORS}/{contractor}/exports", support_claims(env))
    assert status == 200
    failed = [i for i in exports["items"] if i["status"] == "failed"]
    assert [i["reason"]["code"] for i in failed] == ["accounting_period_closed"]


def test_support_lists_contractors_who_must_reconnect_within_30_days(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    status, expiring = get(env, CONTRACTORS, support_claims(env), status="expiring")
    assert (status, expiring["items"]) == (200, [])

    # 80 days later Intuit's rolling 100-day refresh expiry is 20 days away.
    env.clock.advance(80 * 86400)

    status, expiring = get(env, CONTRACTORS, support_claims(env), status="expiring")
    assert [i["contractor_id"] for i in expiring["items"]] == [contractor]
    assert expiring["items"][0]["refresh_expires_at"] is not None


def test_support_pages_through_every_contractor_without_duplicates_or_gaps(
    env: LocalEnvironment, qbo: QboEmulator
) -> None:
    ids = [f"ctr_page_{n:02d}" for n in range(7)]
    for contractor_id in ids:
        connect(env, contractor_id, f"Company {contractor_id}")

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        status, page = get(env, CONTRACTORS, support_claims(env), **query)
        assert status == 200, page
        assert len(page["items"]) <= 3
        seen += [item["contractor_id"] for item in page["items"]]
        pages += 1
        cursor = page["cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    assert pages == 3

    status, body = get(
        env, CONTRACTORS, support_claims(env), status="failing", cursor=cursor or "x"
    )
    assert (status, body["error"]) == (400, "invalid_cursor")
    status, body = get(env, CONTRACTORS, support_claims(env), status="sleeping")
    assert (status, body["error"]) == (400, "invalid_status")


def test_the_support_view_never_shows_a_token(
    env: LocalEnvironment, qbo: QboEmulator, contractor: str, realm: str
) -> None:
    response = env.runtime.http("OAuthFunction", "GET", CONTRACTORS, claims=support_claims(env))
    assert response["statusCode"] == 200
    for token in qbo.issued_tokens(realm):
        assert token not in response["body"]
    assert "token" not in response["body"]
