// What the page says after Intuit sends the browser back (the callback's redirect query).

const CALLBACK_ERRORS = {
  denied: "You cancelled at Intuit, so QuickBooks was not connected. Connect again whenever you are ready.",
  invalid_state:
    "That sign-in could not be matched to this browser, or it expired. Click Connect to QuickBooks to start again.",
  exchange_failed: "Intuit did not finish connecting QuickBooks. Please try Connect to QuickBooks again.",
};

// Reads ?quickbooks=connected|error&reason=... once, and removes it from the address bar so a
// reload does not show it again.
export function takeCallbackResult(location, history) {
  const url = new URL(location.href);
  const outcome = url.searchParams.get("quickbooks");
  if (!outcome) return null;
  const reason = url.searchParams.get("reason");
  url.searchParams.delete("quickbooks");
  url.searchParams.delete("reason");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  if (outcome === "connected") {
    return { kind: "success", text: "QuickBooks is connected. Invoices you send from now on are exported to it." };
  }
  if (outcome === "disconnected") {
    return { kind: "info", text: "QuickBooks was disconnected from inside QuickBooks. Connect again to keep exporting." };
  }
  return { kind: "error", text: CALLBACK_ERRORS[reason] || CALLBACK_ERRORS.exchange_failed };
}

export const PAYMENTS_OFF =
  "Turn on invoice payments first: QuickBooks export is for contractors who take payments.";

export const STATUS_LABELS = {
  exported: "Exported",
  pending: "Pending",
  failed: "Failed",
  skipped: "Skipped",
  voided: "Voided",
};
