import { createHash, randomBytes } from "node:crypto";
import type { PrismaClient } from "@foundry/db";
import { deleteLoginSession, insertLoginSession, loginSessionExpiry } from "@foundry/store";

const hashOf = (id: string) => createHash("sha256").update(id).digest("hex");

/**
 * Browser sign-ins, kept in Postgres so that every API replica sees the same ones: signing out
 * ends a sign-in for all of them, which a stateless signed cookie alone cannot do. Rows hold only a
 * hash of the id the cookie carries, so a copy of the table signs no one in.
 */
export class LoginSessions {
  readonly #db: PrismaClient;

  constructor(db: PrismaClient) {
    this.#db = db;
  }

  /** Starts a sign-in that lasts until `expiresAt`; returns its id (22 base64url characters). */
  async start(expiresAt: Date): Promise<string> {
    const id = randomBytes(16).toString("base64url");
    await insertLoginSession(this.#db, hashOf(id), expiresAt);
    return id;
  }

  /** Whether the sign-in exists (not signed out) and has not expired. */
  async isActive(id: string): Promise<boolean> {
    const expiresAt = await loginSessionExpiry(this.#db, hashOf(id));
    return expiresAt !== null && expiresAt.getTime() > Date.now();
  }

  /** Ends a sign-in (signing out). Ending one that is already gone is not an error. */
  async end(id: string): Promise<void> {
    await deleteLoginSession(this.#db, hashOf(id));
  }
}
