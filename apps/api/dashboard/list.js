// The sessions list: a submit form, filters (status, workflow), keyset pages, and live updates
// from the all-sessions event stream (the page re-reads its rows when something happens).
import { ApiError, api, follow } from "./api.js";
import { alert, duration, elapsed, h, int, replace, statusBadge, throttle, timeElement, usd } from "./dom.js";

const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled", "budget_exceeded"];
const PAGE_SIZE = 20;

export function listView({ root, params, navigate, setLiveState }) {
  const filters = { status: params.get("status") ?? "", workflow: params.get("workflow") ?? "" };
  // The cursors of the pages before this one (keyset pagination only goes forward).
  const cursors = [];
  let cursor = null;
  let nextCursor = null;

  const status = h(
    "select",
    { class: "form-select form-select-sm", id: "filter-status", name: "status" },
    h("option", { value: "" }, "any status"),
    STATUSES.map((value) => h("option", { value, selected: value === filters.status }, value)),
  );
  const workflowFilter = h(
    "select",
    { class: "form-select form-select-sm", id: "filter-workflow", name: "workflow" },
    h("option", { value: "" }, "any workflow"),
  );
  const rows = h("tbody", {}, h("tr", {}, h("td", { colspan: 7, class: "text-body-secondary" }, "Loading…")));
  const message = h("div", { role: "status", "aria-live": "polite" });
  const previous = h(
    "button",
    { class: "btn btn-sm btn-outline-secondary", type: "button", disabled: true },
    "← Newer",
  );
  const next = h(
    "button",
    { class: "btn btn-sm btn-outline-secondary", type: "button", disabled: true },
    "Older →",
  );
  const form = submitForm({ navigate });

  replace(
    root,
    h(
      "div",
      { class: "row g-4" },
      h(
        "section",
        { class: "col-lg-4 order-lg-2", "aria-labelledby": "submit-title" },
        h("h2", { class: "h5", id: "submit-title" }, "New session"),
        form.element,
      ),
      h(
        "section",
        { class: "col-lg-8", "aria-labelledby": "sessions-title" },
        h(
          "div",
          { class: "d-flex flex-wrap gap-2 align-items-end mb-2" },
          h("h1", { class: "h4 me-auto mb-0", id: "sessions-title" }, "Sessions"),
          h(
            "div",
            {},
            h("label", { class: "form-label small mb-0", for: "filter-status" }, "Status"),
            status,
          ),
          h(
            "div",
            {},
            h("label", { class: "form-label small mb-0", for: "filter-workflow" }, "Workflow"),
            workflowFilter,
          ),
        ),
        message,
        h(
          "div",
          { class: "table-responsive" },
          h(
            "table",
            { class: "table table-hover align-middle", id: "sessions" },
            h("caption", { class: "visually-hidden" }, "Sessions, newest first"),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Request", "Status", "Workflow", "Cost", "Tokens", "Duration", "Started"].map((title) =>
                  h(
                    "th",
                    { scope: "col", class: ["Cost", "Tokens", "Duration"].includes(title) ? "text-end" : "" },
                    title,
                  ),
                ),
              ),
            ),
            rows,
          ),
        ),
        h("nav", { class: "d-flex gap-2", "aria-label": "Pages" }, previous, next),
      ),
    ),
  );

  const load = async () => {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) query.set("cursor", cursor);
    if (filters.status) query.set("status", filters.status);
    if (filters.workflow) query.set("workflow", filters.workflow);
    try {
      const page = await api(`/api/sessions?${query}`);
      nextCursor = page.nextCursor;
      replace(rows, page.sessions.length ? page.sessions.map(row) : emptyRow());
      replace(message);
    } catch (error) {
      replace(message, alert(error.message));
    }
    previous.disabled = cursors.length === 0;
    next.disabled = nextCursor === null;
  };

  const refilter = () => {
    filters.status = status.value;
    filters.workflow = workflowFilter.value;
    cursors.length = 0;
    cursor = null;
    const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value));
    history.replaceState(null, "", query.size ? `/?${query}` : "/");
    void load();
  };
  status.addEventListener("change", refilter);
  workflowFilter.addEventListener("change", refilter);
  next.addEventListener("click", () => {
    if (!nextCursor) return;
    cursors.push(cursor);
    cursor = nextCursor;
    void load();
  });
  previous.addEventListener("click", () => {
    if (cursors.length === 0) return;
    cursor = cursors.pop();
    void load();
  });

  api("/api/workflows")
    .then(({ workflows }) => {
      for (const workflow of workflows) {
        workflowFilter.append(
          h("option", { value: workflow.name, selected: workflow.name === filters.workflow }, workflow.name),
        );
      }
      form.setWorkflows(workflows);
    })
    .catch((error) => replace(message, alert(error.message)));
  api("/api/info")
    .then((info) => form.setInfo(info))
    .catch(() => form.setInfo({ canPublish: false, defaultWorkflow: null }));
  void load();

  // Anything that happens to any session may change a row: re-read the page (at most every 500 ms).
  const reload = throttle(load, 500);
  const close = follow("/api/events/stream", { onEvent: reload, onState: setLiveState });
  // Running sessions' durations grow.
  const ticker = setInterval(() => {
    for (const cell of rows.querySelectorAll("[data-started]")) {
      cell.textContent = duration(elapsed(cell.dataset.started, null));
    }
  }, 1000);
  return () => {
    close();
    clearInterval(ticker);
  };
}

function row(session) {
  const tokens = session.totals.inputTokens + session.totals.outputTokens;
  const running =
    session.finishedAt === null && (session.status === "running" || session.status === "queued");
  return h(
    "tr",
    { "data-session": session.id },
    h(
      "td",
      { class: "text-break" },
      h("a", { href: `/?session=${session.id}`, "data-link": true }, session.request),
      session.currentPhase && running
        ? h("div", { class: "small text-body-secondary" }, session.currentPhase)
        : null,
    ),
    h("td", {}, statusBadge(session.status)),
    h("td", { class: "small" }, session.workflow),
    h("td", { class: "text-end font-monospace small" }, usd(session.totals.costUsd)),
    h("td", { class: "text-end font-monospace small" }, int(tokens)),
    h(
      "td",
      { class: "text-end small", "data-started": running ? session.createdAt : null },
      duration(elapsed(session.createdAt, session.finishedAt)),
    ),
    h("td", { class: "small text-nowrap" }, timeElement(session.createdAt)),
  );
}

const emptyRow = () => h("tr", {}, h("td", { colspan: 7, class: "text-body-secondary" }, "No sessions."));

/** The submit form. Publishing shows only when the server can publish (GET /api/info). */
function submitForm({ navigate }) {
  const error = h("div", { role: "alert", "aria-live": "assertive" });
  const workflow = h("select", { class: "form-select", id: "new-workflow", name: "workflow" });
  const workflowHelp = h("div", { class: "form-text", id: "new-workflow-help" });
  const publish = h("input", {
    class: "form-check-input",
    type: "checkbox",
    id: "new-publish",
    name: "publish",
  });
  const repoName = h("input", {
    class: "form-control",
    id: "new-repo",
    name: "repoName",
    pattern: "[A-Za-z0-9._\\-]{1,100}",
    placeholder: "my-project",
    autocomplete: "off",
  });
  const publishGroup = h(
    "fieldset",
    { class: "mb-3", hidden: true },
    h("legend", { class: "form-label fs-6 mb-1" }, "GitHub"),
    h(
      "div",
      { class: "form-check" },
      publish,
      h("label", { class: "form-check-label", for: "new-publish" }, "Publish to GitHub"),
    ),
    h(
      "div",
      { class: "mt-2", hidden: true, id: "new-repo-group" },
      h("label", { class: "form-label", for: "new-repo" }, "Repository name"),
      repoName,
    ),
  );
  publish.addEventListener("change", () => {
    publishGroup.querySelector("#new-repo-group").hidden = !publish.checked;
  });
  let workflows = [];
  // The server's default workflow, selected once both answers are in.
  let preferred = null;
  const describe = () => {
    const chosen = workflows.find((item) => item.name === workflow.value);
    workflowHelp.textContent = chosen ? `${chosen.description} (${chosen.phases.length} phases)` : "";
  };
  workflow.addEventListener("change", describe);
  const submit = h("button", { class: "btn btn-primary", type: "submit" }, "Submit");

  const element = h(
    "form",
    { id: "submit-form", novalidate: true },
    h(
      "div",
      { class: "mb-3" },
      h("label", { class: "form-label", for: "new-request" }, "What to build"),
      h("textarea", {
        class: "form-control",
        id: "new-request",
        name: "request",
        rows: 4,
        required: true,
        maxlength: 20000,
        placeholder: "Build a todo list app with due dates",
      }),
    ),
    h(
      "div",
      { class: "mb-3" },
      h("label", { class: "form-label", for: "new-workflow" }, "Workflow"),
      workflow,
      workflowHelp,
    ),
    h(
      "div",
      { class: "mb-3" },
      h("label", { class: "form-label", for: "new-budget" }, "Budget (USD, optional)"),
      h("input", {
        class: "form-control",
        id: "new-budget",
        name: "budgetUsd",
        type: "number",
        min: "0.0001",
        step: "any",
        inputmode: "decimal",
        placeholder: "no limit",
      }),
      h("div", { class: "form-text" }, "The session stops as budget_exceeded before spending more."),
    ),
    h(
      "div",
      { class: "form-check mb-3" },
      h("input", { class: "form-check-input", type: "checkbox", id: "new-cache", name: "cache" }),
      h("label", { class: "form-check-label", for: "new-cache" }, "Reuse identical answers from the cache"),
    ),
    publishGroup,
    error,
    submit,
  );

  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(error);
    const data = new FormData(element);
    const request = String(data.get("request") ?? "").trim();
    if (!request) {
      replace(error, alert("Say what to build: the request must not be empty."));
      element.querySelector("#new-request").focus();
      return;
    }
    const body = { request };
    if (workflow.value) body.workflow = workflow.value;
    const budget = String(data.get("budgetUsd") ?? "").trim();
    if (budget) body.budgetUsd = Number(budget);
    if (data.get("cache")) body.cache = true;
    if (!publishGroup.hidden && publish.checked) {
      body.publish = true;
      if (repoName.value.trim()) body.repoName = repoName.value.trim();
    }
    submit.disabled = true;
    try {
      const created = await api("/api/sessions", { method: "POST", body });
      navigate(`/?session=${created.id}`);
    } catch (failure) {
      replace(error, alert(failure instanceof ApiError ? failure.message : String(failure)));
    } finally {
      submit.disabled = false;
    }
  });

  return {
    element,
    setWorkflows(list) {
      workflows = list;
      const current = workflow.value || preferred;
      replace(
        workflow,
        list.map((item) => h("option", { value: item.name, selected: item.name === current }, item.name)),
      );
      describe();
    },
    setInfo(info) {
      publishGroup.hidden = !info.canPublish;
      preferred = info.defaultWorkflow;
      if (preferred && workflows.some((item) => item.name === preferred)) workflow.value = preferred;
      describe();
    },
  };
}
