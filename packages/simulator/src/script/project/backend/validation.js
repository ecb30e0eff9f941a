export const MAX_TITLE_LENGTH = 200;

/** Checks the body of POST /api/todos: `{ title: string, done?: boolean }`. */
export function validateNewTodo(body) {
  if (!isPlainObject(body)) return invalid("Body must be a JSON object");
  const unknown = Object.keys(body).filter((key) => key !== "title" && key !== "done");
  if (unknown.length > 0) return invalid(`Unknown field: ${unknown[0]}`);
  const title = checkTitle(body.title);
  if (!title.ok) return title;
  if (body.done !== undefined && typeof body.done !== "boolean") return invalid("done must be true or false");
  return { ok: true, value: { title: title.value, done: body.done ?? false } };
}

/** Checks the body of PATCH /api/todos/:id: at least one of `title` and `done`. */
export function validateTodoChanges(body) {
  if (!isPlainObject(body)) return invalid("Body must be a JSON object");
  const unknown = Object.keys(body).filter((key) => key !== "title" && key !== "done");
  if (unknown.length > 0) return invalid(`Unknown field: ${unknown[0]}`);
  if (body.title === undefined && body.done === undefined) return invalid("Send title and/or done");
  const changes = {};
  if (body.title !== undefined) {
    const title = checkTitle(body.title);
    if (!title.ok) return title;
    changes.title = title.value;
  }
  if (body.done !== undefined) {
    if (typeof body.done !== "boolean") return invalid("done must be true or false");
    changes.done = body.done;
  }
  return { ok: true, value: changes };
}

function checkTitle(title) {
  if (typeof title !== "string") return invalid("title is required and must be a string");
  const trimmed = title.trim();
  if (trimmed === "") return invalid("title must not be empty");
  if (trimmed.length > MAX_TITLE_LENGTH)
    return invalid(`title must be at most ${MAX_TITLE_LENGTH} characters`);
  return { ok: true, value: trimmed };
}

function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(message) {
  return { ok: false, error: message };
}
