"""The one table `make bench` prints, from the same dict that goes to latest.json."""

from __future__ import annotations

from typing import Any

from bench import sales_tax, voids_refunds

Row = tuple[str, str, str, str]


def _met(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "MISSED")


def _error(name: str, figure: dict[str, Any]) -> list[Row]:
    return [(name, "error", str(figure["error"])[:80], "")]


def _coldstart(figure: dict[str, Any]) -> list[Row]:
    rows: list[Row] = [
        (
            "1 cold start",
            f"baseline: import boto3 + dynamodb client (median of {figure['rounds']})",
            f"{figure['baseline_ms']:.0f} ms",
            "",
        )
    ]
    for name, handler in figure["handlers"].items():
        target = figure.get("target_ratios", {}).get(name, figure["target_ratio"])
        value = (
            f"{handler['ratio']:.2f} x ({handler['wall_ms']:.0f} ms: import "
            f"{handler['import_ms']:.0f}, 1st event {handler['first_event_ms']:.0f})"
        )
        goal = f"<= {target} {_met(handler['ratio'] <= target)}" if "@" not in name else ""
        rows.append(("1 cold start", f"{name} / baseline", value, goal))
    return rows


def _counts(figure: dict[str, Any]) -> list[Row]:
    targets = figure["targets"]
    new, known, pay = (
        figure["invoice_new_customer"],
        figure["invoice_known_customer"],
        figure["payment"],
    )
    first = figure["first_invoice_of_realm"]
    batch = figure["in_a_batch"]
    expiry = figure["after_access_token_expiry"]
    overhead = figure["overhead"]

    def target(value: float, limit: float) -> str:
        return f"<= {limit:g} {_met(value <= limit)}"

    return [
        (
            "2 QBO requests",
            "per invoice, new customer",
            f"{new['qbo_max']:g}",
            target(new["qbo_max"], targets["qbo_new_customer"]),
        ),
        (
            "2 QBO requests",
            "per invoice, known customer",
            f"{known['qbo_max']:g}",
            target(known["qbo_max"], targets["qbo_known_customer"]),
        ),
        (
            "2 QBO requests",
            "per payment",
            f"{pay['qbo_max']:g}",
            target(pay["qbo_max"], targets["qbo_payment"]),
        ),
        (
            "2 QBO requests",
            "realm's first invoice (income account lookup)",
            f"{first['qbo_max']:g}",
            "",
        ),
        (
            "2 token",
            "refreshes in steady state (per realm)",
            f"{figure['token_refreshes_in_steady_state']}",
            "0 within the hour",
        ),
        (
            "2 token",
            "one refresh (access token expired early)",
            f"+{expiry['token']} token, +{expiry['extra_qbo_requests']:g} API",
            target(expiry["extra_qbo_requests"] + expiry["token"] - 1, 1),
        ),
        (
            "3 DynamoDB",
            "per invoice, new / known customer",
            f"{new['dynamodb_median']:g} / {known['dynamodb_median']:g}",
            target(
                max(new["dynamodb_median"], known["dynamodb_median"]), targets["dynamodb_invoice"]
            ),
        ),
        (
            "3 DynamoDB",
            "per payment",
            f"{pay['dynamodb_median']:g}",
            target(pay["dynamodb_median"], targets["dynamodb_payment"]),
        ),
        (
            "3 KMS",
            "per invoice / payment (warm container)",
            f"{known['kms_median']:g} / {pay['kms_median']:g}",
            "",
        ),
        (
            "3 AWS calls",
            "per invoice / payment in a batch of 10 (DynamoDB, KMS, SQS, EventBridge)",
            f"{batch['invoice']['aws_calls_per_message']:g}"
            f" / {batch['payment']['aws_calls_per_message']:g}",
            target(
                max(
                    batch["invoice"]["aws_calls_per_message"],
                    batch["payment"]["aws_calls_per_message"],
                ),
                targets["aws_calls_in_a_batch"],
            ),
        ),
        (
            "4 overhead",
            f"start -> Invoice in QBO - requests x {overhead['latency_ms']:.0f} ms"
            f" (median of {overhead['n']})",
            f"{overhead['to_invoice_ms_median']:.1f} ms",
            target(overhead["to_invoice_ms_median"], targets["overhead_ms"]),
        ),
        (
            "4 overhead",
            "  of which waiting for AWS calls (moto, local) / the rest",
            f"{overhead.get('to_invoice_aws_ms_median', 0):.1f} ms / "
            f"{overhead.get('to_invoice_without_aws_ms_median', 0):.1f} ms",
            "",
        ),
        (
            "4 overhead",
            "whole invocation - requests x latency (median)",
            f"{overhead['whole_invocation_ms_median']:.1f} ms",
            "",
        ),
    ]


def _pace(figure: dict[str, Any]) -> list[Row]:
    """Figure 5b: the burst of a few realms, QuickBooks answering as slowly as `latency_s`."""
    name = "5b burst at Intuit's pace"
    dead = sum(figure["dead_letter_messages"].values())
    once = figure["invoices_exactly_once"] and figure["payments_exactly_once"]
    ratio = figure["ratio"] or 0.0
    size = (
        f"{figure['invoices']} invoices + {figure['payments']} payments, "
        f"{figure['contractors']} realms, {figure['consumers']} consumers, "
        f"QBO answers {figure['latency_s'] * 1000:.0f} ms late"
    )
    return [
        (name, size, f"wall {figure['wall_s']:.1f} s", ""),
        (
            name,
            "wall / what Intuit's limits allow "
            f"({figure['ideal_requests_per_realm']:g} requests a realm: {figure['bound_s']:.1f} s)",
            f"{ratio:.2f} x",
            f"<= 2 {_met(ratio <= 2 and not figure['timed_out'])}",
        ),
        (name, "everything in QBO exactly once", "yes" if once else "NO", _met(once)),
        (name, "dead-letter messages", f"{dead}", f"0 {_met(dead == 0)}"),
        (
            name,
            "429s / peak in flight per realm",
            f"{figure['throttled_429']} / {figure['peak_concurrency_per_realm']}",
            f"0 429s {_met(figure['throttled_429'] == 0)}",
        ),
    ]


def _burst(figure: dict[str, Any]) -> list[Row]:
    dead = sum(figure["dead_letter_messages"].values())
    once = figure["invoices_exactly_once"] and figure["payments_exactly_once"]
    cpu = figure["cpu_s"]
    busy = (cpu["consumers"] + cpu["emulators"]) / max(figure["wall_s"], 1e-9)
    size = (
        f"{figure['invoices']} invoices + {figure['payments']} payments, "
        f"{figure['contractors']} contractors, {figure['consumers']} consumers, "
        f"time x{figure['time_scale']:g}"
    )
    return [
        (
            "5 burst",
            size,
            f"wall {figure['wall_s']:.1f} s" + (" (TIMED OUT)" if figure["timed_out"] else ""),
            "",
        ),
        (
            "5 burst",
            f"bound: {figure['ideal_requests_per_realm']:g} requests/realm at Intuit's limits",
            f"{figure['bound_s']:.1f} s",
            "",
        ),
        ("5 burst", "wall / bound", f"{figure['ratio']:.1f} x", ""),
        ("5 burst", "everything in QBO exactly once", "yes" if once else "NO", _met(once)),
        ("5 burst", "dead-letter messages", f"{dead}", f"0 {_met(dead == 0)}"),
        (
            "5 burst",
            "429s / peak in flight per realm",
            f"{figure['throttled_429']} / {figure['peak_concurrency_per_realm']}",
            "",
        ),
        (
            "5 burst",
            "CPU busy (consumers + moto/emulator process)",
            f"{busy:.2f} of {cpu['cores']} cores",
            "",
        ),
    ]


def _package(figure: dict[str, Any]) -> list[Row]:
    limit = figure["limit_mb"]
    functions = ", ".join(
        f"{name} {mb * 1000:.0f} kB" for name, mb in figure["functions_mb"].items()
    )
    largest = ", ".join(
        f"{name} {mb:.1f}" for name, mb in list(figure["layer_largest_mb"].items())[:3]
    )
    return [
        (
            "6 package",
            f"layer ({figure['platform']}), unzipped",
            f"{figure['layer_mb']:.1f} MB",
            f"<= {limit} {_met(figure['layer_mb'] <= limit)}",
        ),
        ("6 package", "layer's largest (MB)", largest, ""),
        ("6 package", "functions", functions, ""),
    ]


def _outage(figure: dict[str, Any]) -> list[Row]:
    name = f"7 outage ({figure['companies']} companies, 1 down {figure['outage_hours']:g} h)"
    latency = figure["others_latency_ms"]
    return [
        (
            name,
            "dead-lettered messages",
            str(figure["dead_lettered"]),
            f"0 {_met(figure['dead_lettered'] == 0)}",
        ),
        (name, "every invoice and payment in QBO once", str(figure["exported_all"]), ""),
        (
            name,
            "recovery to last export (simulated)",
            f"{figure['recovery_to_last_export_s']:.0f} s",
            "<= 900 s " + _met(figure["recovery_to_last_export_s"] <= 900),
        ),
        (
            name,
            "other companies' export latency, with / without",
            f"{figure['others_latency_ratio']:.2f} x "
            f"({latency['with']:.0f} / {latency['without']:.0f} ms)",
            "",
        ),
        (
            name,
            "urllib3 back-off waits (on the simulated clock)",
            f"{figure.get('backoff', {}).get('waits', '?')} waits, "
            f"{figure.get('backoff', {}).get('simulated_s', '?')} s",
            "",
        ),
    ]


def _cpu(figure: dict[str, Any]) -> list[Row]:
    name = f"8 consumers' CPU ({figure['invoices']} invoices + {figure['payments']} payments)"
    per = figure["cpu_ms_per_message"]
    mean = figure["consumers_cpu_ms_per_message"]
    rows: list[Row] = [
        (
            name,
            "CPU per message (handler thread only)",
            f"{mean:.1f} ms (invoice {per['invoice']:.1f}, payment {per['payment']:.1f})",
            f"<= {figure['target_ms']} ms {_met(mean <= figure['target_ms'])}",
        ),
        (
            name,
            "  per message / one bare DynamoDB GetItem (machine's speed, same run)",
            f"{mean / figure['reference_getitem_ms']:.1f} "
            f"(GetItem {figure['reference_getitem_ms']:.2f} ms)"
            if figure.get("reference_getitem_ms")
            else "not measured",
            "",
        ),
        (
            name,
            "outbox CPU per change",
            f"{per['outbox_per_change']:.1f} ms ({figure['outbox_changes']} changes, "
            f"{figure['outbox_invocations']} invocations)",
            "",
        ),
    ]
    for part in figure["where"][:6]:
        rows.append((name, f"  of which {part['where']}", f"{part['share']:.0%}", ""))
    return rows


def _cost(figure: dict[str, Any]) -> list[Row]:
    name = "9 cost at AWS list prices"
    rows: list[Row] = []
    for kind in ("invoices", "payments"):
        parts = figure[f"per_1000_{kind}_usd"]
        detail = ", ".join(
            f"{service} {value:.4f}" for service, value in parts.items() if service != "total"
        )
        rows.append((name, f"per 1,000 {kind} (USD)", f"{parts['total']:.3f} ({detail})", ""))
    assumed = figure["assumptions"]
    rows.append(
        (
            name,
            "assumed",
            f"QBO answers in {assumed['qbo_request_ms']:g} ms; 1 message a batch; "
            f"prices in latest.json (us-east-1 list)",
            "",
        )
    )
    return rows


def _payouts(figure: dict[str, Any]) -> list[Row]:
    name = f"11 payout ({figure['payments']} payments)"
    first, steady = figure["first"], figure["steady"]
    return [
        (
            name,
            "QBO requests: company's first payout / next",
            f"{first['qbo']} / {steady['qbo']}",
            f"<= 3 / <= 1 {_met(first['qbo'] <= 3 and steady['qbo'] <= 1)}",
        ),
        (
            name,
            "DynamoDB requests: this payout / a 1-payment one",
            f"{first['dynamodb']} / {steady['dynamodb']}",
            "",
        ),
        (
            name,
            "Deposit lines in one request; total = transfer; Undeposited Funds",
            f"{figure['deposit_lines']}; {figure['totals_match']}; {figure['undeposited']}",
            "",
        ),
        (name, "handler time (local)", f"{first['elapsed_s']:.2f} s", ""),
    ]


SECTIONS = {
    "coldstart": _coldstart,
    "counts": _counts,
    "cpu": _cpu,
    "cost": _cost,
    "sales_tax": sales_tax.rows,
    "voids_refunds": voids_refunds.rows,
    "outage": _outage,
    "payouts": _payouts,
    "burst": _burst,
    "pace": _pace,
    "package": _package,
}


def table(results: dict[str, Any]) -> str:
    rows: list[Row] = [("figure", "measure", "value", "target")]
    for name, render in SECTIONS.items():
        figure = results.get(name)
        if figure is None:
            continue
        rows.extend(_error(name, figure) if "error" in figure else render(figure))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    meta = results.get("meta", {})
    lines.insert(
        0,
        f"qbo-sync bench, commit {meta.get('commit')}, {meta.get('when')}, {meta.get('cpus')} CPUs",
    )
    return "\n".join(lines)
