// The connection section: Connect (Intuit's "Connect to QuickBooks" button), the connected
// company and its status, Disconnect, and Reconnect when Intuit needs the contractor again.

import { h, formatTime, confirmation } from "./dom.js";
import { PAYMENTS_OFF } from "./messages.js";

export function renderConnection(view, { paymentsEnabled, paymentsReason, onConnect, onDisconnect }) {
  if (view.status === "connected") return connected(view, onDisconnect);
  if (view.status === "reauthorization_required") return reconnect(view, onConnect, onDisconnect);
  return notConnected(paymentsEnabled, paymentsReason || PAYMENTS_OFF, onConnect);
}

function connectButton(label, onConnect, disabledReason) {
  const reasonId = "qbo-connect-reason";
  return [
    h(
      "button",
      {
        type: "button",
        class: "qbo-connect-button",
        disabled: Boolean(disabledReason),
        "aria-describedby": disabledReason ? reasonId : null,
        onclick: onConnect,
      },
      h("span", { class: "qbo-connect-logo", "aria-hidden": "true" }, "qb"),
      label,
    ),
    disabledReason ? h("p", { id: reasonId, class: "qbo-hint" }, disabledReason) : null,
  ];
}

function notConnected(paymentsEnabled, reason, onConnect) {
  return h(
    "div",
    { class: "qbo-connection", "data-status": "not_connected" },
    h("p", { class: "qbo-status" }, "Not connected"),
    h("p", {}, "Connect your QuickBooks Online company to export the invoices you send and mark them paid."),
    connectButton("Connect to QuickBooks", onConnect, paymentsEnabled ? null : reason),
  );
}

function details(view) {
  return h(
    "dl",
    { class: "qbo-details" },
    h("dt", {}, "Connected since"),
    h("dd", {}, formatTime(view.connected_at)),
    h("dt", {}, "Last export"),
    h("dd", {}, formatTime(view.last_export_at)),
    h("dt", {}, "Failed exports"),
    h("dd", {}, String(view.failed_exports ?? 0)),
  );
}

// Disconnect asks first, saying what stops; the question takes the button's place.
function disconnectButton(onDisconnect, company) {
  const button = h("button", { type: "button", class: "qbo-secondary", onclick: () => ask() }, "Disconnect");
  const slot = h("div", { class: "qbo-disconnect" }, button);
  function ask() {
    slot.replaceChildren(
      confirmation({
        question: `Disconnect ${company}?`,
        consequence:
          "Invoices, payments and payouts stop going to QuickBooks until you connect again. Nothing already in QuickBooks is changed or deleted.",
        confirmLabel: "Yes, disconnect",
        onConfirm: onDisconnect,
        onCancel: () => {
          slot.replaceChildren(button);
          button.focus();
        },
      }),
    );
  }
  return slot;
}

function connected(view, onDisconnect) {
  return h(
    "div",
    { class: "qbo-connection", "data-status": "connected" },
    h("p", { class: "qbo-status qbo-ok" }, "Connected to ", h("strong", { class: "qbo-company" }, view.company_name || "your QuickBooks company")),
    details(view),
    disconnectButton(onDisconnect, view.company_name || "QuickBooks"),
  );
}

function reconnect(view, onConnect, onDisconnect) {
  const company = view.company_name || "your QuickBooks company";
  return h(
    "div",
    { class: "qbo-connection", "data-status": "reauthorization_required" },
    h("p", { class: "qbo-status qbo-warn" }, "Reconnect needed"),
    h("p", {}, `Intuit needs you to sign in again before invoices can be exported to ${company}. Nothing is lost: they export once you reconnect.`),
    details(view),
    h("div", { class: "qbo-actions" }, connectButton("Reconnect to QuickBooks", onConnect, null), disconnectButton(onDisconnect, company)),
  );
}
