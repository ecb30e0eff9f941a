// One session, live: everything GET /api/sessions/:id holds, then the rest as it happens. The
// session's event stream starts after the view's lastEventId (the browser's EventSource resumes
// with Last-Event-ID after a drop); each event is appended to the log and makes the page re-read
// the view, which the API answers with 304 when nothing changed.
import { ApiError, api, follow } from "./api.js";
import {
  alert,
  changes,
  duration,
  elapsed,
  h,
  int,
  replace,
  safeUrl,
  statusBadge,
  throttle,
  timeElement,
  usd,
} from "./dom.js";
import { filesSection } from "./session-files.js";
import { commitsFrom, logSection } from "./session-log.js";
import {
  callsSection,
  chartsSection,
  decisionSection,
  phasesSection,
  plansSection,
} from "./session-sections.js";

const ACTIVE = ["queued", "running"];
const RETRYABLE = ["failed", "cancelled", "budget_exceeded"];

export function sessionView(id, { root, navigate, setLiveState }) {
  const message = h("div", { role: "status", "aria-live": "polite" });
  // Says each change of the session's status to screen readers (the badge is redrawn, this stays).
  const announce = h("div", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  let announced = null;
  const header = h("header", { class: "mb-3" });
  const actions = h("div", { class: "d-flex flex-wrap gap-2 mb-3", role: "group", "aria-label": "Actions" });
  const sections = {
    phases: phasesSection(),
    charts: chartsSection(),
    calls: callsSection(),
    plans: plansSection(),
    decision: decisionSection(),
    files: filesSection(id),
    log: logSection(),
  };
  replace(
    root,
    h(
      "nav",
      { "aria-label": "Breadcrumb" },
      h(
        "ol",
        { class: "breadcrumb small mb-2" },
        h("li", { class: "breadcrumb-item" }, h("a", { href: "/", "data-link": true }, "Sessions")),
        h("li", { class: "breadcrumb-item active", "aria-current": "page" }, id.slice(0, 8)),
      ),
    ),
    header,
    announce,
    actions,
    message,
    h(
      "div",
      { class: "row g-3" },
      h("div", { class: "col-lg-4" }, sections.phases.element),
      h("div", { class: "col-lg-8" }, sections.charts.element),
      h("div", { class: "col-12" }, sections.calls.element),
      h("div", { class: "col-12" }, sections.plans.element),
      h("div", { class: "col-12" }, sections.decision.element),
      h("div", { class: "col-12" }, sections.files.element),
      h("div", { class: "col-12" }, sections.log.element),
    ),
  );

  let view = null;
  let lastEventId = null;
  let closeStream = null;
  let disposed = false;
  const events = new Map();

  const headerChanged = changes();
  const actionsChanged = changes();
  const render = () => {
    const {
      state: _state,
      phases: _phases,
      calls: _calls,
      files,
      executionLog: _log,
      lastEventId: _last,
      ...facts
    } = view;
    if (headerChanged(facts)) renderHeader(header, view);
    if (announced !== view.status) {
      announced = view.status;
      announce.textContent = `Session ${view.status}${view.currentPhase ? `, phase ${view.currentPhase}` : ""}`;
    }
    if (actionsChanged([view.status, files.length])) renderActions(actions, view, { act, retryBudget });
    sections.phases.update(view);
    sections.charts.update(view);
    sections.calls.update(view, [...events.values()]);
    sections.plans.update(view);
    sections.decision.update(view, [...events.values()]);
    sections.files.update(view);
    sections.log.update([...events.values()], commitsFrom([...events.values()]));
  };

  const refresh = async () => {
    try {
      const next = await api(`/api/sessions/${id}`);
      if (disposed) return;
      view = next;
      for (const event of view.executionLog) events.set(event.id, event);
      render();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        replace(
          root,
          alert(`There is no session ${id} (it may have been deleted).`, "warning"),
          h("a", { href: "/", "data-link": true }, "Back to the sessions"),
        );
        stop();
        return;
      }
      replace(message, alert(`Could not read the session: ${error.message}`));
    }
  };
  const refreshSoon = throttle(refresh, 250);

  const stop = () => {
    closeStream?.();
    closeStream = null;
  };
  const startStream = () => {
    stop();
    const query = lastEventId ? `?lastEventId=${lastEventId}` : "";
    closeStream = follow(`/api/sessions/${id}/events/stream${query}`, {
      onEvent: (event) => {
        events.set(event.id, event);
        lastEventId = event.id;
        sections.log.append(event);
        refreshSoon();
      },
      onEnd: () => {
        closeStream = null;
        void refresh();
      },
      onState: (state) => setLiveState(state === "ended" ? "" : state),
    });
  };

  const act = async (action) => {
    replace(message);
    try {
      if (action === "cancel") await api(`/api/sessions/${id}/cancel`, { method: "POST" });
      if (action === "retry") {
        const budget = retryBudget.value.trim();
        await api(`/api/sessions/${id}/retry`, {
          method: "POST",
          body: budget ? { budgetUsd: Number(budget) } : {},
        });
      }
      if (action === "delete") {
        if (!window.confirm("Delete this session, its files and its history?")) return;
        await api(`/api/sessions/${id}`, { method: "DELETE" });
        navigate("/");
        return;
      }
      await refresh();
      if (action === "retry" && !closeStream) startStream();
      replace(message, alert(action === "cancel" ? "Cancelled." : "Queued again.", "success"));
    } catch (error) {
      replace(message, alert(error.message));
    }
  };
  const retryBudget = h("input", {
    class: "form-control form-control-sm",
    type: "number",
    min: "0.0001",
    step: "any",
    id: "retry-budget",
    placeholder: "new budget (USD)",
    "aria-label": "New budget for the retry (USD, optional)",
  });

  // Running phases' durations grow.
  const ticker = setInterval(() => {
    for (const cell of root.querySelectorAll("[data-running-since]")) {
      cell.textContent = duration(elapsed(cell.dataset.runningSince, null));
    }
  }, 1000);

  void refresh().then(() => {
    if (disposed || !view) return;
    lastEventId = view.lastEventId;
    startStream();
  });

  return () => {
    disposed = true;
    stop();
    clearInterval(ticker);
    for (const section of Object.values(sections)) section.destroy?.();
  };
}

function renderHeader(header, view) {
  const totals = view.totals;
  const fact = (label, value) =>
    h(
      "div",
      { class: "col-6 col-md-3 col-xl-2" },
      h("div", { class: "small text-body-secondary" }, label),
      h("div", { class: "fw-semibold" }, value),
    );
  replace(
    header,
    h(
      "div",
      { class: "d-flex flex-wrap gap-2 align-items-center mb-2" },
      h(
        "h1",
        { class: "h4 mb-0 text-break me-auto", id: "session-title" },
        view.request.length > 160 ? `${view.request.slice(0, 159)}…` : view.request,
      ),
      h("span", { class: "fs-5", id: "session-status" }, statusBadge(view.status)),
    ),
    view.request.length > 160
      ? h(
          "details",
          { class: "mb-2" },
          h("summary", {}, "The whole request"),
          h("p", { class: "text-pre-wrap" }, view.request),
        )
      : null,
    view.error
      ? alert(
          `${view.errorCode ? `${view.errorCode}: ` : ""}${view.error}`,
          view.status === "cancelled" ? "warning" : "danger",
        )
      : null,
    h(
      "div",
      { class: "row g-2" },
      fact("Workflow", view.workflow),
      fact("Phase", view.currentPhase ?? "—"),
      fact("Cost", h("span", { class: "font-monospace" }, usd(totals.costUsd))),
      fact("Budget", view.budgetUsd === null ? "none" : usd(view.budgetUsd)),
      fact("Tokens", `${int(totals.inputTokens)} in · ${int(totals.outputTokens)} out`),
      fact(
        "Calls",
        `${int(totals.calls)}${totals.cachedCalls ? ` (${totals.cachedCalls} cached)` : ""}${totals.fallbacks ? ` · ${totals.fallbacks} fallback` : ""}`,
      ),
      fact("Submitted", timeElement(view.createdAt)),
      fact(
        "Duration",
        h(
          "span",
          view.finishedAt ? {} : { "data-running-since": view.startedAt ?? view.createdAt },
          duration(elapsed(view.startedAt ?? view.createdAt, view.finishedAt)),
        ),
      ),
      fact("Run", `${view.run}${view.retries ? ` (${view.retries} retries)` : ""}`),
      fact("Cache", view.cache ? "on" : "off"),
      fact(
        "Repository",
        view.repository
          ? h(
              "a",
              { href: safeUrl(view.repository), rel: "noopener noreferrer", target: "_blank" },
              view.repository.replace(/^https:\/\/github\.com\//, ""),
            )
          : view.publish
            ? "not yet published"
            : "not published",
      ),
      fact("Workspace", h("code", { class: "small text-break" }, view.workspace ?? "—")),
    ),
  );
}

function renderActions(actions, view, { act, retryBudget }) {
  const button = (label, action, enabled, kind, title) =>
    h(
      "button",
      {
        class: `btn btn-sm btn-${kind}`,
        type: "button",
        disabled: !enabled,
        title,
        onclick: () => act(action),
      },
      label,
    );
  const active = ACTIVE.includes(view.status);
  const retryable = RETRYABLE.includes(view.status);
  replace(
    actions,
    button("Cancel", "cancel", active, "outline-warning", "Stop its calls and remove its queued jobs"),
    h(
      "div",
      { class: "input-group input-group-sm w-auto" },
      button("Retry", "retry", retryable, "outline-primary", "Resume from the phase that did not finish"),
      retryable ? retryBudget : null,
    ),
    view.files.length
      ? h(
          "a",
          { class: "btn btn-sm btn-outline-secondary", href: view.links.archive, download: true },
          "Download archive",
        )
      : h(
          "button",
          { class: "btn btn-sm btn-outline-secondary", type: "button", disabled: true },
          "Download archive",
        ),
    button("Delete", "delete", !active, "outline-danger", "Remove its rows, workspace and jobs"),
  );
}
