// The export list: each invoice's status, the reason in a sentence, a link to it in
// QuickBooks, and Retry for a failed one (GET /quickbooks/exports, POST .../retry).

import { h, formatTime } from "./dom.js";
import { STATUS_LABELS } from "./messages.js";

export function renderExports(items, { qboAppUrl, onRetry, hasMore, onMore }) {
  if (!items.length) {
    return h("p", { class: "qbo-empty" }, "No invoices sent yet. Invoices you send from now on appear here.");
  }
  return h(
    "div",
    {},
    h(
      "table",
      { class: "qbo-table" },
      h("caption", { class: "qbo-visually-hidden" }, "Invoices and their export to QuickBooks, newest first"),
      h(
        "thead",
        {},
        h("tr", {}, ["Invoice", "Status", "Details", "In QuickBooks", "Action"].map((t) => h("th", { scope: "col" }, t))),
      ),
      h("tbody", {}, items.map((item) => row(item, qboAppUrl, onRetry))),
    ),
    hasMore ? h("button", { type: "button", class: "qbo-secondary", onclick: onMore }, "Show more") : null,
  );
}

function row(item, qboAppUrl, onRetry) {
  const number = item.invoice_number;
  return h(
    "tr",
    { "data-invoice": number, "data-status": item.status },
    h("th", { scope: "row", "data-label": "Invoice" }, `#${number}`),
    h("td", { "data-label": "Status" }, h("span", { class: `qbo-badge qbo-${item.status}` }, STATUS_LABELS[item.status] || item.status)),
    h("td", { "data-label": "Details" }, details(item)),
    h("td", { "data-label": "In QuickBooks" }, link(item, qboAppUrl)),
    h("td", { "data-label": "Action" }, item.status === "failed" ? retryButton(item, onRetry) : null),
  );
}

function details(item) {
  const lines = [];
  if (item.reason) lines.push(h("p", { class: "qbo-reason" }, item.reason.message));
  for (const payment of item.payments || []) {
    lines.push(h("p", { class: "qbo-payment" }, `Payment ${payment.amount}: ${payment.status}`, payment.reason ? ` — ${payment.reason.message}` : ""));
  }
  if (!lines.length) lines.push(h("p", {}, `Updated ${formatTime(item.updated_at)}`));
  return lines;
}

// qbo_url comes with the later status issue (contracts §12); until then the link is built from
// the QBO invoice id on the QuickBooks web app the platform configured (sandbox or production).
function link(item, qboAppUrl) {
  const href = item.qbo_url || (item.qbo_invoice_id && `${qboAppUrl}/app/invoice?txnId=${encodeURIComponent(item.qbo_invoice_id)}`);
  if (!href) return "—";
  return h(
    "a",
    { href, target: "_blank", rel: "noopener noreferrer", "aria-label": `Open invoice ${item.invoice_number} in QuickBooks (new tab)` },
    "View in QuickBooks",
  );
}

function retryButton(item, onRetry) {
  return h(
    "button",
    { type: "button", class: "qbo-secondary", "aria-label": `Retry exporting invoice ${item.invoice_number}`, onclick: () => onRetry(item) },
    "Retry",
  );
}
