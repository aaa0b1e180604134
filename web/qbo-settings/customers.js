// The contractor's own customers (contracts §16): on an invoice QuickBooks could not take for
// want of its client's customer (client_name_taken, invoice_number_taken), "Link to a
// QuickBooks customer": a search box, the customers found, pick one, done. And the Clients
// view: the clients linked to a customer, each with Unlink.
//
// GET /quickbooks/customers?search=, PUT and DELETE /quickbooks/clients/{client_id}/customer,
// GET /quickbooks/clients. Every refusal is shown as the sentence messages.js gives its code
// (or the API's own sentence).

import { h, formatTime, formatMoney, confirmation } from "./dom.js";
import { customerProblem } from "./messages.js";

// The failures a link fixes; the API sends these invoices again once the client is linked.
export const FIXED_BY_LINK = new Set(["client_name_taken", "invoice_number_taken"]);

export class CustomerLinks {
  // api(): the element's QboApi; slot(): the Clients section's slot; afterAction(text): the
  // element's success message and refresh; failed(error): its error message.
  constructor({ api, slot, afterAction, failed }) {
    this.api = api;
    this.slot = slot;
    this.afterAction = afterAction;
    this.failed = failed;
    this.links = [];
    this.picking = null; // { invoiceId, text, found, problem }: the open picker
  }

  async load() {
    this.links = (await this.api().request("GET", "/quickbooks/clients")).items;
    this.render();
  }

  render() {
    this.slot().replaceChildren(renderLinks(this.links, (link) => this.unlink(link)));
  }

  async unlink(link) {
    try {
      await this.api().request("DELETE", clientPath(link.client_id));
      const name = link.client_name || link.client_id;
      await this.afterAction(`${name} is no longer linked. Their next invoice goes to the QuickBooks customer with their name.`);
    } catch (error) {
      this.failed(error, customerProblem(error));
    }
  }

  // The action beside a failed invoice's Retry (null when a link would not fix it). An open
  // picker (its text and what it found) survives the list's refresh, and keeps the focus.
  linkAction(item) {
    if (item.status !== "failed" || !item.client_id || !FIXED_BY_LINK.has(item.reason?.code)) return null;
    const holder = h("div", { class: "qbo-customer-link" });
    const open = h(
      "button",
      { type: "button", class: "qbo-secondary", "aria-label": `Link invoice ${item.invoice_number}'s client to a QuickBooks customer`, onclick: () => show(true) },
      "Link to a QuickBooks customer",
    );
    const close = () => {
      this.picking = null;
      holder.replaceChildren(open);
      open.focus();
    };
    const show = (focus) => {
      if (this.picking?.invoiceId !== item.invoice_id) this.picking = { invoiceId: item.invoice_id, text: item.client_name?.split(" ").pop() || "", found: null, problem: null };
      holder.replaceChildren(this.#picker(item, close));
      if (focus) queueMicrotask(() => holder.querySelector("input")?.focus());
    };
    if (this.picking?.invoiceId === item.invoice_id) {
      show(Boolean(document.activeElement?.closest?.(".qbo-customer-picker")));
    } else {
      holder.append(open);
    }
    return holder;
  }

  #picker(item, onCancel) {
    const state = this.picking;
    const client = item.client_name || "this client";
    const inputId = `qbo-customer-search-${item.invoice_id}`;
    const input = h("input", { id: inputId, type: "search", autocomplete: "off", maxlength: "100", value: state.text });
    input.addEventListener("input", () => (state.text = input.value));
    const results = h("div", { class: "qbo-customer-results", "aria-live": "polite" });
    const showResults = () => {
      if (state.problem) results.replaceChildren(h("p", { class: "qbo-error", role: "alert" }, state.problem));
      else if (state.found) results.replaceChildren(renderFound(state.found, item, (customer) => this.#link(item, customer)));
    };
    const form = h(
      "form",
      { class: "qbo-customer-picker", role: "search", "aria-label": `Find the QuickBooks customer for ${client}` },
      h("label", { for: inputId }, `Customer in QuickBooks for ${client}`),
      h("div", { class: "qbo-actions" }, input, h("button", { type: "submit", class: "qbo-secondary" }, "Find"), h("button", { type: "button", class: "qbo-link-button", onclick: onCancel }, "Cancel")),
      results,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      results.replaceChildren(h("p", {}, "Looking in QuickBooks…"));
      try {
        const found = await this.api().request("GET", `/quickbooks/customers?${new URLSearchParams({ search: input.value.trim() })}`);
        Object.assign(state, { found: found.items, problem: null });
      } catch (error) {
        Object.assign(state, { found: null, problem: customerProblem(error) });
      }
      showResults();
    });
    showResults();
    return form;
  }

  async #link(item, customer) {
    try {
      await this.api().request("PUT", clientPath(item.client_id), { qbo_customer_id: customer.qbo_customer_id });
      this.picking = null;
      const client = item.client_name || "The client";
      await this.afterAction(
        `${client} is linked to ${customer.display_name} in QuickBooks. Invoice ${item.invoice_number} is being exported to it, and so are their next invoices.`,
      );
    } catch (error) {
      this.failed(error, customerProblem(error));
    }
  }
}

function clientPath(clientId) {
  return `/quickbooks/clients/${encodeURIComponent(clientId)}/customer`;
}

function renderFound(customers, item, onPick) {
  if (!customers.length) return h("p", {}, "No active customer in QuickBooks has that in its name. Try part of the name, or the company name.");
  return h(
    "ul",
    { class: "qbo-customer-list", "aria-label": "Customers found in QuickBooks" },
    customers.map((customer) => {
      const taken = customer.linked_client_id && customer.linked_client_id !== item.client_id;
      const facts = [customer.company_name, customer.email, `balance ${formatMoney(customer.balance, customer.currency)}`].filter(Boolean).join(" · ");
      return h(
        "li",
        { "data-customer": customer.qbo_customer_id },
        h("span", { class: "qbo-customer-name" }, customer.display_name),
        h("span", { class: "qbo-hint" }, ` ${facts}`),
        taken
          ? h("span", { class: "qbo-hint" }, " (linked to another client)")
          : h("button", { type: "button", class: "qbo-primary", "aria-label": `Link to ${customer.display_name}`, onclick: () => onPick(customer) }, "Link"),
      );
    }),
  );
}

function renderLinks(links, onUnlink) {
  if (!links.length) {
    return h("p", { class: "qbo-empty" }, "No client is linked. Invoices go to the QuickBooks customer with the client's name, made if there is none.");
  }
  return h(
    "table",
    { class: "qbo-table qbo-clients-table" },
    h("caption", { class: "qbo-visually-hidden" }, "Clients linked to a QuickBooks customer"),
    h("thead", {}, h("tr", {}, ["Client", "Customer in QuickBooks", "Linked", "Action"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      links.map((link) => {
        const name = link.client_name || link.client_id;
        const cell = h("td", { "data-label": "Action" });
        const unlink = h("button", { type: "button", class: "qbo-link-button", "aria-label": `Unlink ${name}`, onclick: () => ask() }, "Unlink");
        cell.append(unlink);
        function ask() {
          cell.replaceChildren(
            confirmation({
              question: `Unlink ${name}?`,
              consequence: `Invoices already in QuickBooks stay with ${link.display_name}; the next ones go to the customer named ${name}.`,
              confirmLabel: "Yes, unlink",
              confirmName: `Yes, unlink ${name}`,
              onConfirm: () => onUnlink(link),
              onCancel: () => {
                cell.replaceChildren(unlink);
                unlink.focus();
              },
            }),
          );
        }
        return h(
          "tr",
          { "data-client": link.client_id },
          h("th", { scope: "row", "data-label": "Client" }, name),
          h("td", { "data-label": "Customer in QuickBooks" }, link.display_name),
          h("td", { "data-label": "Linked" }, formatTime(link.linked_at)),
          cell,
        );
      }),
    ),
  );
}
