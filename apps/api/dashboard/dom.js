// Small DOM helpers. Everything a model or a person wrote is put in the page as text (textContent,
// attributes), never as HTML: model output is untrusted input.

/**
 * Creates an element: `h("a", { href: "/", class: "x" }, "text", child)`. Attributes whose value is
 * null, undefined or false are left out; `on*` functions become listeners; children may be strings,
 * nodes, arrays or null.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of `element`. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

const usdFormat = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 4,
  maximumFractionDigits: 4,
});
const intFormat = new Intl.NumberFormat("en-US");

export const usd = (value) => usdFormat.format(value ?? 0);
export const int = (value) => intFormat.format(value ?? 0);

/** 850 ms, 12.3 s, 4 min 05 s, 1 h 02 min. */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${String(Math.floor((ms % 60_000) / 1000)).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** From `start` to `end` (or now, while it runs). */
export function elapsed(start, end) {
  if (!start) return null;
  return (end ? Date.parse(end) : Date.now()) - Date.parse(start);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

export const dateTime = (iso) => (iso ? dateFormat.format(new Date(iso)) : "—");
export const time = (iso) => (iso ? timeFormat.format(new Date(iso)) : "—");

/** `<time>` with the full timestamp as its title. */
export function timeElement(iso, format = dateTime) {
  return iso ? h("time", { datetime: iso, title: iso }, format(iso)) : "—";
}

const STATUS_CLASSES = {
  queued: "text-bg-secondary",
  pending: "text-bg-light border",
  running: "text-bg-primary",
  waiting: "text-bg-info",
  succeeded: "text-bg-success",
  skipped: "text-bg-light border",
  failed: "text-bg-danger",
  cancelled: "text-bg-warning",
  budget_exceeded: "text-bg-warning",
};

/** A coloured badge for a session, phase or call status. */
export function statusBadge(status) {
  return h(
    "span",
    { class: `badge ${STATUS_CLASSES[status] ?? "text-bg-secondary"}`, "data-status": status },
    status,
  );
}

/** A Bootstrap alert with a message (role=alert so screen readers announce it). */
export function alert(message, kind = "danger") {
  return h("div", { class: `alert alert-${kind}`, role: "alert" }, message);
}

/** A structured value (a plan, the requirements) as nested lists a person can read. */
export function renderValue(value, depth = 0) {
  if (value === null || value === undefined) return h("span", { class: "text-body-secondary" }, "—");
  if (typeof value === "string") return h("span", { class: "text-pre-wrap" }, value);
  if (typeof value !== "object") return h("span", {}, String(value));
  if (Array.isArray(value)) {
    if (value.length === 0) return h("span", { class: "text-body-secondary" }, "none");
    return h(
      "ul",
      { class: "mb-1 ps-3" },
      value.map((item) => h("li", {}, renderValue(item, depth + 1))),
    );
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return h("span", { class: "text-body-secondary" }, "—");
  return h(
    "dl",
    { class: `mb-1 ${depth > 0 ? "ms-1" : ""}` },
    entries.map(([key, item]) => [
      h("dt", { class: "small text-body-secondary" }, humanize(key)),
      h("dd", { class: "mb-1" }, renderValue(item, depth + 1)),
    ]),
  );
}

/** `backendPosition` → "Backend position". */
export function humanize(key) {
  const words = key
    .replace(/[_-]+/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Calls `fn` at most once per `ms`, and always once more after the last request: a steady stream
 * of requests (events during a run) still updates the page every `ms`, never only at the end.
 */
export function throttle(fn, ms) {
  let timer = null;
  let last = 0;
  return () => {
    if (timer !== null) return;
    timer = setTimeout(
      () => {
        timer = null;
        last = Date.now();
        fn();
      },
      Math.max(0, last + ms - Date.now()),
    );
  };
}

/** `url` when it is an http(s) address, else null (no `javascript:` links from stored data). */
export function safeUrl(url) {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A function that says whether `value` differs from the last one it saw. */
export function changes() {
  let last;
  return (value) => {
    const key = JSON.stringify(value);
    if (key === last) return false;
    last = key;
    return true;
  };
}

/** A Bootstrap card with a heading (a labelled region). */
export function card(title, id, ...body) {
  return h(
    "section",
    { class: "card", "aria-labelledby": id },
    h("div", { class: "card-header" }, h("h2", { class: "h6 mb-0", id }, title)),
    h("div", { class: "card-body" }, ...body),
  );
}
