// <qbo-export-settings>: the "Accounting export settings" section, as a custom element.
//
//   <qbo-export-settings api-base="https://api.example.com" qbo-app-url="https://app.qbo.intuit.com">
//   element.tokenProvider = async ({ forceRefresh } = {}) => "<the contractor's JWT>";
//
// tokenProvider is called with no argument for each request, and once with
// `{ forceRefresh: true }` after a 401: it must then return a fresh token, not a cached one.
//
// Attributes: api-base (the HTTP API, no trailing slash; empty: this origin), qbo-app-url
// (QuickBooks' web app, app.sandbox.qbo.intuit.com for sandbox), payments-claim (the JWT
// claim saying invoice payments are on; default payments_enabled), refresh-seconds (how often
// the lists refresh while the page is visible; 0: never; default 30).
//
// Sections (SECTIONS below): the connection, the accounts, the payouts, the earlier invoices
// (history.js, which polls its request while it runs) and the invoices. Each
// has its slot in the skeleton; a later section (customer links, job tracking) adds
// its entry there and its loader in #loadSection. When the API cannot be reached, what was
// loaded stays on screen, marked with when it was loaded, under one sentence and Try again.

import { QboApi } from "./api.js";
import { h } from "./dom.js";
import { renderConnection } from "./connection.js";
import { renderAccounts } from "./accounts.js";
import { renderPayouts } from "./payouts.js";
import { renderExports } from "./exports.js";
import { CustomerLinks } from "./customers.js";
import { HistorySection } from "./history.js";
import { takeCallbackResult, ACCOUNT_PICKERS, STATUS_LABELS } from "./messages.js";

// Sections shown once a company is connected (needsCompany), only while it is usable
// (connectedOnly), or always.
const SECTIONS = [
  { id: "accounts", title: "Accounts in QuickBooks", needsCompany: true, connectedOnly: true },
  { id: "payouts", title: "Payouts deposited in QuickBooks", needsCompany: true },
  { id: "earlier", title: "Earlier invoices", needsCompany: true, connectedOnly: true },
  { id: "exports", title: "Invoices sent to QuickBooks", needsCompany: false },
  { id: "clients", title: "Clients linked to QuickBooks customers", needsCompany: true },
];

class QboExportSettings extends HTMLElement {
  #tokenProvider = null;
  #started = false;
  #timer = null;
  #history = null;
  #view = null;
  #loadedAt = null;
  #generation = 0;
  #exports = { items: [], cursor: null, filters: { status: "", number: "" } };
  #payouts = { items: [], cursor: null };
  #customers = new CustomerLinks({
    api: () => this.#api,
    slot: () => this.#slot("clients"),
    afterAction: (text) => this.#afterAction(text),
    failed: (error, text) => this.#failed(error, text),
  });
  #accounts = { realm: null, settings: null, accounts: {}, errors: {}, waitingPayouts: 0, saving: false, failed: null };

  set tokenProvider(provider) {
    this.#tokenProvider = provider;
    if (this.isConnected) this.#start();
  }

  connectedCallback() {
    if (this.#tokenProvider) this.#start();
  }

  disconnectedCallback() {
    clearInterval(this.#timer);
    this.#history?.stop();
  }

  get #api() {
    return new QboApi(this.getAttribute("api-base") || "", (options) => this.#tokenProvider(options));
  }

  get #qboAppUrl() {
    return (this.getAttribute("qbo-app-url") || "https://app.qbo.intuit.com").replace(/\/$/, "");
  }

  async #start() {
    if (this.#started) return;
    this.#started = true;
    this.replaceChildren(this.#skeleton());
    this.#history = new HistorySection(this.#slot("earlier"), { api: () => this.#api, onDone: () => this.#refresh() });
    const result = takeCallbackResult(window.location, window.history);
    await this.#refresh();
    if (result) this.#notify(result.kind, result.text, { focus: true }); // back from Intuit
    const seconds = Number(this.getAttribute("refresh-seconds") ?? 30);
    if (seconds > 0) {
      this.#timer = setInterval(() => document.visibilityState === "visible" && this.#refresh(), seconds * 1000);
    }
  }

  #skeleton() {
    return h(
      "section",
      { class: "qbo", "aria-labelledby": "qbo-title" },
      h(
        "div",
        { class: "qbo-head" },
        h("h2", { id: "qbo-title", tabindex: "-1" }, "QuickBooks Online"),
        h("button", { type: "button", class: "qbo-secondary qbo-refresh", onclick: () => this.#refresh() }, "Refresh"),
      ),
      h("div", { class: "qbo-notice", role: "status", "aria-live": "polite", tabindex: "-1" }),
      h("div", { class: "qbo-problem", hidden: true }),
      h("div", { class: "qbo-connection-slot", "aria-busy": "true" }, h("p", {}, "Loading…")),
      SECTIONS.map((section) =>
        h(
          "section",
          { class: `qbo-section qbo-${section.id}`, "data-section": section.id, "aria-labelledby": `qbo-${section.id}-title`, hidden: section.needsCompany },
          h("div", { class: "qbo-section-head" }, h("h3", { id: `qbo-${section.id}-title` }, section.title), section.id === "exports" ? this.#filters() : null),
          h("div", { class: `qbo-${section.id}-slot` }),
        ),
      ),
    );
  }

  #filters() {
    const status = h(
      "select",
      { id: "qbo-status-filter", onchange: (event) => this.#filter({ status: event.target.value }) },
      h("option", { value: "" }, "All statuses"),
      Object.entries(STATUS_LABELS).map(([value, label]) => h("option", { value }, label)),
    );
    const search = h("input", { id: "qbo-number-search", type: "search", inputmode: "search", autocomplete: "off", placeholder: "e.g. 1042" });
    const form = h(
      "form",
      { class: "qbo-filters", role: "search", "aria-label": "Find invoices" },
      h("label", { for: "qbo-status-filter" }, "Status"),
      status,
      h("label", { for: "qbo-number-search" }, "Invoice number"),
      search,
      h("button", { type: "submit", class: "qbo-secondary" }, "Search"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#filter({ number: search.value.trim().replace(/^#/, "") });
    });
    search.addEventListener("search", () => search.value === "" && this.#filter({ number: "" }));
    return form;
  }

  #slot(name) {
    return this.querySelector(`.qbo-${name}-slot`);
  }

  #notify(kind, text, { focus = false } = {}) {
    const notice = this.querySelector(".qbo-notice");
    notice.dataset.kind = kind;
    notice.textContent = text;
    if (focus && text) notice.focus();
  }

  // One sentence, when it happened, and Try again; what was loaded before stays as it is.
  #problem(error) {
    const box = this.querySelector(".qbo-problem");
    if (!error) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const when = this.#loadedAt
      ? `Showing what was loaded at ${this.#loadedAt.toLocaleTimeString()}.`
      : "Nothing could be loaded yet.";
    box.replaceChildren(
      h("p", { role: "alert" }, error.message, " ", h("span", { class: "qbo-stale" }, when)),
      h("button", { type: "button", class: "qbo-secondary", onclick: () => this.#refresh({ focus: true }) }, "Try again"),
    );
    box.hidden = false;
  }

  // Loads every section; an outage leaves the last good data and says so once.
  async #refresh({ focus = false } = {}) {
    const generation = ++this.#generation; // only the latest refresh speaks about the outcome
    try {
      await this.#loadConnection();
      const connected = this.#view?.status !== "not_connected";
      const work = [this.#loadExports({ keep: true })];
      if (connected) work.push(this.#loadPayouts({ keep: true }), this.#customers.load());
      if (this.#view?.status === "connected") work.push(this.#loadAccounts(), this.#history.load());
      else this.#history.stop();
      await Promise.all(work);
      if (generation !== this.#generation) return;
      this.#loadedAt = new Date();
      this.dataset.loadedAt = this.#loadedAt.toISOString();
      this.#problem(null);
      if (focus) this.#notify("info", "The export service is back. Everything below is up to date.", { focus: true });
    } catch (error) {
      if (generation !== this.#generation) return;
      if (!error.outage) return this.#notify("error", error.message || "Something went wrong. Try again.", { focus });
      this.#problem(error);
      if (focus) this.querySelector(".qbo-problem button")?.focus();
    }
  }

  #paymentsEnabled() {
    const claim = this.getAttribute("payments-claim") || "payments_enabled";
    return this.#claims().then((claims) => !(claim in claims) || String(claims[claim]) === "true");
  }

  // The JWT's claims, read (not verified: the API's authorizer does that) to show the button
  // disabled before the contractor clicks it.
  async #claims() {
    try {
      const payload = (await this.#tokenProvider()).split(".")[1];
      return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    } catch {
      return {};
    }
  }

  async #loadConnection(paymentsReason = null) {
    const slot = this.#slot("connection");
    const [view, paymentsEnabled] = await Promise.all([this.#api.connection(), this.#paymentsEnabled()]);
    // A notice about the previous state ("connected") would contradict the new one.
    if (this.#view && this.#view.status !== view.status) this.#notify("info", "");
    if (this.#view && this.#view.realm_id !== view.realm_id) {
      // Another company (or none): its lists and accounts are not this one's.
      this.#exports.items = [];
      this.#payouts.items = [];
      this.#accounts.realm = null;
    }
    this.#view = view;
    const enabled = paymentsEnabled && !paymentsReason;
    slot.replaceChildren(
      renderConnection(view, {
        paymentsEnabled: enabled,
        paymentsReason,
        onConnect: (event) => this.#connect(event.currentTarget),
        onDisconnect: () => this.#disconnect(),
      }),
    );
    slot.setAttribute("aria-busy", "false");
    const hasCompany = view.status !== "not_connected";
    for (const section of SECTIONS.filter((s) => s.needsCompany)) {
      this.querySelector(`[data-section="${section.id}"]`).hidden = !hasCompany || (section.connectedOnly && view.status !== "connected");
    }
  }

  // Top-level navigation to Intuit, never a popup or an iframe: Intuit's pages refuse to be
  // framed, and its cookies would be third-party cookies there.
  async #connect(button) {
    button.disabled = true;
    try {
      window.location.assign(await this.#api.authorizationUrl());
    } catch (error) {
      button.disabled = false;
      if (error.code === "payments_not_enabled") return this.#loadConnection(error.message);
      this.#notify("error", error.message, { focus: true });
    }
  }

  async #disconnect() {
    try {
      await this.#api.disconnect();
      await this.#refresh();
      this.#notify("info", "QuickBooks is disconnected. Invoices are no longer exported to it.");
      this.querySelector(".qbo-connect-button")?.focus();
    } catch (error) {
      this.#notify("error", error.message, { focus: true });
    }
  }

  // -- invoices ---------------------------------------------------------------------------------

  #filter(change) {
    Object.assign(this.#exports.filters, change);
    this.#exports.items = [];
    this.#exports.cursor = null;
    this.#guard(this.#loadExports());
  }

  // keep: reload as many rows as are on screen (Show more's included), up to the API's 100.
  async #loadExports({ more = false, keep = false } = {}) {
    const state = this.#exports;
    const { status, number } = state.filters;
    const limit = keep ? Math.min(100, Math.max(25, state.items.length)) : 25;
    const page = await this.#api.exports({ status, number, limit, cursor: more ? state.cursor : null });
    state.items = more ? [...state.items, ...page.items] : page.items;
    state.cursor = page.cursor;
    this.#renderExports();
  }

  #renderExports() {
    const state = this.#exports;
    this.#slot("exports").replaceChildren(
      renderExports(state.items, {
        qboAppUrl: this.#qboAppUrl,
        onRetry: (item) => this.#retry(item),
        onDismiss: (item) => this.#dismiss(item),
        hasMore: Boolean(state.cursor),
        onMore: () => this.#guard(this.#loadExports({ more: true })),
        filtered: Boolean(state.filters.status || state.filters.number),
        extraAction: (item) => this.#customers.linkAction(item),
      }),
    );
  }

  async #retry(item) {
    try {
      await this.#api.retry(item.invoice_id);
      await this.#afterAction(`Invoice ${item.invoice_number} is queued for export again.`);
    } catch (error) {
      this.#failed(error);
    }
  }

  async #dismiss(item) {
    try {
      await this.#api.dismiss(item.invoice_id);
      await this.#afterAction(`Invoice ${item.invoice_number} is dismissed: it will not be exported. Retry undoes this.`);
    } catch (error) {
      this.#failed(error);
    }
  }

  // After an action: the counts and lists again, then the message, which takes the focus.
  async #afterAction(text) {
    this.#notify("success", text, { focus: true });
    await this.#refresh();
  }

  #failed(error, text = error.message) {
    if (error.outage) this.#problem(error);
    this.#notify("error", text, { focus: true });
  }

  #guard(promise) {
    promise.catch((error) => this.#failed(error));
  }

  // -- payouts ----------------------------------------------------------------------------------

  async #loadPayouts({ more = false, keep = false } = {}) {
    const state = this.#payouts;
    const limit = keep ? Math.min(100, Math.max(10, state.items.length)) : 10;
    const page = await this.#api.payouts({ limit, cursor: more ? state.cursor : null });
    state.items = more ? [...state.items, ...page.items] : page.items;
    state.cursor = page.cursor;
    this.#slot("payouts").replaceChildren(
      renderPayouts(state.items, {
        hasMore: Boolean(state.cursor),
        onMore: () => this.#guard(this.#loadPayouts({ more: true })),
        onRetry: (payout) => this.#retryPayout(payout),
      }),
    );
  }

  async #retryPayout(payout) {
    try {
      await this.#api.retryPayout(payout.payout_id);
      await this.#afterAction("The payout is queued for its deposit in QuickBooks again.");
    } catch (error) {
      this.#failed(error);
    }
  }

  // -- accounts ---------------------------------------------------------------------------------

  // The company's accounts are read once per company (each list is a metered QuickBooks read);
  // the choices and the payouts waiting for a bank account on every refresh.
  async #loadAccounts() {
    const state = this.#accounts;
    const realm = this.#view?.realm_id;
    const [settings, waiting] = await Promise.all([this.#api.settings(), this.#api.payouts({ status: "waiting", limit: 100 })]);
    state.settings = settings;
    state.waitingPayouts = waiting.items.filter((p) => p.reason?.code === "payout_account_required").length;
    if (state.realm !== realm) {
      try {
        const lists = await Promise.all(ACCOUNT_PICKERS.map((picker) => this.#api.accounts(picker.type)));
        state.accounts = Object.fromEntries(ACCOUNT_PICKERS.map((picker, i) => [picker.type, lists[i].items]));
        state.realm = realm;
        state.failed = null;
      } catch (error) {
        if (error.outage) throw error;
        state.failed = error.message;
      }
    }
    this.#renderAccounts();
  }

  #renderAccounts() {
    const state = this.#accounts;
    const slot = this.#slot("accounts");
    const focused = document.activeElement?.closest?.(".qbo-accounts") ? document.activeElement.id : null;
    slot.replaceChildren(
      ...[
        h("p", { class: "qbo-hint" }, "Choose where QuickBooks books your payouts, fees, refunds and income. Each choice is for this QuickBooks company only."),
        state.failed ? h("p", { class: "qbo-error" }, state.failed) : null,
        renderAccounts(state, { onSave: (chosen) => this.#saveAccounts(chosen) }),
      ].filter(Boolean),
    );
    if (focused) this.querySelector(`#${CSS.escape(focused)}`)?.focus();
  }

  async #saveAccounts(chosen) {
    const state = this.#accounts;
    if (!Object.keys(chosen).length) {
      this.#notify("info", "Nothing changed: the accounts shown are the ones saved.", { focus: true });
      return;
    }
    state.saving = true;
    state.errors = {};
    this.#renderAccounts();
    try {
      state.settings = await this.#api.saveSettings(chosen);
      state.saving = false;
      const deposits = chosen.payout_account_id && state.waitingPayouts > 0;
      this.#notify(
        "success",
        deposits ? "Accounts saved. Waiting payouts are being deposited in QuickBooks now." : "Accounts saved. They apply from now on.",
        { focus: true },
      );
      await this.#refresh();
      if (deposits) setTimeout(() => this.#refresh(), 2000);
    } catch (error) {
      state.saving = false;
      if (error.code === "invalid_account" && error.field) {
        state.errors = { [error.field]: "QuickBooks does not have this account as an active account of the right kind. Choose another one." };
        this.#renderAccounts();
        this.querySelector(`select[name="${error.field}"]`)?.focus();
        this.#notify("error", "One account could not be saved; see the field marked below.");
        return;
      }
      this.#renderAccounts();
      this.#failed(error);
    }
  }
}

if (!customElements.get("qbo-export-settings")) {
  customElements.define("qbo-export-settings", QboExportSettings);
}
