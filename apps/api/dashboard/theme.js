// Light or dark as the system says, before the page paints (a classic script in <head>), and
// again whenever the system changes its mind.
(() => {
  const query = window.matchMedia("(prefers-color-scheme: dark)");
  const apply = () =>
    document.documentElement.setAttribute("data-bs-theme", query.matches ? "dark" : "light");
  apply();
  query.addEventListener("change", apply);
})();
