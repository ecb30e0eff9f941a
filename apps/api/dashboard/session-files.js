// The session page's files: the generated files as a tree, and a viewer for the one chosen.
import { fileText } from "./api.js";
import { card, changes, h, int, replace } from "./dom.js";

function fileTree(files) {
  const root = { dirs: new Map(), files: [] };
  for (const file of files) {
    const parts = file.path.split("/");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      if (!node.dirs.has(part)) node.dirs.set(part, { dirs: new Map(), files: [] });
      node = node.dirs.get(part);
    }
    node.files.push({ name: parts.at(-1), file });
  }
  return root;
}

/** The generated files as a tree, and a viewer for the one chosen (as text, never as HTML). */
export function filesSection(sessionId) {
  const tree = h("nav", { class: "file-tree small", "aria-label": "Generated files", id: "file-tree" });
  const viewerTitle = h("div", { class: "small fw-semibold text-break" }, "Choose a file.");
  const viewerMeta = h("div", { class: "small text-body-secondary" });
  const code = h("code", {});
  const viewer = h(
    "pre",
    {
      class: "file-viewer border rounded p-2 mb-0",
      id: "file-viewer",
      tabindex: "0",
      "aria-label": "File content",
    },
    code,
  );
  const changed = changes();
  let selected = null;

  const open = async (file, button) => {
    selected = file.path;
    for (const other of tree.querySelectorAll("button[aria-current]")) other.removeAttribute("aria-current");
    button?.setAttribute("aria-current", "true");
    viewerTitle.textContent = file.path;
    viewerMeta.textContent = `${int(file.sizeBytes)} bytes · by ${file.author} in ${file.phase}${file.purpose ? ` · ${file.purpose}` : ""}`;
    code.textContent = "Loading…";
    try {
      code.textContent = await fileText(sessionId, file.path);
    } catch (error) {
      code.textContent = error.message;
    }
  };

  const renderNode = (node) =>
    h(
      "ul",
      { class: "list-unstyled ps-3 mb-0" },
      [...node.dirs]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, child]) =>
          h("li", {}, h("details", { open: true }, h("summary", {}, `${name}/`), renderNode(child))),
        ),
      node.files
        .sort((a, b) => a.name.localeCompare(b.name))
        .map(({ name, file }) => {
          const button = h(
            "button",
            {
              type: "button",
              class: "btn btn-link btn-sm p-0 text-start text-break",
              "data-path": file.path,
              "aria-current": file.path === selected ? "true" : null,
            },
            name,
          );
          button.addEventListener("click", () => open(file, button));
          return h("li", {}, button);
        }),
    );

  const count = h("span", { class: "badge text-bg-secondary ms-2" }, "0");
  const element = card(
    "Files",
    "files-title",
    h(
      "div",
      { class: "row g-3" },
      h("div", { class: "col-md-4 file-tree-box" }, tree),
      h("div", { class: "col-md-8" }, viewerTitle, viewerMeta, viewer),
    ),
  );
  element.querySelector("h2").append(count);
  return {
    element,
    update(view) {
      if (!changed(view.files)) return;
      count.textContent = String(view.files.length);
      replace(
        tree,
        view.files.length
          ? renderNode(fileTree(view.files))
          : h("p", { class: "text-body-secondary mb-0" }, "No files yet."),
      );
    },
  };
}
