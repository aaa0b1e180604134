// The accounts section (contracts §11): the four account choices, each a labelled picker with
// what it is for, filled from GET /quickbooks/accounts, saved with PUT /quickbooks/settings.
// A refused choice (invalid_account) is shown at its field; payouts waiting for a bank account
// are named at the bank account's picker.

import { h } from "./dom.js";
import { ACCOUNT_PICKERS } from "./messages.js";

// state: { settings, accounts: {type: [..]}, waitingPayouts, errors: {field: message}, saving }
export function renderAccounts(state, { onSave }) {
  const form = h("form", { class: "qbo-accounts-form", novalidate: true });
  const pickers = ACCOUNT_PICKERS.map((picker) => field(picker, state));
  form.append(
    ...pickers,
    h(
      "div",
      { class: "qbo-actions" },
      h("button", { type: "submit", class: "qbo-primary", disabled: Boolean(state.saving) }, state.saving ? "Saving…" : "Save accounts"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = {};
    for (const { field: name } of ACCOUNT_PICKERS) {
      const select = form.querySelector(`select[name="${name}"]`);
      if (!select) continue;
      const value = select.value || null;
      if (value !== (state.settings?.[name] ?? null)) chosen[name] = value;
    }
    onSave(chosen);
  });
  return form;
}

function field(picker, state) {
  const id = `qbo-account-${picker.field}`;
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const waitingId = `${id}-waiting`;
  const error = state.errors?.[picker.field];
  const options = state.accounts?.[picker.type] || [];
  const current = state.settings?.[picker.field] ?? "";
  const waiting = picker.field === "payout_account_id" && state.waitingPayouts > 0 && !current;
  const describedBy = [helpId, waiting ? waitingId : null, error ? errorId : null].filter(Boolean).join(" ");
  const select = h(
    "select",
    { id, name: picker.field, "aria-describedby": describedBy, "aria-invalid": error ? "true" : null },
    h("option", { value: "" }, picker.none),
    options.map((account) =>
      h("option", { value: account.id, selected: account.id === current }, account.currency ? `${account.name} (${account.currency})` : account.name),
    ),
  );
  // A chosen id the company no longer lists still shows as chosen.
  if (current && !options.some((account) => account.id === current)) {
    select.append(h("option", { value: current, selected: true }, `Account ${current}`));
  }
  return h(
    "div",
    { class: `qbo-field${error ? " qbo-field-invalid" : ""}`, "data-field": picker.field },
    h("label", { for: id }, picker.label),
    h("p", { id: helpId, class: "qbo-hint" }, picker.help),
    select,
    waiting
      ? h(
          "p",
          { id: waitingId, class: "qbo-field-waiting" },
          `${state.waitingPayouts} ${state.waitingPayouts === 1 ? "payout waits" : "payouts wait"} for this account. Choose the account and save: ${state.waitingPayouts === 1 ? "it is" : "they are"} then deposited in QuickBooks.`,
        )
      : null,
    error ? h("p", { id: errorId, class: "qbo-field-error" }, error) : null,
  );
}
