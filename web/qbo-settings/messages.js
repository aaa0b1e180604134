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
  dismissed: "Dismissed",
};

// An invoice's history (contracts §14), in words that never repeat a status badge's label (a
// row is found by its badge's text).
export const HISTORY_LABELS = {
  exported: "Sent to QuickBooks",
  failed: "Refused by QuickBooks",
  deferred: "Waited",
  retried: "Retry asked",
  dismissed: "Kept out of QuickBooks",
  voided: "Void sent",
  adopted: "Matched to the invoice keyed into QuickBooks by hand", // an exported entry of an adopted invoice
};

// An invoice recorded as exported to one the contractor keyed into QuickBooks by hand (contracts
// §15, `adopted: true`). The reasons' own sentences come with the API's items (core/reasons.py).
export const ADOPTED = "Matched to the invoice already in QuickBooks (same number, client and total): nothing was added or changed there.";

export const PAYOUT_LABELS = { deposited: "Deposited", waiting: "Waiting", failed: "Failed" };

export const PAYMENT_LABELS = { recorded: "recorded", parked: "waiting", failed: "not recorded" };
export const REFUND_LABELS = { recorded: "recorded", waiting: "waiting", failed: "not recorded" };

// The four account choices (contracts §11), each in a bookkeeper's words.
export const ACCOUNT_PICKERS = [
  {
    field: "payout_account_id",
    type: "bank",
    label: "Bank account payouts arrive in",
    help: "Each payout becomes one deposit into this account, so it matches the line on your bank feed.",
    none: "Not chosen: payouts wait",
  },
  {
    field: "fee_account_id",
    type: "expense",
    label: "Processing fees",
    help: "The expense account the payment processor's fees are booked to when a payout is deposited.",
    none: "Default: Payment processing fees",
  },
  {
    field: "refund_clearing_account_id",
    type: "other_current_asset",
    label: "Refunds clearing",
    help: "Money refunded to clients waits here until the payout it was taken from reaches your bank.",
    none: "Default: Refunds clearing",
  },
  {
    field: "income_account_id",
    type: "income",
    label: "Income",
    help: "Where the work you invoice is recorded as income. Applies to invoices exported from now on.",
    none: "Default: as exported today",
  },
];

// The customer links' refusals (contracts §16), where the page has a better sentence than the
// API's; any other code keeps the API's own (invalid_customer's may name two currencies).
const CUSTOMER_PROBLEMS = {
  invalid_search: "Type part of the customer's name or company name (at most 100 characters), then Find.",
  customer_linked: "Another of your clients is linked to this customer. Unlink that client under Clients linked to QuickBooks customers, or choose another customer.",
  not_connected: "Connect QuickBooks (or reconnect it) first, then link the client.",
};

export function customerProblem(error) {
  return CUSTOMER_PROBLEMS[error.code] || error.message;
}
