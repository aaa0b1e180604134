"""Intuit's consent page, for a real browser: pick a company, then Connect or Cancel.

Off unless the emulator is started with `consent_page=True`: tests that drive the flow with
`requests` keep the instant answer of `State.decide_consent`. With the page on, the first GET of
the authorization endpoint validates the request exactly as the instant path does (an unknown
client or redirect URI still gets the error page, a bad scope still redirects with the error)
and only then answers the page. Its form comes back to the same endpoint with a one-time ticket
that stands for the validated request, so a decision can be neither replayed nor applied to
other parameters than the ones checked.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING

from .oauth import CODE_LIFETIME, OAuthResponse, _error_page

if TYPE_CHECKING:
    from .state import State

TICKET = "consent_ticket"
DECISION = "decision"  # "connect" or "cancel"
REALM = "realm_id"
# Intuit refuses to be framed: the consent page needs a top-level window.
_HEADERS = {
    "Content-Type": "text/html;charset=UTF-8",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


class _AskTheUser(Exception):
    """Raised in place of a decision: the request is valid, the user has not chosen yet."""


def authorize(state: State, params: Mapping[str, str], now: float) -> OAuthResponse:
    ticket = params.get(TICKET)
    if ticket is None:
        return _first_visit(state, params, now)
    entry = state.oauth.consent_tickets.pop(ticket, None)
    if entry is None or now - entry[1] >= CODE_LIFETIME:
        return _error_page("invalid_request: this sign-in page expired or was already used")
    original = entry[0]
    decision = params.get(DECISION)
    if decision == "cancel":
        return state.oauth.authorize(original, lambda: None, now)
    realm_id = params.get(REALM, "")
    if decision != "connect" or realm_id not in state.companies:
        return _error_page("invalid_request: choose one of your companies, then Connect")
    return state.oauth.authorize(original, lambda: realm_id, now)


def _first_visit(state: State, params: Mapping[str, str], now: float) -> OAuthResponse:
    def ask() -> str | None:
        raise _AskTheUser

    try:
        return state.oauth.authorize(params, ask, now)
    except _AskTheUser:
        pass
    if not state.companies:
        # As on the instant path: the user signs up for QBO on the way.
        state.create_company("Demo Contracting LLC", None)
    ticket = secrets.token_urlsafe(24)
    state.oauth.consent_tickets[ticket] = (dict(params), now)
    companies = {realm: company.name for realm, company in state.companies.items()}
    return OAuthResponse(200, _page(ticket, companies).encode(), dict(_HEADERS))


def _page(ticket: str, companies: Mapping[str, str]) -> str:
    options = "".join(
        f'<option value="{escape(realm)}">{escape(name)}</option>'
        for realm, name in companies.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Intuit: connect your QuickBooks company</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f5f8; margin: 0; color: #393a3d; }}
main {{ max-width: 26rem; margin: 2rem auto; background: #fff; padding: 1.5rem;
       border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
.brand {{ color: #236cff; font-weight: 700; letter-spacing: .02em; }}
label {{ display: block; font-weight: 600; margin: 1rem 0 .25rem; }}
select, button {{ font: inherit; padding: .6rem .8rem; border-radius: 4px; }}
select {{ width: 100%; border: 1px solid #8d9096; }}
.actions {{ display: flex; gap: .75rem; margin-top: 1.5rem; }}
button {{ flex: 1; border: 1px solid #2ca01c; cursor: pointer; }}
button[value=connect] {{ background: #2ca01c; color: #fff; }}
button[value=cancel] {{ background: #fff; color: #2ca01c; }}
button:focus-visible, select:focus-visible {{ outline: 3px solid #236cff; outline-offset: 2px; }}
</style></head>
<body><main>
<p class="brand">intuit quickbooks</p>
<h1>Connect your QuickBooks company</h1>
<p>The app will be able to read and write your company's accounting data.</p>
<form method="get" action="">
<input type="hidden" name="{TICKET}" value="{escape(ticket)}">
<label for="company">Company</label>
<select id="company" name="{REALM}">{options}</select>
<div class="actions">
<button type="submit" name="{DECISION}" value="cancel">Cancel</button>
<button type="submit" name="{DECISION}" value="connect">Connect</button>
</div>
</form>
</main></body></html>
"""
