// The sections of the session page (the files and the log are in session-files.js and
// session-log.js). Each returns { element, update(view), destroy? } and
// re-renders only when what it shows changed, so a live update does not move the reader's focus
// or reset what they opened.
import { makeChart, PALETTE, providerColor } from "./charts.js";
import {
  card,
  changes,
  duration,
  elapsed,
  h,
  int,
  renderValue,
  replace,
  statusBadge,
  time,
  usd,
} from "./dom.js";

/** The phases as a timeline: status, how long, attempts, why skipped, what failed. */
export function phasesSection() {
  const list = h("ol", { class: "list-unstyled timeline mb-0", id: "phases" });
  const changed = changes();
  return {
    element: card("Phases", "phases-title", list),
    update(view) {
      if (!changed(view.phases)) return;
      replace(
        list,
        view.phases.map((phase) =>
          h(
            "li",
            { class: `timeline-item status-${phase.status}`, "data-phase": phase.id },
            h(
              "div",
              { class: "d-flex gap-2 align-items-center" },
              h("span", { class: "fw-semibold me-auto" }, phase.title),
              statusBadge(phase.status),
            ),
            h(
              "div",
              { class: "small text-body-secondary" },
              `${phase.kind} · `,
              phase.status === "running" || phase.status === "waiting"
                ? h(
                    "span",
                    { "data-running-since": phase.startedAt },
                    duration(elapsed(phase.startedAt, null)),
                  )
                : duration(phase.durationMs),
              phase.attempts > 1 ? ` · ${phase.attempts} attempts` : "",
              phase.startedAt ? ` · ${time(phase.startedAt)}` : "",
            ),
            phase.skipReason ? h("div", { class: "small" }, `Skipped: ${phase.skipReason}`) : null,
            phase.error ? h("div", { class: "small text-danger-emphasis text-break" }, phase.error) : null,
          ),
        ),
      );
    },
  };
}

function sums(calls, keyOf) {
  const groups = new Map();
  for (const call of calls) {
    const key = keyOf(call);
    const sum = groups.get(key) ?? { cost: 0, input: 0, output: 0 };
    sum.cost += call.costUsd;
    sum.input += call.inputTokens;
    sum.output += call.outputTokens;
    groups.set(key, sum);
  }
  return groups;
}

function costTokensData(groups, colorOf) {
  const labels = [...groups.keys()];
  const values = [...groups.values()];
  return {
    labels,
    datasets: [
      {
        label: "Cost (USD)",
        data: values.map((v) => v.cost),
        backgroundColor: labels.map(colorOf),
        yAxisID: "cost",
      },
      {
        label: "Tokens",
        type: "line",
        data: values.map((v) => v.input + v.output),
        borderColor: "#888",
        backgroundColor: "#888",
        yAxisID: "tokens",
      },
    ],
  };
}

const COST_TOKENS_OPTIONS = {
  scales: {
    cost: { type: "linear", position: "left", beginAtZero: true, title: { display: true, text: "USD" } },
    tokens: {
      type: "linear",
      position: "right",
      beginAtZero: true,
      grid: { drawOnChartArea: false },
      title: { display: true, text: "tokens" },
    },
  },
  plugins: { legend: { position: "bottom" } },
};

/** Cost and tokens per phase and per provider (Chart.js). */
export function chartsSection() {
  const phaseCanvas = h("canvas", { role: "img", "aria-label": "Cost and tokens per phase" });
  const providerCanvas = h("canvas", { role: "img", "aria-label": "Cost and tokens per provider" });
  const summary = h("p", { class: "visually-hidden", id: "charts-summary" });
  const changed = changes();
  let perPhase = null;
  let perProvider = null;
  return {
    element: card(
      "Cost and tokens",
      "charts-title",
      h(
        "div",
        { class: "row g-3" },
        h(
          "figure",
          { class: "col-md-6 mb-0" },
          h("figcaption", { class: "small text-body-secondary" }, "Per phase"),
          h("div", { class: "chart-box" }, phaseCanvas),
        ),
        h(
          "figure",
          { class: "col-md-6 mb-0" },
          h("figcaption", { class: "small text-body-secondary" }, "Per provider"),
          h("div", { class: "chart-box" }, providerCanvas),
        ),
      ),
      summary,
    ),
    update(view) {
      const calls = view.calls;
      if (!changed(calls.map((c) => [c.phase, c.provider, c.costUsd, c.inputTokens, c.outputTokens]))) return;
      const order = view.phases.map((phase) => phase.id);
      const phases = sums(
        [...calls].sort((a, b) => order.indexOf(a.phase) - order.indexOf(b.phase)),
        (call) => call.phase,
      );
      const providers = sums(calls, (call) => call.provider);
      const phaseData = costTokensData(phases, (_, index) => PALETTE[index % PALETTE.length]);
      phaseData.datasets[0].backgroundColor = [...phases.keys()].map(
        (_, index) => PALETTE[index % PALETTE.length],
      );
      const providerData = costTokensData(providers, providerColor);
      summary.textContent = [...providers]
        .map(([name, sum]) => `${name}: ${usd(sum.cost)}, ${int(sum.input + sum.output)} tokens`)
        .join("; ");
      if (!perPhase) {
        perPhase = makeChart(phaseCanvas, { type: "bar", data: phaseData, options: COST_TOKENS_OPTIONS });
        perProvider = makeChart(providerCanvas, {
          type: "bar",
          data: providerData,
          options: COST_TOKENS_OPTIONS,
        });
      } else {
        perPhase.update(phaseData);
        perProvider.update(providerData);
      }
    },
    destroy() {
      perPhase?.destroy();
      perProvider?.destroy();
    },
  };
}

/** Every model call: who answered, where it ran, what it cost, how it went. */
export function callsSection() {
  const body = h("tbody");
  const count = h("span", { class: "badge text-bg-secondary ms-2" }, "0");
  const changed = changes();
  const table = h(
    "div",
    { class: "table-responsive" },
    h(
      "table",
      { class: "table table-sm align-middle mb-0", id: "calls" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          [
            "Phase / call",
            "Status",
            "Provider / model",
            "Worker",
            "Attempts",
            "429s",
            "Tokens in / out",
            "Cost",
            "Latency",
            "Started",
          ].map((title) => h("th", { scope: "col", class: "small text-nowrap" }, title)),
        ),
      ),
      body,
    ),
  );
  const pauses = h("ul", { class: "small list-unstyled mb-2", id: "rate-limit-pauses" });
  const changedPauses = changes();
  const element = card("Model calls", "calls-title", pauses, table);
  element.querySelector("h2").append(count);
  return {
    element,
    update(view, events) {
      // 429 pauses: each pause a provider imposed on its whole queue, from the event log.
      const paused = events.filter((event) => event.type === "provider.rate_limited");
      if (changedPauses(paused.map((event) => event.id))) {
        replace(
          pauses,
          paused.map((event) =>
            h(
              "li",
              { class: "text-warning-emphasis" },
              `${time(event.at)} · 429 pause: ${event.message}${event.phase ? ` (${event.phase})` : ""}`,
            ),
          ),
        );
      }
      if (!changed(view.calls)) return;
      count.textContent = String(view.calls.length);
      replace(
        body,
        view.calls.length === 0
          ? h("tr", {}, h("td", { colspan: 10, class: "text-body-secondary" }, "No calls yet."))
          : view.calls.map((call) =>
              h(
                "tr",
                { "data-call": call.idempotencyKey },
                h(
                  "td",
                  { class: "small" },
                  h("div", {}, call.phase),
                  h("div", { class: "text-body-secondary" }, `${call.callKey} · ${call.role}`),
                ),
                h(
                  "td",
                  {},
                  statusBadge(call.status),
                  call.cached ? h("span", { class: "badge text-bg-light border ms-1" }, "cached") : null,
                  call.fallbackFrom
                    ? h("div", { class: "small text-body-secondary" }, `fallback from ${call.fallbackFrom}`)
                    : null,
                  call.error
                    ? h(
                        "div",
                        { class: "small text-danger-emphasis text-break" },
                        `${call.errorCode ? `${call.errorCode}: ` : ""}${call.error}`,
                      )
                    : null,
                ),
                h(
                  "td",
                  { class: "small" },
                  h("div", {}, call.provider),
                  h("div", { class: "text-body-secondary" }, call.model),
                ),
                h(
                  "td",
                  { class: "small font-monospace" },
                  call.worker
                    ? `${call.worker.host}${call.worker.pid === null ? "" : `:${call.worker.pid}`}`
                    : "—",
                ),
                h(
                  "td",
                  { class: "small text-end" },
                  call.attempts > 1
                    ? `${call.attempts} (${call.attempts - 1} retries)`
                    : String(call.attempts),
                ),
                h(
                  "td",
                  {
                    class: `small text-end ${call.rateLimitHits ? "text-warning-emphasis fw-semibold" : ""}`,
                  },
                  String(call.rateLimitHits),
                ),
                h(
                  "td",
                  { class: "small text-end font-monospace" },
                  `${int(call.inputTokens)} / ${int(call.outputTokens)}`,
                ),
                h("td", { class: "small text-end font-monospace" }, usd(call.costUsd)),
                h(
                  "td",
                  { class: "small text-end" },
                  call.status === "running" && call.startedAt
                    ? h(
                        "span",
                        { "data-running-since": call.startedAt },
                        duration(elapsed(call.startedAt, null)),
                      )
                    : duration(call.latencyMs),
                ),
                h("td", { class: "small text-nowrap" }, time(call.startedAt)),
              ),
            ),
      );
    },
  };
}

/** The refined requirements and both plans, side by side. */
export function plansSection() {
  const requirements = h("div", { id: "requirements" });
  const backend = h("div", { id: "backend-plan" });
  const frontend = h("div", { id: "frontend-plan" });
  const changed = changes();
  const show = (target, value) =>
    replace(
      target,
      value == null ? h("p", { class: "text-body-secondary mb-0" }, "Not yet.") : renderValue(value),
    );
  return {
    element: card(
      "Requirements and plans",
      "plans-title",
      h(
        "details",
        { open: true, class: "mb-3" },
        h("summary", { class: "fw-semibold mb-2" }, "Refined requirements"),
        requirements,
      ),
      h(
        "div",
        { class: "row g-3" },
        h(
          "div",
          { class: "col-md-6" },
          h("h3", { class: "h6" }, "Backend plan"),
          h("div", { class: "plan-box" }, backend),
        ),
        h(
          "div",
          { class: "col-md-6" },
          h("h3", { class: "h6" }, "Frontend plan"),
          h("div", { class: "plan-box" }, frontend),
        ),
      ),
    ),
    update(view) {
      const { refinedRequirements, backendPlan, frontendPlan } = view.state;
      if (!changed([refinedRequirements, backendPlan, frontendPlan])) return;
      show(requirements, refinedRequirements);
      show(backend, backendPlan);
      show(frontend, frontendPlan);
    },
  };
}

/** The disagreements, each with every agent's vote and rationale, and the final decision. */
export function decisionSection() {
  const disagreements = h("div", { id: "disagreements" });
  const decision = h("div", { id: "decision" });
  const changed = changes();
  return {
    element: card(
      "Disagreements, votes and decision",
      "decision-title",
      h("h3", { class: "h6" }, "Disagreements"),
      disagreements,
      h("h3", { class: "h6 mt-3" }, "Final decision"),
      decision,
    ),
    update(view) {
      const { disagreements: items, votes, finalDecision, planComparison } = view.state;
      const skipped = view.phases.find((phase) => phase.kind === "vote" && phase.status === "skipped");
      if (!changed([items, votes, finalDecision, planComparison, skipped?.skipReason])) return;
      if (items === null || items === undefined) {
        replace(
          disagreements,
          h(
            "p",
            { class: "text-body-secondary mb-0" },
            planComparison ? "None." : "The plans have not been compared yet.",
          ),
        );
      } else if (items.length === 0) {
        replace(disagreements, h("p", { class: "mb-0" }, "None: the plans agree."));
      } else {
        replace(
          disagreements,
          h(
            "div",
            { class: "row g-3" },
            items.map((item, index) => {
              const key =
                item && typeof item === "object"
                  ? (item.id ?? item.disagreementId ?? String(index + 1))
                  : String(index + 1);
              const theirs = votes.filter((vote) => vote.disagreementId === key);
              const {
                id: _id,
                topic,
                ...rest
              } = item && typeof item === "object" ? item : { topic: String(item) };
              return h(
                "div",
                { class: "col-lg-6" },
                h(
                  "article",
                  { class: "border rounded p-2 h-100", "data-disagreement": key },
                  h("h4", { class: "h6" }, `${key}: ${topic ?? ""}`),
                  renderValue(rest),
                  theirs.length
                    ? h(
                        "ul",
                        { class: "list-group list-group-flush small" },
                        theirs.map((vote) =>
                          h(
                            "li",
                            { class: "list-group-item px-0" },
                            h("span", { class: "fw-semibold" }, vote.voter),
                            h(
                              "span",
                              { class: "text-body-secondary" },
                              ` (${vote.provider}/${vote.model}) votes `,
                            ),
                            h("span", { class: "badge text-bg-primary" }, vote.choice),
                            h("div", { class: "text-pre-wrap" }, vote.rationale),
                          ),
                        ),
                      )
                    : h("p", { class: "small text-body-secondary mb-0" }, "No votes yet."),
                ),
              );
            }),
          ),
        );
      }
      replace(
        decision,
        finalDecision == null
          ? h(
              "p",
              { class: "text-body-secondary mb-0" },
              skipped?.skipReason ? `No decision needed: ${skipped.skipReason}` : "Not yet.",
            )
          : renderValue(finalDecision),
      );
    },
  };
}
