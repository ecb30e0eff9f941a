// The browser side: keeps the list in memory, calls the JSON API, and applies each response to the
// list so that the page always shows what the server stored.

const API_BASE = "/api/todos";

const api = {
  list: () => request(API_BASE),
  create: (title) => request(API_BASE, { method: "POST", body: { title } }),
  update: (id, changes) =>
    request(`${API_BASE}/${encodeURIComponent(id)}`, { method: "PATCH", body: changes }),
  remove: (id) => request(`${API_BASE}/${encodeURIComponent(id)}`, { method: "DELETE" }),
};

async function request(path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(data?.error ?? `Request failed with status ${response.status}`);
  return data;
}

const state = { todos: [], filter: "all" };

const elements = {
  form: document.querySelector("#new-todo-form"),
  input: document.querySelector("#new-todo-title"),
  list: document.querySelector("#todo-list"),
  error: document.querySelector("#error"),
  remaining: document.querySelector("#remaining"),
  filters: document.querySelectorAll("[data-filter]"),
};

function showError(error) {
  elements.error.textContent = error ? error.message : "";
  elements.error.hidden = !error;
}

async function run(action) {
  try {
    await action();
    showError(null);
  } catch (error) {
    showError(error);
  }
  render();
}

function replaceTodo(updated) {
  state.todos = state.todos.map((todo) => (todo.id === updated.id ? updated : todo));
}

function visibleTodos() {
  if (state.filter === "active") return state.todos.filter((todo) => !todo.done);
  if (state.filter === "done") return state.todos.filter((todo) => todo.done);
  return state.todos;
}

function render() {
  elements.list.replaceChildren(...visibleTodos().map(renderTodo));
  const left = state.todos.filter((todo) => !todo.done).length;
  elements.remaining.textContent = `${left} ${left === 1 ? "item" : "items"} left`;
  for (const button of elements.filters) {
    button.setAttribute("aria-pressed", String(button.dataset.filter === state.filter));
  }
}

function renderTodo(todo) {
  const item = document.createElement("li");
  item.className = todo.done ? "todo done" : "todo";

  const checkbox = document.createElement("input");
  checkbox.type = "checkbox";
  checkbox.checked = todo.done;
  checkbox.setAttribute("aria-label", `Mark "${todo.title}" as ${todo.done ? "not done" : "done"}`);
  checkbox.addEventListener("change", () =>
    run(async () => replaceTodo(await api.update(todo.id, { done: checkbox.checked }))),
  );

  const title = document.createElement("span");
  title.className = "title";
  title.textContent = todo.title;
  title.title = "Double-click to edit";
  title.addEventListener("dblclick", () => startEditing(item, todo));

  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "delete";
  remove.textContent = "Delete";
  remove.setAttribute("aria-label", `Delete "${todo.title}"`);
  remove.addEventListener("click", () =>
    run(async () => {
      await api.remove(todo.id);
      state.todos = state.todos.filter((other) => other.id !== todo.id);
    }),
  );

  item.append(checkbox, title, remove);
  return item;
}

function startEditing(item, todo) {
  const editor = document.createElement("input");
  editor.className = "edit";
  editor.value = todo.title;
  editor.maxLength = 200;
  editor.setAttribute("aria-label", "Edit title");
  let finished = false;
  const finish = (save) => {
    if (finished) return;
    finished = true;
    const title = editor.value.trim();
    if (!save || title === todo.title) return render();
    run(async () => replaceTodo(await api.update(todo.id, { title })));
  };
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter") finish(true);
    if (event.key === "Escape") finish(false);
  });
  editor.addEventListener("blur", () => finish(true));
  item.querySelector(".title").replaceWith(editor);
  editor.focus();
}

elements.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const title = elements.input.value.trim();
  if (!title) return;
  run(async () => {
    state.todos = [...state.todos, await api.create(title)];
    elements.input.value = "";
  });
});

for (const button of elements.filters) {
  button.addEventListener("click", () => {
    state.filter = button.dataset.filter;
    render();
  });
}

run(async () => {
  state.todos = await api.list();
});
