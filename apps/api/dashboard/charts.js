// Chart.js (its ES module, served from node_modules) with colours that follow the light or dark
// theme.
import { Chart, registerables } from "chart.js";

Chart.register(...registerables);

export const PALETTE = [
  "#1f6feb",
  "#d97706",
  "#16a34a",
  "#db2777",
  "#7c3aed",
  "#0891b2",
  "#dc2626",
  "#65a30d",
];

/** A provider's colour, the same on every chart. */
export function providerColor(provider) {
  const known = { openai: "#16a34a", anthropic: "#d97706", gemini: "#1f6feb" };
  return (
    known[provider] ??
    PALETTE[[...provider].reduce((sum, char) => sum + char.charCodeAt(0), 0) % PALETTE.length]
  );
}

function themeColors() {
  const style = getComputedStyle(document.documentElement);
  return {
    text: style.getPropertyValue("--bs-body-color").trim() || "#212529",
    grid: style.getPropertyValue("--bs-border-color-translucent").trim() || "rgba(0,0,0,.15)",
  };
}

/**
 * A chart on `canvas`; `update(data)` swaps its data in place (no animation), `destroy()` frees it.
 * Colours follow the theme, also when the system switches between light and dark.
 */
export function makeChart(canvas, config) {
  const colors = themeColors();
  Chart.defaults.color = colors.text;
  Chart.defaults.borderColor = colors.grid;
  const chart = new Chart(canvas, {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  });
  const media = window.matchMedia("(prefers-color-scheme: dark)");
  const retheme = () => {
    // theme.js sets data-bs-theme in the same task: read the colours after it.
    setTimeout(() => {
      const next = themeColors();
      Chart.defaults.color = next.text;
      Chart.defaults.borderColor = next.grid;
      for (const scale of Object.values(chart.options.scales ?? {})) {
        scale.ticks = { ...scale.ticks, color: next.text };
        scale.grid = { ...scale.grid, color: next.grid };
      }
      chart.update("none");
    });
  };
  media.addEventListener("change", retheme);
  return {
    chart,
    update(data) {
      chart.data = data;
      chart.update("none");
    },
    destroy() {
      media.removeEventListener("change", retheme);
      chart.destroy();
    },
  };
}
