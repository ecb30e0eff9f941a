// The page's router: the query string names the view (`?session=<id>`, `?view=load`,
// `?view=audit`, else the sessions list), so every view has an address that survives a reload
// and the sign-in (the login page returns to it). Links marked data-link navigate in place.
import { auditView } from "./audit.js";
import { listView } from "./list.js";
import { loadView } from "./load.js";
import { sessionView } from "./session.js";

const main = document.getElementById("view");
const live = document.getElementById("live");
let dispose = null;

/** Shows the live-update state in the navbar ("live", "reconnecting…"). */
export function setLiveState(state) {
  live.textContent = state === "live" ? "● live" : state === "reconnecting" ? "reconnecting…" : "";
  live.className = `navbar-text small me-3 ${state === "live" ? "text-success" : "text-warning"}`;
}

/** Goes to a page address (`/?session=…`) without reloading. */
export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  render();
}

function render() {
  dispose?.();
  dispose = null;
  setLiveState("");
  const params = new URLSearchParams(location.search);
  const session = params.get("session");
  const view = session ? "session" : (params.get("view") ?? "sessions");
  for (const link of document.querySelectorAll("[data-nav]")) {
    const current = link.dataset.nav === view;
    link.classList.toggle("active", current);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  main.replaceChildren();
  const context = { root: main, params, navigate, setLiveState };
  if (session) dispose = sessionView(session, context);
  else if (view === "load") dispose = loadView(context);
  else if (view === "audit") dispose = auditView(context);
  else dispose = listView(context);
}

// Same-page links (left click without modifier keys; Enter on a focused link is a click too).
document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[data-link]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
});
window.addEventListener("popstate", render);
render();
