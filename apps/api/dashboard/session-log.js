// The session page's commits and execution log.
import { card, changes, h, humanize, replace, safeUrl, time } from "./dom.js";

export function commitsFrom(events) {
  return events
    .filter((event) => event.type === "git.committed" || event.type === "git.published")
    .map((event) => ({ type: event.type, message: event.message, data: event.data ?? {}, at: event.at }));
}

const EVENT_CLASSES = {
  "phase.failed": "text-danger-emphasis",
  "call.failed": "text-danger-emphasis",
  "session.failed": "text-danger-emphasis",
  "call.retrying": "text-warning-emphasis",
  "provider.rate_limited": "text-warning-emphasis",
  "session.succeeded": "text-success-emphasis",
  "phase.succeeded": "text-success-emphasis",
};

/** The commits and the execution log (every event, appended as it comes). */
export function logSection() {
  const commits = h("ul", { class: "list-unstyled small mb-3", id: "commits" });
  const body = h("tbody");
  const seen = new Set();
  const scroller = h(
    "div",
    { class: "log-box", tabindex: "0", "aria-label": "Execution log" },
    h(
      "table",
      { class: "table table-sm small mb-0", id: "log" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Time", "Event", "Phase", "Message"].map((title) => h("th", { scope: "col" }, title)),
        ),
      ),
      body,
    ),
  );
  const changedCommits = changes();
  const append = (event) => {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    body.append(
      h(
        "tr",
        { class: EVENT_CLASSES[event.type] ?? "", "data-event": event.id, "data-type": event.type },
        h("td", { class: "text-nowrap" }, time(event.at)),
        h("td", { class: "text-nowrap font-monospace" }, event.type),
        h("td", {}, event.phase ?? ""),
        h("td", { class: "text-break" }, event.message),
      ),
    );
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
  };
  return {
    element: card(
      "Commits and execution log",
      "log-title",
      h("h3", { class: "h6" }, "Commits"),
      commits,
      h("h3", { class: "h6" }, "Execution log"),
      scroller,
    ),
    append,
    update(events, commitList) {
      for (const event of [...events].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))) append(event);
      if (!changedCommits(commitList)) return;
      replace(
        commits,
        commitList.length
          ? commitList.map((commit) =>
              h(
                "li",
                { class: "mb-1" },
                commit.type === "git.published"
                  ? [
                      "Published: ",
                      h(
                        "a",
                        { href: safeUrl(commit.data.url), rel: "noopener noreferrer", target: "_blank" },
                        commit.data.url ?? commit.message,
                      ),
                    ]
                  : [
                      h("code", {}, String(commit.data.sha ?? "").slice(0, 12)),
                      ` ${humanize(String(commit.data.phase ?? ""))} — ${commit.data.files ?? "?"} files`,
                    ],
              ),
            )
          : h("li", { class: "text-body-secondary" }, "No commits yet."),
      );
    },
  };
}
