import { connect, createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { isPostgresUnavailable, isSocketFailure, isTransientSqlState } from "./postgres.ts";

/** The error Node gives a connection to a port nothing listens on. */
async function refusedConnection(): Promise<Error> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return new Promise((resolve) => connect(port, "127.0.0.1").once("error", resolve));
}

describe("PostgreSQL fault classification", () => {
  it("counts shutdown, connection, resource and retry-the-transaction SQLSTATEs as transient", () => {
    for (const code of ["57P01", "57P02", "57P03", "08006", "08001", "53300", "53100", "40001", "40P01"])
      expect(isTransientSqlState(code), code).toBe(true);
    for (const code of ["23505", "42P01", "22P02", "57014", "42501"])
      expect(isTransientSqlState(code), code).toBe(false);
  });

  it("counts a refused connection, directly or as a cause, and node-postgres's broken-client errors", async () => {
    const refused = await refusedConnection();
    expect(isSocketFailure(refused)).toBe(true);
    expect(isPostgresUnavailable(refused)).toBe(true);
    expect(isPostgresUnavailable(new Error("finishing a job", { cause: refused }))).toBe(true);
    expect(isPostgresUnavailable(new Error("Connection terminated unexpectedly"))).toBe(true);
  });

  it("does not count other errors", () => {
    expect(isSocketFailure(new Error("connect ECONNREFUSED"))).toBe(false);
    expect(isPostgresUnavailable(new Error("duplicate key value violates unique constraint"))).toBe(false);
    expect(isPostgresUnavailable("Connection terminated")).toBe(false);
    expect(isPostgresUnavailable(null)).toBe(false);
  });
});
