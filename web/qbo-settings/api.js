// The qbo-sync HTTP API as the settings page uses it (docs/settings-page.md).
// Every call carries the platform's JWT and `credentials: "include"`, so that the browser
// keeps the short-lived connect cookie that binds Intuit's callback to this browser.
//
// The token: `tokenProvider()` gives the contractor's access token; on a 401 the page asks
// once more with `tokenProvider({ forceRefresh: true })` (the platform then returns a fresh
// token, not a cached one) and repeats the request once.
//
// Errors: an ApiError's `message` is always a sentence for the contractor, never a status text
// or an exception's message: the API's own `message` for its JSON errors (4xx), else one of
// the sentences below. `kind` is "unreachable" (network), "unavailable" (5xx), "unauthorized"
// (401 after the refresh) or "refused" (the API's 4xx answer, with `code`).

export const UNREACHABLE =
  "We can't reach the export service right now. Your invoices are safe and will export when it is back.";
export const UNAUTHORIZED = "Your sign-in has expired. Sign in to the platform again, then come back to this page.";

export class ApiError extends Error {
  constructor(kind, message, { status = null, code = null, field = null } = {}) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.field = field;
  }

  // A failure of the service, not of this request: the page keeps its data and offers Try again.
  get outage() {
    return this.kind === "unreachable" || this.kind === "unavailable" || this.kind === "unauthorized";
  }
}

export class QboApi {
  constructor(baseUrl, getToken) {
    this.baseUrl = (baseUrl || "").replace(/\/$/, "");
    this.getToken = getToken;
  }

  async request(method, path, body = undefined) {
    let response = await this.#send(method, path, body, await this.#token(false));
    if (response.status === 401) response = await this.#send(method, path, body, await this.#token(true));
    if (response.status === 204) return null;
    const json = await response.json().catch(() => null);
    if (response.ok) return json;
    if (response.status === 401) throw new ApiError("unauthorized", UNAUTHORIZED, { status: 401 });
    if (response.status >= 500 || !json || typeof json.error !== "string" || !json.message) {
      throw new ApiError("unavailable", UNREACHABLE, { status: response.status });
    }
    throw new ApiError("refused", json.message, { status: response.status, code: json.error, field: json.field || null });
  }

  async #token(forceRefresh) {
    try {
      return await (forceRefresh ? this.getToken({ forceRefresh: true }) : this.getToken());
    } catch {
      throw new ApiError("unauthorized", UNAUTHORIZED);
    }
  }

  async #send(method, path, body, token) {
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await fetch(this.baseUrl + path, {
        method,
        credentials: "include",
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError("unreachable", UNREACHABLE);
    }
  }

  connection() {
    return this.request("GET", "/quickbooks/connection");
  }

  // Answers Intuit's authorization URL (and sets the connect cookie on this API's origin).
  async authorizationUrl() {
    return (await this.request("GET", "/quickbooks/connect")).authorization_url;
  }

  disconnect() {
    return this.request("DELETE", "/quickbooks/connection");
  }

  // filters: { status, number, client_id, limit, cursor } (empty ones left out).
  exports(filters = {}) {
    return this.request("GET", `/quickbooks/exports?${query({ limit: "25", ...filters })}`);
  }

  retry(invoiceId) {
    return this.request("POST", `/quickbooks/exports/${encodeURIComponent(invoiceId)}/retry`);
  }

  dismiss(invoiceId) {
    return this.request("POST", `/quickbooks/exports/${encodeURIComponent(invoiceId)}/dismiss`);
  }

  payouts(filters = {}) {
    return this.request("GET", `/quickbooks/payouts?${query({ limit: "10", ...filters })}`);
  }

  retryPayout(payoutId) {
    return this.request("POST", `/quickbooks/payouts/${encodeURIComponent(payoutId)}/retry`);
  }

  accounts(type) {
    return this.request("GET", `/quickbooks/accounts?${query({ type })}`);
  }

  settings() {
    return this.request("GET", "/quickbooks/settings");
  }

  saveSettings(choices) {
    return this.request("PUT", "/quickbooks/settings", choices);
  }

  // contracts §15: the latest history request and its progress (404 not_found: none yet).
  history() {
    return this.request("GET", "/quickbooks/history");
  }

  requestHistory(since) {
    return this.request("POST", "/quickbooks/history", { since });
  }
}

function query(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== "") params.set(name, String(value));
  }
  return params;
}
