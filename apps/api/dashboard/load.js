// Load across sessions (GET /api/stats, re-read every 5 s): calls per minute per provider against
// its rate limit, and the jobs in each queue by state.
import { api } from "./api.js";
import { makeChart, providerColor } from "./charts.js";
import { alert, h, replace, time } from "./dom.js";

const REFRESH_MS = 5_000;
const MAX_SAMPLES = (10 * 60_000) / REFRESH_MS;
const QUEUE_COLORS = ["#7c3aed", "#16a34a", "#d97706", "#1f6feb", "#db2777"];
/** The jobs of a queue that are not finished: waiting in any form, or running. */
const depthOf = (queue) =>
  queue.waiting + queue.prioritized + queue.delayed + queue.active + queue.waitingChildren;
const minuteFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });
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
  const queueCanvas = h("canvas", { role: "img", "aria-label": "Unfinished jobs per queue over time" });
  const limits = h("tbody");
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
              "Requests per minute, as a share of each provider's rate limit",
            ),
          ),
          h(
            "div",
            { class: "card-body" },
            h("div", { class: "chart-box chart-box-lg" }, callsCanvas),
            h(
              "div",
              { class: "table-responsive mt-2" },
              h(
                "table",
                { class: "table table-sm small mb-0", id: "providers" },
                h(
                  "thead",
                  {},
                  h(
                    "tr",
                    {},
                    [
                      "Provider",
                      "Rate limit",
                      "Requests, this minute",
                      "Busiest minute",
                      "Calls",
                      "429s",
                    ].map((title) => h("th", { scope: "col" }, title)),
                  ),
                ),
                limits,
              ),
            ),
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
            h(
              "h2",
              { class: "h6 mb-0", id: "queue-chart-title" },
              "Queue depth (since this page opened; by state below)",
            ),
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
  const samples = [];
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
    const labels = slots.map((slot) => minuteFormat.format(new Date(slot)));
    const datasets = [];
    const rows = [];
    for (const provider of stats.providers) {
      const counts = new Map(provider.perMinute.map((minute) => [Date.parse(minute.minute), minute]));
      const requests = slots.map((slot) => counts.get(slot)?.requests ?? 0);
      const perMinute = provider.rateLimit
        ? (provider.rateLimit.max * 60_000) / provider.rateLimit.windowMs
        : null;
      const color = providerColor(provider.provider);
      if (perMinute) {
        datasets.push({
          label: provider.provider,
          data: requests.map((count) => (count * 100) / perMinute),
          requests,
          borderColor: color,
          backgroundColor: color,
          tension: 0.2,
        });
      }
      rows.push(
        h(
          "tr",
          { "data-provider": provider.provider },
          h("th", { scope: "row" }, provider.provider),
          h(
            "td",
            {},
            perMinute
              ? `${provider.rateLimit.max} per ${provider.rateLimit.windowMs / 1000} s`
              : "none configured",
          ),
          h("td", { class: "text-end" }, String(requests.at(-1) ?? 0)),
          h("td", { class: "text-end" }, String(Math.max(0, ...requests))),
          h(
            "td",
            { class: "text-end" },
            String(provider.perMinute.reduce((sum, minute) => sum + minute.calls, 0)),
          ),
          h(
            "td",
            { class: "text-end" },
            String(provider.perMinute.reduce((sum, minute) => sum + minute.rateLimited, 0)),
          ),
        ),
      );
    }
    datasets.push({
      label: "rate limit",
      data: slots.map(() => 100),
      borderColor: "#dc2626",
      borderDash: [6, 4],
      pointRadius: 0,
      borderWidth: 1,
    });
    replace(limits, rows);
    const data = { labels, datasets };
    if (callsChart) callsChart.update(data);
    else
      callsChart = makeChart(callsCanvas, {
        type: "line",
        data,
        options: {
          scales: {
            y: {
              beginAtZero: true,
              suggestedMax: 110,
              title: { display: true, text: "% of the rate limit" },
            },
          },
          plugins: {
            legend: { position: "bottom" },
            tooltip: {
              callbacks: {
                label: (item) =>
                  item.dataset.requests
                    ? `${item.dataset.label}: ${item.dataset.requests[item.dataIndex]} requests (${item.parsed.y.toFixed(1)} % of its limit)`
                    : `${item.dataset.label}: 100 %`,
              },
            },
          },
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
    // The depth over time: one sample per refresh while the page is open (the last 10 minutes).
    samples.push({ at: stats.at, depths: new Map(queues.map((queue) => [queue.name, depthOf(queue)])) });
    if (samples.length > MAX_SAMPLES) samples.shift();
    const names = queues.map((queue) => queue.name);
    const data = {
      labels: samples.map((sample) => time(sample.at)),
      datasets: names.map((name, index) => ({
        label: name,
        data: samples.map((sample) => sample.depths.get(name) ?? null),
        borderColor: QUEUE_COLORS[index % QUEUE_COLORS.length],
        backgroundColor: QUEUE_COLORS[index % QUEUE_COLORS.length],
        stepped: true,
      })),
    };
    if (queueChart) queueChart.update(data);
    else
      queueChart = makeChart(queueCanvas, {
        type: "line",
        data,
        options: {
          scales: {
            y: { beginAtZero: true, suggestedMax: 5, title: { display: true, text: "jobs not finished" } },
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
