// The qbo-sync HTTP API as the settings page uses it (README: "The settings page").
// Every call carries the platform's JWT and `credentials: "include"`, so that the browser
// keeps the short-lived connect cookie that binds Intuit's callback to this browser.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || "QuickBooks export settings could not be loaded. Try again in a moment.");
    this.status = status;
    this.code = body?.error || null;
  }
}

export class QboApi {
  constructor(baseUrl, getToken) {
    this.baseUrl = (baseUrl || "").replace(/\/$/, "");
    this.getToken = getToken;
  }

  async request(method, path) {
    const token = await this.getToken();
    const response = await fetch(this.baseUrl + path, {
      method,
      credentials: "include",
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    });
    if (response.status === 204) return null;
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
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

  exports(cursor) {
    const query = new URLSearchParams({ limit: "25" });
    if (cursor) query.set("cursor", cursor);
    return this.request("GET", `/quickbooks/exports?${query}`);
  }

  retry(invoiceId) {
    return this.request("POST", `/quickbooks/exports/${encodeURIComponent(invoiceId)}/retry`);
  }
}
