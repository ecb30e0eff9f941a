import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import {
  countLoginAttempt,
  deleteLoginSession,
  insertLoginSession,
  loginSessionExpiry,
  pingDatabase,
} from "./logins.ts";

// Sign-ins and sign-in attempts as the API keeps them, and the readiness probe's round trip.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe("login sessions", () => {
  it("stores a sign-in by its hash, reads its expiry, deletes it, and sweeps expired ones on insert", async () => {
    const later = new Date(Date.now() + 60_000);
    await db.prisma.loginSession.create({
      data: { idHash: "expired", expiresAt: new Date(Date.now() - 1000) },
    });
    await insertLoginSession(db.prisma, "live", later);
    expect(await loginSessionExpiry(db.prisma, "live")).toEqual(later);
    expect(await loginSessionExpiry(db.prisma, "expired")).toBeNull();
    expect(await loginSessionExpiry(db.prisma, "never")).toBeNull();
    await deleteLoginSession(db.prisma, "live");
    await deleteLoginSession(db.prisma, "live");
    expect(await loginSessionExpiry(db.prisma, "live")).toBeNull();
  });
});

describe("countLoginAttempt", () => {
  it("counts attempts per client within one window and says when the window ends", async () => {
    const first = await countLoginAttempt(db.prisma, "10.0.0.1", 3600);
    const second = await countLoginAttempt(db.prisma, "10.0.0.1", 3600);
    const other = await countLoginAttempt(db.prisma, "10.0.0.2", 3600);
    expect([first.attempts, second.attempts, other.attempts]).toEqual([1, 2, 1]);
    expect(second.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(second.retryAfterSeconds).toBeLessThanOrEqual(3600);
  });
});

describe("pingDatabase", () => {
  it("resolves when the database answers and rejects when it cannot be reached", async () => {
    await expect(pingDatabase(db.prisma)).resolves.toBeUndefined();
    const { createPrisma } = await import("@foundry/db");
    const unreachable = createPrisma("postgresql://postgres@127.0.0.1:1/none");
    try {
      await expect(pingDatabase(unreachable)).rejects.toThrow();
    } finally {
      await unreachable.$disconnect();
    }
  });
});
