// The generated client through @prisma/adapter-pg against real Postgres (a clone of the migrated template).
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import {
  createPrisma,
  executeSql,
  MAX_PREPARED_PARAMETERS,
  POOL_IDLE_TIMEOUT_MS,
  preparedStatementName,
  queryRows,
  queryText,
} from "./client.ts";
import { Prisma } from "./index.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

function sessionData(id: string) {
  return {
    id,
    request: "Build a todo app",
    workflowName: "default",
    workflow: { phases: [{ name: "plan", tasks: ["a", "b"] }], version: 1 },
    status: "queued",
  };
}

describe("generated client", () => {
  it("writes a session with its relations and reads them back", async () => {
    const created = await db.prisma.session.create({
      data: {
        ...sessionData("s-relations"),
        costUsd: new Prisma.Decimal("0.123456"),
        phases: {
          create: [
            { phase: "plan", position: 0, status: "succeeded", output: { plan: "x" } },
            { phase: "build", position: 1, status: "pending" },
          ],
        },
        calls: {
          create: {
            idempotencyKey: "s-relations.plan.pm",
            phase: "plan",
            callKey: "pm",
            role: "manager",
            provider: "openai",
            model: "gpt-test",
            schemaName: "Plan",
            request: { system: "s", user: "u" },
            status: "succeeded",
            inputTokens: 12,
            outputTokens: 34,
            costUsd: "0.000789",
          },
        },
        files: {
          create: {
            phase: "build",
            path: "src/a.ts",
            content: "x",
            sizeBytes: 1,
            sha256: "ab",
            author: "be",
          },
        },
        votes: {
          create: {
            disagreementId: "d1",
            topic: "db",
            voter: "frontend",
            provider: "gemini",
            model: "g",
            choice: "postgres",
            rationale: "r",
          },
        },
        events: {
          create: [
            { type: "submitted", message: "queued" },
            { type: "started", message: "go" },
          ],
        },
      },
    });
    expect(created).toMatchObject({ publish: false, inputTokens: 0, error: null });
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.updatedAt).toBeInstanceOf(Date);

    const read = await db.prisma.session.findUniqueOrThrow({
      where: { id: "s-relations" },
      include: {
        phases: { orderBy: { position: "asc" } },
        calls: true,
        files: true,
        votes: true,
        events: { orderBy: { id: "asc" } },
      },
    });
    expect(read.workflow).toEqual({ phases: [{ name: "plan", tasks: ["a", "b"] }], version: 1 });
    expect(read.costUsd).toBeInstanceOf(Prisma.Decimal);
    expect(read.costUsd.toString()).toBe("0.123456");
    expect(read.phases.map((phase) => [phase.phase, phase.status, phase.output])).toEqual([
      ["plan", "succeeded", { plan: "x" }],
      ["build", "pending", null],
    ]);
    expect(read.phases[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(read.calls[0]).toMatchObject({
      idempotencyKey: "s-relations.plan.pm",
      inputTokens: 12,
      attempts: 0,
    });
    expect(read.calls[0]?.costUsd.toFixed(6)).toBe("0.000789");
    expect(read.files[0]).toMatchObject({ path: "src/a.ts", author: "be" });
    expect(read.votes[0]).toMatchObject({ disagreementId: "d1", choice: "postgres" });
    expect(read.events.map((event) => event.type)).toEqual(["submitted", "started"]);
    const [first, second] = read.events;
    expect(typeof first?.id).toBe("bigint");
    expect(second!.id > first!.id).toBe(true);
  });

  it("reports unique violations as P2002, the code idempotent writers rely on", async () => {
    await db.prisma.session.create({ data: sessionData("s-unique") });
    const duplicate = await db.prisma.session
      .create({ data: sessionData("s-unique") })
      .catch((error) => error);
    expect(duplicate).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect(duplicate.code).toBe("P2002");
  });

  it("rolls back an interactive transaction that throws", async () => {
    const failure = await db.prisma
      .$transaction(async (tx: Prisma.TransactionClient) => {
        await tx.session.create({ data: sessionData("s-rollback") });
        throw new Error("abort");
      })
      .catch((error) => error);
    expect(failure).toMatchObject({ message: "abort" });
    expect(await db.prisma.session.findUnique({ where: { id: "s-rollback" } })).toBeNull();
  });

  it("deletes a session's rows with it (ON DELETE CASCADE)", async () => {
    await db.prisma.session.create({
      data: {
        ...sessionData("s-cascade"),
        phases: { create: { phase: "plan", position: 0, status: "pending" } },
      },
    });
    await db.prisma.session.delete({ where: { id: "s-cascade" } });
    expect(await db.prisma.phaseRun.count({ where: { sessionId: "s-cascade" } })).toBe(0);
  });
});

describe("prepared statements", () => {
  it("prepares each statement once per connection and runs it again by name", async () => {
    const prisma = createPrisma(db.url, { max: 1 });
    try {
      for (const id of ["p-1", "p-2", "p-3"]) {
        const rows = await prisma.$queryRaw<Array<{ id: string }>>`SELECT ${id}::text AS id`;
        expect(rows).toEqual([{ id }]);
      }
      const prepared = await prisma.$queryRaw<Array<{ name: string; statement: string }>>`
        SELECT name, statement FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::text AS id%'`;
      expect(prepared).toHaveLength(1);
      expect(prepared[0]?.name).toBe(preparedStatementName({ sql: "SELECT $1::text AS id", args: [1] }));
    } finally {
      await prisma.$disconnect();
    }
  });

  it("leaves statements with many parameters unnamed, and names the same text the same way", () => {
    const sql = "SELECT 1";
    expect(preparedStatementName({ sql, args: [] })).toMatch(/^foundry_[\w-]{32}$/);
    expect(preparedStatementName({ sql, args: [] })).toBe(preparedStatementName({ sql, args: [] }));
    expect(preparedStatementName({ sql: "SELECT 2", args: [] })).not.toBe(
      preparedStatementName({ sql, args: [] }),
    );
    const many = Array.from({ length: MAX_PREPARED_PARAMETERS + 1 }, (_, index) => index);
    expect(preparedStatementName({ sql, args: many })).toBe("");
  });
});

describe("queryRows and executeSql", () => {
  it("run on the client's own pool as prepared statements, with node-postgres' types and Decimals sent as text", async () => {
    const prisma = createPrisma(db.url, { max: 1 });
    try {
      const rows = await queryRows<{ usd: string; n: string; small: number; at: Date; doc: unknown }>(
        prisma,
        Prisma.sql`SELECT ${new Prisma.Decimal("0.000123")}::numeric * 2 AS usd, 7::bigint AS n, 3 AS small,
          ${new Date("2026-12-03T10:00:00Z")}::timestamptz AS at, ${JSON.stringify({ a: [1] })}::jsonb AS doc`,
      );
      expect(rows).toEqual([
        { usd: "0.000246", n: "7", small: 3, at: new Date("2026-12-03T10:00:00Z"), doc: { a: [1] } },
      ]);
      // One connection (max 1), the same one Prisma uses: the statement is prepared on it, by its name.
      const prepared = await prisma.$queryRaw<Array<{ name: string }>>`
        SELECT name FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::numeric * 2 AS usd%'`;
      expect(prepared.map((row) => row.name)).toEqual([
        preparedStatementName({
          sql: Prisma.sql`SELECT ${1}::numeric * 2 AS usd, 7::bigint AS n, 3 AS small,
          ${2}::timestamptz AS at, ${3}::jsonb AS doc`.text,
          args: [1, 2, 3],
        }),
      ]);
      // A statement kept as text (a .sql file) with its values.
      expect(
        await queryText(prisma, "SELECT $1::text AS said, $2::numeric AS usd", [
          "text",
          new Prisma.Decimal("1.50"),
        ]),
      ).toEqual([{ said: "text", usd: "1.5" }]);
      // A statement whose last SELECT is of void columns (pg_notify), which Prisma's $queryRaw cannot read.
      await executeSql(prisma, Prisma.sql`SELECT pg_notify('foundry_test', ${"x"})`);
    } finally {
      await prisma.$disconnect();
    }
  });

  it("run inside an interactive transaction through it, seeing its uncommitted writes", async () => {
    await expect(
      db.prisma.$transaction(async (tx) => {
        await executeSql(
          tx,
          Prisma.sql`INSERT INTO sessions (id, request, workflow_name, workflow, status, updated_at)
            VALUES (${"s-in-tx"}, 'r', 'default', '{}'::jsonb, 'queued', now())`,
        );
        const seen = await queryRows<{ id: string }>(
          tx,
          Prisma.sql`SELECT id FROM sessions WHERE id = ${"s-in-tx"}`,
        );
        expect(seen).toEqual([{ id: "s-in-tx" }]);
        expect(await queryText(tx, "SELECT id FROM sessions WHERE id = $1", ["s-in-tx"])).toEqual([
          { id: "s-in-tx" },
        ]);
        await executeSql(tx, Prisma.sql`SELECT pg_notify('foundry_test', ${"x"})`);
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await queryRows(db.prisma, Prisma.sql`SELECT id FROM sessions WHERE id = ${"s-in-tx"}`)).toEqual(
      [],
    );
  });

  it("connect a client that has not connected yet, and again after $disconnect", async () => {
    const prisma = createPrisma(db.url, { max: 1 });
    try {
      expect(await queryRows(prisma, Prisma.sql`SELECT ${"first"}::text AS said`)).toEqual([
        { said: "first" },
      ]);
      await prisma.$disconnect();
      expect(await queryRows(prisma, Prisma.sql`SELECT ${"again"}::text AS said`)).toEqual([
        { said: "again" },
      ]);
      expect(await prisma.$queryRaw`SELECT 1::int AS one`).toEqual([{ one: 1 }]);
    } finally {
      await prisma.$disconnect();
    }
  });

  it("need no Prisma engine, and $disconnect ends the pool even when only they used it", async () => {
    const url = new URL(db.url);
    url.searchParams.set("application_name", "foundry-query-rows-only");
    const connections = async () => {
      const [row] = await db.prisma.$queryRaw<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'foundry-query-rows-only'`;
      return row?.n;
    };
    const prisma = createPrisma(url.toString(), { max: 2 });
    await Promise.all(
      [1, 2].map((n) => queryRows(prisma, Prisma.sql`SELECT ${n}::int AS n, pg_sleep(0.05)`)),
    );
    expect(await connections()).toBe(2);
    await prisma.$disconnect();
    await expect.poll(connections, { timeout: 2000 }).toBe(0);
  });

  it("report a broken database as node-postgres does, which isDatabaseUnavailable recognizes", async () => {
    const { isDatabaseUnavailable } = await import("./faults.ts");
    const nowhere = createPrisma("postgresql://postgres@127.0.0.1:1/none");
    try {
      const error = await queryRows(nowhere, Prisma.sql`SELECT 1`).then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await nowhere.$disconnect();
    }
  });
});

describe("the connection pool", () => {
  const backendPid = async (client: ReturnType<typeof createPrisma>) =>
    (await client.$queryRaw<Array<{ pid: number }>>`SELECT pg_backend_pid() AS pid`)[0]?.pid;

  it("keeps an idle connection open past node-postgres' 10 seconds, and closes it after a timeout it is given", async () => {
    expect(POOL_IDLE_TIMEOUT_MS).toBeGreaterThan(10_000);
    const kept = createPrisma(db.url, { max: 1 });
    const short = createPrisma(db.url, { max: 1, idleTimeoutMs: 200 });
    try {
      const keptBefore = await backendPid(kept);
      const shortBefore = await backendPid(short);
      await sleep(10_500);
      // The same server backend: the connection, its catalog caches and its prepared plans were kept.
      expect(await backendPid(kept)).toBe(keptBefore);
      expect(await backendPid(short)).not.toBe(shortBefore);
    } finally {
      await kept.$disconnect();
      await short.$disconnect();
    }
  }, 30_000);
});
