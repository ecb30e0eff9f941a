// Bull Board at /admin/queues: the orchestrator queue and every provider queue, behind the API
// token (bearer header or the login cookie).
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import type { IServerAdapter } from "@bull-board/api/typings/app";
import { HonoAdapter } from "@bull-board/hono";
import { ORCHESTRATOR_QUEUE, type QueueSet } from "@foundry/queue";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import { type Auth, refuseCrossSiteWrites, requireToken } from "./auth.ts";
import { LOGIN_PATH, loginLocation } from "./login.ts";

export const BOARD_PATH = "/admin/queues";

export interface BoardOptions {
  queues: QueueSet;
  auth: Auth;
}

/** What each queue holds, shown under its name on the board. */
export function queueDescription(name: string): string {
  return name === ORCHESTRATOR_QUEUE
    ? "workflow phases · job id <session>.<phase>"
    : `${name} model calls · job id <session>.<phase>.<call>`;
}

/**
 * Bull Board for every queue of `queues`, to mount at {@link BOARD_PATH}. Pages (GETs that accept
 * HTML) without the token redirect to the login page; everything else, including the board's
 * JSON API under `/admin/queues/api/…` and its static files, answers 401. Operators may retry,
 * promote and clean jobs (the board is not read-only); those writes refuse cross-site requests.
 *
 * @example
 * app.route(BOARD_PATH, boardRoutes({ queues, auth }));
 */
export function boardRoutes(options: BoardOptions): Hono {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(BOARD_PATH);
  createBullBoard({
    queues: options.queues
      .all()
      .map((queue) => new BullMQAdapter(queue, { description: queueDescription(queue.name) })),
    // @bull-board/hono 9.10.1 (the latest) declares its types against its own nested copy of
    // @bull-board/api 9.10.1; at run time it uses nothing from it, so only the types differ.
    serverAdapter: serverAdapter as unknown as IServerAdapter,
    options: {
      uiConfig: {
        boardTitle: "Foundry queues",
        // The login page shows "Sign out" to a signed-in browser.
        miscLinks: [{ text: "Sign out", url: `${LOGIN_PATH}?next=${BOARD_PATH}` }],
      },
    },
  });

  const board = new Hono();
  board.use("*", async (c, next) => {
    await next();
    // The board can retry and delete jobs: no framing by other sites.
    c.header("X-Frame-Options", "DENY");
  });
  board.use("*", refuseCrossSiteWrites());
  board.use(
    "*",
    requireToken(options.auth, {
      onPage: (target) => new Response(null, { status: 302, headers: { location: loginLocation(target) } }),
    }),
  );
  board.route("/", serverAdapter.registerPlugin());
  return board;
}
