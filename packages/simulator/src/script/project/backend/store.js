/**
 * In-memory todo store. Data lives as long as the process; ids are increasing numbers as strings.
 * @returns {{
 *   list(): Todo[], get(id: string): Todo | null, create(input: { title: string, done?: boolean }): Todo,
 *   update(id: string, changes: { title?: string, done?: boolean }): Todo | null, remove(id: string): boolean
 * }}
 * @typedef {{ id: string, title: string, done: boolean, createdAt: string, updatedAt: string }} Todo
 */
export function createTodoStore() {
  const todos = new Map();
  let nextId = 1;

  return {
    list() {
      return [...todos.values()];
    },
    get(id) {
      return todos.get(id) ?? null;
    },
    create({ title, done = false }) {
      const now = new Date().toISOString();
      const todo = { id: String(nextId++), title, done, createdAt: now, updatedAt: now };
      todos.set(todo.id, todo);
      return todo;
    },
    update(id, changes) {
      const todo = todos.get(id);
      if (!todo) return null;
      const updated = { ...todo, ...changes, updatedAt: new Date().toISOString() };
      todos.set(id, updated);
      return updated;
    },
    remove(id) {
      return todos.delete(id);
    },
  };
}
