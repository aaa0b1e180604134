// A tiny element builder: text always goes in as textContent, never as HTML, so nothing the
// API returns (company names, reasons) can inject markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function formatTime(iso) {
  if (!iso) return "never";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

// A calendar date ("2026-11-24") as the contractor's locale writes it, without a time zone
// shift (a date has none).
export function formatDate(value) {
  if (!value) return "—";
  const [year, month, day] = String(value).split("-").map(Number);
  if (!year || !month || !day) return String(value);
  return new Date(year, month - 1, day).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function formatMoney(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  const number = Number(amount);
  if (!currency || Number.isNaN(number)) return String(amount);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(number);
  } catch {
    return `${amount} ${currency}`;
  }
}

// An inline confirmation in place of a button: the question, the confirming action and Cancel.
// Keyboard first: focus goes to Cancel (the safe choice); Escape cancels.
export function confirmation({ question, consequence, confirmLabel, confirmName, onConfirm, onCancel }) {
  const box = h(
    "div",
    { class: "qbo-confirm", role: "group", "aria-label": question },
    h("p", { class: "qbo-confirm-question" }, h("strong", {}, question), " ", consequence),
  );
  const cancel = h("button", { type: "button", class: "qbo-secondary", onclick: onCancel }, "Cancel");
  const confirm = h("button", { type: "button", class: "qbo-danger", "aria-label": confirmName || null, onclick: onConfirm }, confirmLabel);
  box.append(h("div", { class: "qbo-actions" }, confirm, cancel));
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape") onCancel();
  });
  queueMicrotask(() => cancel.focus());
  return box;
}
