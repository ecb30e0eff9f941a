// Load across sessions (GET /api/stats, re-read every 5 s): calls per minute per provider against
// its rate limit, and the jobs in each queue by state.
import { api } from "./api.js";
import { makeChart, providerColor } from "./charts.js";
import { alert, h, replace, time } from "./dom.js";

const REFRESH_MS = 5_000;
const QUEUE_STATES = [
  ["waiting", "#6c757d"],
  ["prioritized", "#adb5bd"],
  ["delayed", "#0891b2"],
  ["active", "#1f6feb"],
  ["waitingChildren", "#7c3aed"],
  ["failed", "#dc2626"],
];

export function loadView({ root }) {
  const message = h("div", { role: "status", "aria-live": "polite" });
  const updated = h("span", { class: "small text-body-secondary" });
  const minutes = h(
    "select",
    { class: "form-select form-select-sm w-auto", id: "load-minutes" },
    [15, 30, 60, 180, 1440].map((value) =>
      h("option", { value, selected: value === 30 }, value < 60 ? `${value} min` : `${value / 60} h`),
    ),
  );
  const callsCanvas = h("canvas", {
    role: "img",
    "aria-label": "Calls per minute per provider against the rate limit",
  });
  const queueCanvas = h("canvas", { role: "img", "aria-label": "Jobs per queue by state" });
  const limits = h("ul", { class: "small list-inline mb-0", id: "rate-limits" });
  const queueTable = h("tbody");
  replace(
    root,
    h(
      "div",
      { class: "d-flex flex-wrap gap-2 align-items-center mb-3" },
      h("h1", { class: "h4 mb-0 me-auto" }, "Load"),
      h("label", { class: "small", for: "load-minutes" }, "Last"),
      minutes,
      updated,
    ),
    message,
    h(
      "div",
      { class: "row g-3" },
      h(
        "section",
        { class: "col-lg-7", "aria-labelledby": "calls-chart-title" },
        h(
          "div",
          { class: "card h-100" },
          h(
            "div",
            { class: "card-header" },
            h(
              "h2",
              { class: "h6 mb-0", id: "calls-chart-title" },
              "Requests per minute, per provider (dashed: its rate limit)",
            ),
          ),
          h(
            "div",
            { class: "card-body" },
            h("div", { class: "chart-box chart-box-lg" }, callsCanvas),
            limits,
          ),
        ),
      ),
      h(
        "section",
        { class: "col-lg-5", "aria-labelledby": "queue-chart-title" },
        h(
          "div",
          { class: "card h-100" },
          h(
            "div",
            { class: "card-header" },
            h("h2", { class: "h6 mb-0", id: "queue-chart-title" }, "Queue depth"),
          ),
          h(
            "div",
            { class: "card-body" },
            h("div", { class: "chart-box chart-box-lg" }, queueCanvas),
            h(
              "div",
              { class: "table-responsive mt-2" },
              h(
                "table",
                { class: "table table-sm small mb-0", id: "queues" },
                h(
                  "thead",
                  {},
                  h(
                    "tr",
                    {},
                    ["Queue", ...QUEUE_STATES.map(([state]) => state), "completed"].map((title) =>
                      h("th", { scope: "col" }, title),
                    ),
                  ),
                ),
                queueTable,
              ),
            ),
          ),
        ),
      ),
    ),
  );

  let callsChart = null;
  let queueChart = null;
  const load = async () => {
    try {
      const stats = await api(`/api/stats?minutes=${minutes.value}`);
      updated.textContent = `updated ${time(stats.at)}`;
      replace(message, stats.queueError ? alert(stats.queueError, "warning") : null);
      drawCalls(stats);
      drawQueues(stats);
    } catch (error) {
      replace(message, alert(error.message));
    }
  };

  const drawCalls = (stats) => {
    const end = Math.floor(Date.parse(stats.at) / 60_000) * 60_000;
    const slots = Array.from(
      { length: stats.minutes },
      (_, index) => end - (stats.minutes - 1 - index) * 60_000,
    );
    const labels = slots.map((slot) => time(new Date(slot).toISOString()).replace(/:00$/, ""));
    const datasets = [];
    for (const provider of stats.providers) {
      const counts = new Map(provider.perMinute.map((minute) => [Date.parse(minute.minute), minute]));
      const color = providerColor(provider.provider);
      datasets.push({
        label: provider.provider,
        data: slots.map((slot) => counts.get(slot)?.requests ?? 0),
        borderColor: color,
        backgroundColor: color,
        tension: 0.2,
      });
      if (provider.rateLimit) {
        const perMinute = (provider.rateLimit.max * 60_000) / provider.rateLimit.windowMs;
        datasets.push({
          label: `${provider.provider} limit`,
          data: slots.map(() => perMinute),
          borderColor: color,
          borderDash: [6, 4],
          pointRadius: 0,
          borderWidth: 1,
        });
      }
    }
    replace(
      limits,
      stats.providers.map((provider) => {
        const hits = provider.perMinute.reduce((sum, minute) => sum + minute.rateLimited, 0);
        const limit = provider.rateLimit
          ? `${provider.rateLimit.max} per ${provider.rateLimit.windowMs / 1000} s`
          : "no limit configured";
        return h(
          "li",
          { class: "list-inline-item" },
          h("span", { class: "fw-semibold" }, provider.provider),
          `: ${limit}${hits ? ` · ${hits} 429s` : ""}`,
        );
      }),
    );
    const data = { labels, datasets };
    if (callsChart) callsChart.update(data);
    else
      callsChart = makeChart(callsCanvas, {
        type: "line",
        data,
        options: {
          scales: { y: { beginAtZero: true, title: { display: true, text: "requests / min" } } },
          plugins: { legend: { position: "bottom" } },
        },
      });
  };

  const drawQueues = (stats) => {
    const queues = stats.queues ?? [];
    replace(
      queueTable,
      queues.map((queue) =>
        h(
          "tr",
          { "data-queue": queue.name },
          h("th", { scope: "row" }, queue.name),
          QUEUE_STATES.map(([state]) => h("td", {}, String(queue[state]))),
          h("td", {}, String(queue.completed)),
        ),
      ),
    );
    const data = {
      labels: queues.map((queue) => queue.name),
      datasets: QUEUE_STATES.map(([state, color]) => ({
        label: state,
        data: queues.map((queue) => queue[state]),
        backgroundColor: color,
      })),
    };
    if (queueChart) queueChart.update(data);
    else
      queueChart = makeChart(queueCanvas, {
        type: "bar",
        data,
        options: {
          scales: {
            x: { stacked: true },
            y: { stacked: true, beginAtZero: true, title: { display: true, text: "jobs" } },
          },
          plugins: { legend: { position: "bottom" } },
        },
      });
  };

  minutes.addEventListener("change", load);
  void load();
  const timer = setInterval(load, REFRESH_MS);
  return () => {
    clearInterval(timer);
    callsChart?.destroy();
    queueChart?.destroy();
  };
}
