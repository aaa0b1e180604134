// The invoices list: each invoice's client, amount, issue date and status, the reason in a
// sentence, its payments (with their dates and refunds), its history, a link to it in
// QuickBooks, Retry (failed, skipped, dismissed) and Dismiss with a confirmation
// (GET /quickbooks/exports, POST .../retry, POST .../dismiss; contracts §5, §12, §14).
// extraAction(item), when given, adds a section's own action to a row (customers.js's link).

import { h, formatTime, formatDate, formatMoney, confirmation } from "./dom.js";
import { STATUS_LABELS, HISTORY_LABELS, PAYMENT_LABELS, REFUND_LABELS, ADOPTED } from "./messages.js";

const RETRYABLE = new Set(["failed", "skipped", "dismissed"]);
const DISMISSABLE = new Set(["failed", "skipped", "pending"]);

export function renderExports(items, { qboAppUrl, onRetry, onDismiss, hasMore, onMore, filtered, extraAction }) {
  if (!items.length) {
    const text = filtered
      ? "No invoice matches. Clear the search or choose All statuses."
      : "No invoices sent yet. Invoices you send from now on appear here.";
    return h("p", { class: "qbo-empty" }, text);
  }
  return h(
    "div",
    {},
    h(
      "table",
      { class: "qbo-table qbo-exports-table" },
      h("caption", { class: "qbo-visually-hidden" }, "Invoices and their export to QuickBooks, newest first"),
      h(
        "thead",
        {},
        h("tr", {}, ["Invoice", "Amount", "Issued", "Status", "Details", "In QuickBooks", "Action"].map((t) => h("th", { scope: "col" }, t))),
      ),
      h("tbody", {}, items.map((item) => row(item, qboAppUrl, onRetry, onDismiss, extraAction))),
    ),
    hasMore ? h("button", { type: "button", class: "qbo-secondary qbo-more", onclick: onMore }, "Show more invoices") : null,
  );
}

function row(item, qboAppUrl, onRetry, onDismiss, extraAction) {
  const number = item.invoice_number;
  return h(
    "tr",
    { "data-invoice": number, "data-status": item.status },
    h(
      "th",
      { scope: "row", "data-label": "Invoice" },
      h("span", { class: "qbo-number" }, `#${number}`),
      item.client_name ? h("span", { class: "qbo-client" }, item.client_name) : null,
    ),
    h("td", { "data-label": "Amount" }, formatMoney(item.total, item.currency)),
    h("td", { "data-label": "Issued" }, formatDate(item.issue_date)),
    h("td", { "data-label": "Status" }, h("span", { class: `qbo-badge qbo-${item.status}` }, STATUS_LABELS[item.status] || item.status)),
    h("td", { "data-label": "Details" }, details(item)),
    h("td", { "data-label": "In QuickBooks" }, link(item, qboAppUrl)),
    h("td", { "data-label": "Action" }, actions(item, onRetry, onDismiss, extraAction)),
  );
}

function details(item) {
  const lines = [];
  if (item.reason) lines.push(h("p", { class: "qbo-reason" }, item.reason.message));
  if (item.adopted) lines.push(h("p", { class: "qbo-adopted" }, ADOPTED));
  if (item.customer?.display_name && item.status === "exported") {
    lines.push(h("p", { class: "qbo-customer" }, `Customer in QuickBooks: ${item.customer.display_name}`));
  }
  const payments = item.payments || [];
  if (payments.length) {
    lines.push(
      h(
        "ul",
        { class: "qbo-payments", "aria-label": `Payments of invoice ${item.invoice_number}` },
        payments.map((payment) => paymentLine(payment, item.currency)),
      ),
    );
  }
  if ((item.history || []).length) lines.push(history(item));
  if (!lines.length) lines.push(h("p", {}, `Updated ${formatTime(item.updated_at)}`));
  return lines;
}

function paymentLine(payment, currency) {
  const date = (value) => formatDate(String(value).slice(0, 10));
  const when = payment.paid_at ? ` on ${date(payment.paid_at)}` : payment.updated_at ? `, ${date(payment.updated_at)}` : "";
  const refunds = payment.refunds || [];
  return h(
    "li",
    { class: "qbo-payment", "data-payment": payment.payment_id },
    `Payment of ${formatMoney(payment.amount, currency)}${when}: ${PAYMENT_LABELS[payment.status] || payment.status}`,
    payment.reason ? ` — ${payment.reason.message}` : "",
    refunds.length
      ? h(
          "ul",
          { class: "qbo-refunds" },
          refunds.map((refund) =>
            h(
              "li",
              { class: "qbo-refund", "data-refund": refund.refund_id },
              `Refund of ${formatMoney(refund.amount, currency)}: ${REFUND_LABELS[refund.status] || refund.status}`,
              refund.reason ? ` — ${refund.reason.message}` : "",
            ),
          ),
        )
      : null,
  );
}

// A disclosure (<details>): keyboard-operable and announced as expandable without any script.
function history(item) {
  return h(
    "details",
    { class: "qbo-history" },
    h("summary", { "aria-label": `History of invoice ${item.invoice_number}: ${item.history.length} ${item.history.length === 1 ? "entry" : "entries"}` }, `History (${item.history.length})`),
    h(
      "ol",
      {},
      item.history.map((entry) =>
        h(
          "li",
          {},
          h("time", { datetime: entry.at || "" }, formatTime(entry.at)),
          ` ${HISTORY_LABELS[shownOutcome(item, entry)] || entry.outcome}`,
          entry.by === "contractor" ? " (by you)" : "",
          entry.reason ? `: ${entry.reason.message || `reason ${entry.reason.code}`}` : "",
          entry.intuit_tid ? h("span", { class: "qbo-tid" }, ` Intuit reference ${entry.intuit_tid}`) : null,
        ),
      ),
    ),
  );
}

// An adopted invoice was never sent: its export is the match (contracts §15).
function shownOutcome(item, entry) {
  return item.adopted && entry.outcome === "exported" ? "adopted" : entry.outcome;
}

function link(item, qboAppUrl) {
  const href = item.qbo_url || (item.qbo_invoice_id && `${qboAppUrl}/app/invoice?txnId=${encodeURIComponent(item.qbo_invoice_id)}`);
  if (!href) return numberHolder(item, qboAppUrl);
  return h(
    "a",
    { href, target: "_blank", rel: "noopener noreferrer", "aria-label": `Open invoice ${item.invoice_number} in QuickBooks (new tab)` },
    "View in QuickBooks",
  );
}

// invoice_number_taken names the QuickBooks invoice holding the number: one click to see it.
function numberHolder(item, qboAppUrl) {
  const holder = item.reason?.code === "invoice_number_taken" ? item.reason.qbo_invoice_id : null;
  if (!holder) return "—";
  return h(
    "a",
    {
      href: `${qboAppUrl}/app/invoice?txnId=${encodeURIComponent(holder)}`,
      target: "_blank",
      rel: "noopener noreferrer",
      "aria-label": `Open the QuickBooks invoice that already has number ${item.invoice_number} (new tab)`,
    },
    `View the invoice numbered ${item.invoice_number}`,
  );
}

function actions(item, onRetry, onDismiss, extraAction) {
  const number = item.invoice_number;
  const slot = h("div", { class: "qbo-row-actions" });
  const buttons = [];
  if (RETRYABLE.has(item.status)) {
    buttons.push(
      h("button", { type: "button", class: "qbo-secondary", "aria-label": `Retry exporting invoice ${number}`, onclick: () => onRetry(item) }, "Retry"),
    );
  }
  if (DISMISSABLE.has(item.status)) {
    const dismiss = h("button", { type: "button", class: "qbo-link-button", "aria-label": `Dismiss invoice ${number}`, onclick: () => ask() }, "Dismiss");
    buttons.push(dismiss);
    function ask() {
      slot.replaceChildren(
        confirmation({
          question: `Dismiss invoice ${number}?`,
          consequence: "It will not be exported to QuickBooks (use this when you entered it there yourself). Retry undoes this.",
          confirmLabel: "Yes, dismiss",
          confirmName: `Yes, dismiss invoice ${number}`,
          onConfirm: () => onDismiss(item),
          onCancel: () => {
            slot.replaceChildren(...buttons);
            dismiss.focus();
          },
        }),
      );
    }
  }
  const extra = extraAction?.(item);
  if (extra) buttons.push(extra);
  if (!buttons.length) return null;
  slot.append(...buttons);
  return slot;
}
