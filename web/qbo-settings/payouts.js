// The payouts section (contracts §12): each payout's arrival date, amount, status, the reason in
// a sentence, a link to its deposit in QuickBooks, Retry, and Show more.

import { h, formatDate, formatMoney } from "./dom.js";
import { PAYOUT_LABELS } from "./messages.js";

// Reasons that Retry cannot help: the contractor acts elsewhere, or the attempt is under way.
const NO_RETRY = new Set(["payout_account_required", "payout_in_progress"]);

export function renderPayouts(items, { currency, hasMore, onMore, onRetry }) {
  if (!items.length) {
    return h("p", { class: "qbo-empty" }, "No payouts yet. Each payout to your bank appears here once it is paid.");
  }
  return h(
    "div",
    {},
    h(
      "table",
      { class: "qbo-table qbo-payouts-table" },
      h("caption", { class: "qbo-visually-hidden" }, "Payouts to your bank and their deposit in QuickBooks, newest first"),
      h("thead", {}, h("tr", {}, ["Arrives", "Amount", "Status", "Details", "In QuickBooks", "Action"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, items.map((item) => row(item, currency, onRetry))),
    ),
    hasMore ? h("button", { type: "button", class: "qbo-secondary qbo-more", onclick: onMore }, "Show more payouts") : null,
  );
}

function row(item, currency, onRetry) {
  const canRetry = item.status === "failed" || (item.status === "waiting" && !NO_RETRY.has(item.reason?.code));
  return h(
    "tr",
    { "data-payout": item.payout_id, "data-status": item.status },
    h("th", { scope: "row", "data-label": "Arrives" }, formatDate(item.arrival_date)),
    h("td", { "data-label": "Amount" }, formatMoney(item.amount, item.currency || currency)),
    h("td", { "data-label": "Status" }, h("span", { class: `qbo-badge qbo-${item.status}` }, PAYOUT_LABELS[item.status] || item.status)),
    h("td", { "data-label": "Details" }, item.reason ? h("p", { class: "qbo-reason" }, item.reason.message) : null),
    h(
      "td",
      { "data-label": "In QuickBooks" },
      item.qbo_url
        ? h("a", { href: item.qbo_url, target: "_blank", rel: "noopener noreferrer", "aria-label": `Open the deposit of payout ${item.payout_id} in QuickBooks (new tab)` }, "View in QuickBooks")
        : "—",
    ),
    h(
      "td",
      { "data-label": "Action" },
      canRetry
        ? h("button", { type: "button", class: "qbo-secondary", "aria-label": `Retry depositing payout ${item.payout_id}`, onclick: () => onRetry(item) }, "Retry")
        : null,
    ),
  );
}
