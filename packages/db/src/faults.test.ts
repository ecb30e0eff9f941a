import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import { createPrisma } from "./client.ts";
import { isDatabaseUnavailable, isOutOfConnections } from "./faults.ts";
import { listen } from "./notifications.ts";

// Real failures of a real server: an unreachable port, a connection killed mid-query and mid-transaction,
// and, for contrast, statements the server refuses (which are not infrastructure faults).
describe("isDatabaseUnavailable", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  const terminate = (applicationName: string) =>
    db.prisma.$queryRawUnsafe(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${applicationName}'`,
    );

  it("is true when the server cannot be reached", async () => {
    const nowhere = createPrisma("postgresql://postgres@127.0.0.1:1/none");
    try {
      const error = await nowhere.session.findMany().catch((e: unknown) => e);
      expect(isDatabaseUnavailable(error)).toBe(true);
      const raw = await nowhere.$queryRaw`select 1`.catch((e: unknown) => e);
      expect(isDatabaseUnavailable(raw)).toBe(true);
    } finally {
      await nowhere.$disconnect();
    }
  });

  it("is true when the connection is killed during a query and during a transaction", async () => {
    const url = new URL(db.url);
    url.searchParams.set("application_name", "victim");
    const victim = createPrisma(url.toString(), { max: 1 });
    try {
      await victim.$queryRaw`select 1`;
      const query = victim.$queryRaw`select pg_sleep(2)`.catch((e: unknown) => e);
      await sleep(300);
      await terminate("victim");
      expect(isDatabaseUnavailable(await query)).toBe(true);

      const transaction = victim
        .$transaction(async (tx) => {
          await tx.$queryRaw`select 1`;
          await sleep(600);
          await tx.$queryRaw`select 2`;
        })
        .catch((e: unknown) => e);
      await sleep(200);
      await terminate("victim");
      expect(isDatabaseUnavailable(await transaction)).toBe(true);
    } finally {
      await victim.$disconnect();
    }
  });

  it("is false for statements the server refuses and for other errors", async () => {
    const missing = await db.prisma.$queryRawUnsafe("select * from no_such_table").catch((e: unknown) => e);
    expect(isDatabaseUnavailable(missing)).toBe(false);
    const unique = await db.prisma.leaderLease
      .createMany({
        data: [
          { name: "x", owner: "a", expiresAt: new Date() },
          { name: "x", owner: "b", expiresAt: new Date() },
        ],
      })
      .catch((e: unknown) => e);
    expect(unique).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(unique)).toBe(false);
    expect(isDatabaseUnavailable(new Error("boom"))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});

describe("listen", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it("delivers notifications, and again after its connection was killed", async () => {
    const heard: string[] = [];
    const listener = await listen(db.url, {
      channels: ["test_channel"],
      onNotification: (_, payload) => heard.push(payload),
      reconnectDelayMs: 50,
    });
    const notify = async (payload: string) => {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      await client.query("select pg_notify('test_channel', $1)", [payload]);
      await client.end();
    };
    try {
      await notify("one");
      await expect.poll(() => heard).toEqual(["one"]);
      await db.prisma.$queryRawUnsafe(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'foundry-listener'",
      );
      // Once it is back, it hears again (what was sent while it was away is lost: a fast path only).
      await expect
        .poll(
          async () => {
            await notify("two");
            return heard.includes("two");
          },
          { timeout: 10_000, interval: 200 },
        )
        .toBe(true);
    } finally {
      await listener.close();
    }
  });

  it("refuses a channel name that is not an identifier", async () => {
    await expect(
      listen(db.url, { channels: ["bad; drop table x"], onNotification: () => {} }),
    ).rejects.toThrow(/not a channel name/);
  });
});

// A server with no connection slot left for the role, for real: a role whose CONNECTION LIMIT is 0.
describe("isOutOfConnections", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it("is true when PostgreSQL refuses a connection for want of a slot, and false for other failures", async () => {
    const role = `no_slots_${Date.now()}`;
    await db.prisma.$executeRawUnsafe(`CREATE ROLE "${role}" LOGIN CONNECTION LIMIT 0`);
    try {
      const url = new URL(db.url);
      url.username = role;
      const client = new Client({ connectionString: url.toString() });
      const refused = await client.connect().catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: "53300" });
      expect(isOutOfConnections(refused)).toBe(true);
      expect(isOutOfConnections(new Error("queueing failed", { cause: refused }))).toBe(true);
      // Unreachable, or refused as a statement: not a want of slots.
      const nowhere = new Client({ connectionString: "postgresql://postgres@127.0.0.1:1/none" });
      expect(isOutOfConnections(await nowhere.connect().catch((e: unknown) => e))).toBe(false);
      expect(
        isOutOfConnections(await db.prisma.$queryRawUnsafe("select nope").catch((e: unknown) => e)),
      ).toBe(false);
    } finally {
      await db.prisma.$executeRawUnsafe(`DROP ROLE "${role}"`);
    }
  });
});
