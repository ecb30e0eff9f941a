// A separate process for the tests: starts a server, prints one JSON line describing it, then behaves
// as asked. Usage: node hold-server.ts <postgres|redis> <dataDir> <hold|handlers|crash|drain|exit>
//   hold      keep running without shutdown handlers (the tests kill it)
//   handlers  install the shutdown handlers and wait for a signal
//   crash     install the handlers, then throw an uncaught error
//   drain     install the handlers, set process.exitCode = 3 and let the event loop run empty
//   exit      call process.exit(0) at once, without handlers (only the lifeline stops the server)
import { installShutdownHandlers, startEmbeddedPostgres, startPrivateRedis } from "../index.ts";

const [kind, dataDir, mode] = process.argv.slice(2);
if (!dataDir || (kind !== "postgres" && kind !== "redis")) {
  throw new Error("usage: hold-server.ts <postgres|redis> <dataDir> <mode>");
}

const server =
  kind === "postgres"
    ? await startEmbeddedPostgres({ dataDir, database: "app" })
    : await startPrivateRedis({ dataDir });
// Handlers go in before the line is printed: the test may signal this process the moment it reads it.
if (mode !== "hold" && mode !== "exit") installShutdownHandlers([server.stop], { report: () => {} });
process.stdout.write(`${JSON.stringify({ url: server.url, pid: server.pid, port: server.port })}\n`);

if (mode === "hold" || mode === "handlers") setInterval(() => {}, 60_000);
if (mode === "exit") process.exit(0);
if (mode === "drain") process.exitCode = 3;
if (mode === "crash") {
  setTimeout(() => {
    throw new Error("boom");
  }, 10);
}
