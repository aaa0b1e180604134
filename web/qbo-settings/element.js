// <qbo-export-settings>: the "Accounting export settings" section, as a custom element.
//
//   <qbo-export-settings api-base="https://api.example.com" qbo-app-url="https://app.qbo.intuit.com">
//   element.tokenProvider = async () => "<the contractor's JWT>";
//
// Attributes: api-base (the HTTP API, no trailing slash; empty: this origin), qbo-app-url
// (QuickBooks' web app, app.sandbox.qbo.intuit.com for sandbox), payments-claim (the JWT
// claim saying invoice payments are on; default payments_enabled), refresh-seconds (how often
// the export list refreshes while the page is visible; 0: never; default 30).
//
// Sections are independent: account pickers (GET/PUT /quickbooks/settings) and payouts
// (GET /quickbooks/payouts) slot in as further sections once those routes exist.

import { QboApi } from "./api.js";
import { h } from "./dom.js";
import { renderConnection } from "./connection.js";
import { renderExports } from "./exports.js";
import { takeCallbackResult } from "./messages.js";

class QboExportSettings extends HTMLElement {
  #tokenProvider = null;
  #started = false;
  #timer = null;
  #items = [];
  #cursor = null;
  #view = null;

  set tokenProvider(provider) {
    this.#tokenProvider = provider;
    if (this.isConnected) this.#start();
  }

  connectedCallback() {
    if (this.#tokenProvider) this.#start();
  }

  disconnectedCallback() {
    clearInterval(this.#timer);
  }

  get #api() {
    return new QboApi(this.getAttribute("api-base") || "", this.#tokenProvider);
  }

  #start() {
    if (this.#started) return;
    this.#started = true;
    this.replaceChildren(this.#skeleton());
    const result = takeCallbackResult(window.location, window.history);
    if (result) this.#notify(result.kind, result.text);
    this.#loadConnection();
    this.#loadExports();
    const seconds = Number(this.getAttribute("refresh-seconds") ?? 30);
    if (seconds > 0) {
      this.#timer = setInterval(() => document.visibilityState === "visible" && this.#refresh(), seconds * 1000);
    }
  }

  #skeleton() {
    return h(
      "section",
      { class: "qbo", "aria-labelledby": "qbo-title" },
      h("h2", { id: "qbo-title", tabindex: "-1" }, "QuickBooks Online"),
      h("div", { class: "qbo-notice", role: "status", "aria-live": "polite" }),
      h("div", { class: "qbo-connection-slot", "aria-busy": "true" }, h("p", {}, "Loading…")),
      h(
        "section",
        { class: "qbo-exports", "aria-labelledby": "qbo-exports-title" },
        h(
          "div",
          { class: "qbo-exports-head" },
          h("h3", { id: "qbo-exports-title" }, "Invoices sent to QuickBooks"),
          h("button", { type: "button", class: "qbo-secondary", onclick: () => this.#refresh() }, "Refresh"),
        ),
        h("div", { class: "qbo-exports-slot" }),
      ),
    );
  }

  #slot(name) {
    return this.querySelector(`.qbo-${name}-slot`);
  }

  #notify(kind, text) {
    const notice = this.querySelector(".qbo-notice");
    notice.dataset.kind = kind;
    notice.textContent = text;
  }

  #refresh() {
    this.#loadConnection();
    this.#loadExports();
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
    try {
      const [view, paymentsEnabled] = await Promise.all([this.#api.connection(), this.#paymentsEnabled()]);
      // A notice about the previous state ("connected") would contradict the new one.
      if (this.#view && this.#view.status !== view.status) this.#notify("info", "");
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
    } catch (error) {
      slot.replaceChildren(h("p", { class: "qbo-error", role: "alert" }, error.message));
    }
    slot.setAttribute("aria-busy", "false");
  }

  // Top-level navigation to Intuit, never a popup or an iframe: Intuit's pages refuse to be
  // framed, and its cookies would be third-party cookies there.
  async #connect(button) {
    button.disabled = true;
    try {
      window.location.assign(await this.#api.authorizationUrl());
    } catch (error) {
      if (error.code === "payments_not_enabled") return this.#loadConnection(error.message);
      button.disabled = false;
      this.#notify("error", error.message);
    }
  }

  async #disconnect() {
    try {
      await this.#api.disconnect();
      await this.#loadConnection();
      this.#notify("info", "QuickBooks is disconnected. Invoices are no longer exported to it.");
      this.querySelector(".qbo-connect-button")?.focus();
    } catch (error) {
      this.#notify("error", error.message);
    }
  }

  async #loadExports(more = false) {
    const slot = this.#slot("exports");
    try {
      const page = await this.#api.exports(more ? this.#cursor : null);
      this.#items = more ? [...this.#items, ...page.items] : page.items;
      this.#cursor = page.cursor;
      slot.replaceChildren(
        renderExports(this.#items, {
          qboAppUrl: (this.getAttribute("qbo-app-url") || "https://app.qbo.intuit.com").replace(/\/$/, ""),
          onRetry: (item) => this.#retry(item),
          hasMore: Boolean(page.cursor),
          onMore: () => this.#loadExports(true),
        }),
      );
    } catch (error) {
      slot.replaceChildren(h("p", { class: "qbo-error", role: "alert" }, error.message));
    }
  }

  async #retry(item) {
    try {
      await this.#api.retry(item.invoice_id);
      this.#notify("info", `Invoice ${item.invoice_number} is queued for export again.`);
      await this.#loadExports();
    } catch (error) {
      this.#notify("error", error.message);
    }
  }
}

if (!customElements.get("qbo-export-settings")) {
  customElements.define("qbo-export-settings", QboExportSettings);
}
