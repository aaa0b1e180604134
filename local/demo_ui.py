"""`make demo-ui`: the settings page in your browser, against the whole local system.

Starts what `make demo` starts (moto, the Intuit/QBO emulator with its consent page, the
template's stack) behind `local.gateway`, prints the page's URL and keeps serving until Ctrl-C.

Seeded demo contractors (local/demo_seed.py; on by default, `--no-seed` to skip) show every
state of the page, each at its own sign-in: `/?contractor=ctr_states` (every invoice state and
a payout waiting for a bank account), `ctr_pages` (a deposited payout, several pages of
invoices), `ctr_reconnect` (a company that needs reconnecting), `ctr_history` (earlier invoices
sent, one matched to a hand-keyed invoice, one number taken). `ctr_demo` (the default) starts
unconnected: connect it through the consent page. `--publish` sends ctr_demo's invoices once
it is connected, so the export list fills in as it would when the invoicing service publishes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from local import demo_seed, samples
from local.environment import LocalEnvironment, local_environment
from local.gateway import DEMO_CONTRACTOR, Gateway

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
COMPANIES = ("Demo Contracting LLC", "Alder & Sons Contracting")
QUIET = {"POWERTOOLS_LOG_LEVEL": "CRITICAL", "POWERTOOLS_METRICS_DISABLED": "true"}


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make demo-ui", description=__doc__)
    parser.add_argument("--port", type=int, default=8017, help="gateway port (0: any free one)")
    parser.add_argument("--publish", action="store_true", help="send invoices once connected")
    parser.add_argument(
        "--no-seed", dest="seed", action="store_false", help="no seeded demo contractors"
    )
    parser.add_argument("--verbose", action="store_true", help="the functions' logs too")
    return parser.parse_args(argv)


def _connected(gateway: Gateway) -> bool:
    """Asks our API, as the page does (GET /quickbooks/connection)."""
    token = gateway.token(payments_enabled=True)["token"]
    answer = gateway.invoke(
        "GET", "/quickbooks/connection", {"authorization": f"Bearer {token}"}, b""
    )
    return bool(json.loads(answer["body"])["status"] == "connected")


def _publish_when_connected(env: LocalEnvironment, gateway: Gateway) -> None:
    while not _connected(gateway):
        time.sleep(1)
    for number, client in (("1042", "Jane O'Neil"), ("1043", "Riverside Dental, LLC")):
        env.platform.send_invoice(
            samples.invoice_sent(DEMO_CONTRACTOR, number, client, [("Tile work", "2", "45.50")])
        )
    print("==> published invoices 1042 and 1043 (invoice-sent)", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    gateway = Gateway(WEB_ROOT, port=args.port)
    with local_environment(
        stack_name="qbo-sync-ui",
        overrides={} if args.verbose else QUIET,
        settings_page_url=gateway.settings_page_url,
        redirect_uri=gateway.callback_url,
        consent_page=True,
    ) as env:
        for name in COMPANIES:
            env.qbo.create_company(name)
        if args.seed:
            print("==> seeding the demo contractors (a few seconds)", flush=True)
            demo_seed.seed(env)
        gateway.serve(env, poll_events=True)
        print(f"==> Accounting export settings: {gateway.settings_page_url}", flush=True)
        print("    (contractor ctr_demo; Ctrl-C stops)", flush=True)
        if args.seed:
            for contractor, what in demo_seed.DESCRIPTIONS.items():
                url = f"{gateway.settings_page_url}?contractor={contractor}"
                print(f"    {url}: {what}", flush=True)
        try:
            if args.publish:
                _publish_when_connected(env, gateway)
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
