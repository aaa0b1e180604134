// The "Earlier invoices" section (contracts §15): send the invoices issued since a date (those
// sent before QuickBooks was connected) to QuickBooks, and follow the request to its end.
// POST /quickbooks/history asks; GET /quickbooks/history is polled while the request runs.
//
// The API's refusals name the field for developers ("since: …"); the contractor reads the
// sentences below instead, next to the date.

import { h, formatDate } from "./dom.js";

const POLL_MS = 3000; // while a request runs; the element's own refresh is much slower
const INPUT_ID = "qbo-earlier-since";
const YEARS_BACK = 5; // the API's limit (contracts §15)

const REFUSALS = {
  format: "Enter the date of the first invoice to send, for example 2026-01-01.",
  future: "That date is after today. Choose today or an earlier date.",
  tooOld: "QuickBooks can receive invoices from the last five years only. Choose a later date.",
  running: "Your earlier invoices are already being sent. You can send more once that finishes.",
  notConnected: "QuickBooks is not connected any more. Connect it above, then send your earlier invoices.",
};

export class HistorySection {
  #slot;
  #api;
  #onDone;
  #timer = null;
  #progress = null; // the latest GET's answer; null: no request made yet
  #error = null;
  #sending = false;
  #announced = null; // the request whose end was announced (a poll and a refresh may both see it)

  // api: a function answering the element's QboApi; onDone: called once when a request that ran
  // while the page was open is done (the invoices list then shows what it did).
  constructor(slot, { api, onDone }) {
    this.#slot = slot;
    this.#api = api;
    this.#onDone = onDone;
  }

  // The latest request's progress; an outage is thrown for the element to show once.
  async load() {
    if (!this.#slot.firstChild) this.#slot.replaceChildren(...this.#skeleton());
    await this.#fetch();
  }

  stop() {
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #fetch() {
    const before = this.#progress;
    try {
      this.#progress = await this.#api().history();
    } catch (error) {
      if (error.code !== "not_found") throw error;
      this.#progress = null;
    }
    this.#render();
    const running = this.#progress && this.#progress.status !== "done";
    if (running) this.#schedule();
    else this.stop();
    const finished = this.#progress?.status === "done" && before && before.status !== "done";
    if (finished && this.#announced !== this.#progress.request_id) {
      this.#announced = this.#progress.request_id;
      this.#onDone();
    }
  }

  // One timer at a time; it ends itself once the section has left the page.
  #schedule() {
    this.stop();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#slot.isConnected) return;
      if (document.visibilityState !== "visible") return this.#schedule();
      this.#fetch().catch(() => this.#schedule()); // an outage: the element's refresh says so
    }, POLL_MS);
  }

  #skeleton() {
    const input = h("input", {
      id: INPUT_ID,
      type: "date",
      name: "since",
      max: isoDay(new Date()),
      min: isoDay(yearsAgo(YEARS_BACK)),
      "aria-describedby": `${INPUT_ID}-help`,
    });
    const form = h(
      "form",
      { class: "qbo-earlier-form", novalidate: true },
      h(
        "div",
        { class: "qbo-field" },
        h("label", { for: INPUT_ID }, "Send invoices issued since"),
        h("p", { id: `${INPUT_ID}-help`, class: "qbo-hint" }, "For example, the first day of your financial year. Up to five years back."),
        input,
        h("p", { id: `${INPUT_ID}-error`, class: "qbo-field-error", hidden: true }),
      ),
      h("div", { class: "qbo-actions" }, h("button", { type: "submit", class: "qbo-primary" }, "Send earlier invoices")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#send(input.value);
    });
    return [
      h(
        "p",
        { class: "qbo-hint" },
        "Invoices you sent before connecting QuickBooks can be sent to it now. An invoice you already keyed into QuickBooks by hand, with the same number, client and total, is recognised and matched, not added a second time.",
      ),
      h("div", { class: "qbo-earlier-progress", "aria-live": "polite", tabindex: "-1" }),
      form,
    ];
  }

  async #send(since) {
    this.#sending = true;
    this.#error = null;
    this.#render();
    try {
      await this.#api().requestHistory(since);
    } catch (error) {
      this.#sending = false;
      this.#error = refusal(error, since);
      this.#render();
      this.#slot.querySelector(`#${INPUT_ID}`).focus();
      if (error.code === "history_in_progress") await this.#fetch().catch(() => {});
      return;
    }
    this.#sending = false;
    // Accepted: its progress follows (an outage now only delays it: the poll tries again).
    await this.#fetch().catch(() => {
      this.#render();
      this.#schedule();
    });
    this.#slot.querySelector(".qbo-earlier-progress").focus();
  }

  #render() {
    const progress = this.#slot.querySelector(".qbo-earlier-progress");
    const lines = this.#progress ? describe(this.#progress) : [];
    const text = lines.join("\n");
    if (progress.dataset.text !== text) {
      progress.dataset.text = text;
      progress.dataset.status = this.#progress?.status || "none";
      progress.replaceChildren(...lines.map((line) => h("p", {}, line)));
    }
    this.#renderField();
  }

  #renderField() {
    const input = this.#slot.querySelector(`#${INPUT_ID}`);
    const error = this.#slot.querySelector(`#${INPUT_ID}-error`);
    error.textContent = this.#error || "";
    error.hidden = !this.#error;
    input.setAttribute("aria-invalid", this.#error ? "true" : "false");
    input.setAttribute("aria-describedby", [`${INPUT_ID}-help`, this.#error ? error.id : null].filter(Boolean).join(" "));
    input.closest(".qbo-field").classList.toggle("qbo-field-invalid", Boolean(this.#error));
    const button = this.#slot.querySelector("button[type=submit]");
    const running = this.#progress && this.#progress.status !== "done";
    button.disabled = this.#sending || Boolean(running);
    button.textContent = this.#sending ? "Sending…" : "Send earlier invoices";
  }
}

// The request in sentences: waiting for the platform, how far it is, or what it did. Exported
// for the browser test of the wording of states the local stack cannot hold still.
export function describe(progress) {
  const { exported, adopted, failed, expected } = progress;
  const done = exported + adopted + failed;
  const since = formatDate(progress.since);
  const parts = counts(progress);
  if (progress.status === "done") {
    const asked = `You asked for them on ${formatDay(progress.requested_at)}.`;
    if (!done) return [`Done: the platform had no invoices issued since ${since}.`, asked];
    const lines = [`Done: ${plural(done, "invoice")} issued since ${since}${parts ? `: ${parts}` : ""}.`, asked];
    if (failed) lines.push("The invoices that need attention are marked Failed in the list below, each with what to do.");
    return lines;
  }
  const scope = `Invoices issued since ${since}. This updates by itself.`;
  if (expected === null || expected === undefined) {
    if (!done) return ["Waiting for the platform to list your invoices…", scope];
    return [`${plural(done, "invoice")} done so far: ${parts}. Waiting for the platform to list the rest…`, scope];
  }
  return [`${done} of ${plural(expected, "invoice")} done${parts ? `: ${parts}` : ""}.`, scope];
}

function counts({ exported, adopted, failed }) {
  return [
    exported ? `${exported} sent` : null,
    adopted ? `${adopted} matched ${adopted === 1 ? "an invoice" : "invoices"} already in QuickBooks` : null,
    failed ? `${failed} ${failed === 1 ? "needs" : "need"} attention` : null,
  ]
    .filter(Boolean)
    .join(", ");
}

// The API's refusal of a date as the contractor reads it. invalid_since has three causes; a
// date within the last few years can only have been refused as in the future (the API's day
// may be ahead of the browser's).
function refusal(error, since) {
  if (error.code === "history_in_progress") return REFUSALS.running;
  if (error.code === "not_connected") return REFUSALS.notConnected;
  if (error.code !== "invalid_since") return error.message;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(since) ? new Date(`${since}T00:00:00`) : null;
  if (!day || Number.isNaN(day.getTime())) return REFUSALS.format;
  return day < yearsAgo(YEARS_BACK - 1) ? REFUSALS.tooOld : REFUSALS.future;
}

function plural(n, noun) {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}

function yearsAgo(years) {
  const day = new Date();
  day.setFullYear(day.getFullYear() - years);
  return day;
}

// A date input's value (YYYY-MM-DD) for the browser's own day.
function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// When the request was made, as the contractor's own calendar day.
function formatDay(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? formatDate(iso) : formatDate(isoDay(date));
}
