// The audit trail (GET /api/audit): who changed what, when, from where. A server without the
// audit route (404) gets a plain "not available" instead of an error.
import { ApiError, api } from "./api.js";
import { alert, h, replace, timeElement } from "./dom.js";

export function auditView({ root }) {
  const body = h("tbody");
  const message = h("div", { role: "status", "aria-live": "polite" });
  const more = h(
    "button",
    { class: "btn btn-sm btn-outline-secondary", type: "button", hidden: true },
    "Older →",
  );
  const table = h(
    "div",
    { class: "table-responsive" },
    h(
      "table",
      { class: "table table-sm align-middle", id: "audit" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Time", "Action", "Outcome", "Request", "Client", "Session", "Detail"].map((title) =>
            h("th", { scope: "col" }, title),
          ),
        ),
      ),
      body,
    ),
  );
  replace(root, h("h1", { class: "h4" }, "Audit trail"), message, table, more);
  let cursor = null;

  const load = async () => {
    try {
      const page = await api(`/api/audit${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
      for (const item of page.items) {
        body.append(
          h(
            "tr",
            {},
            h("td", { class: "small text-nowrap" }, timeElement(item.at)),
            h("td", {}, item.action),
            h(
              "td",
              {},
              h(
                "span",
                {
                  class: `badge ${/^(ok|success|succeeded|allowed)$/i.test(item.outcome) ? "text-bg-success" : "text-bg-warning"}`,
                },
                item.outcome,
              ),
            ),
            h("td", { class: "small font-monospace" }, `${item.method} ${item.route}`),
            h("td", { class: "small" }, item.clientAddress),
            h(
              "td",
              { class: "small" },
              item.sessionId
                ? h(
                    "a",
                    { href: `/?session=${item.sessionId}`, "data-link": true },
                    item.sessionId.slice(0, 8),
                  )
                : "—",
            ),
            h(
              "td",
              { class: "small text-break" },
              item.detail == null
                ? ""
                : typeof item.detail === "string"
                  ? item.detail
                  : JSON.stringify(item.detail),
            ),
          ),
        );
      }
      if (!body.children.length)
        body.append(
          h("tr", {}, h("td", { colspan: 7, class: "text-body-secondary" }, "Nothing recorded yet.")),
        );
      cursor = page.nextCursor;
      more.hidden = !cursor;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        table.hidden = true;
        replace(
          message,
          alert("The audit trail is not available on this server (it has no GET /api/audit).", "info"),
        );
      } else {
        replace(message, alert(error.message));
      }
    }
  };
  more.addEventListener("click", load);
  void load();
  return () => {};
}
