import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/db.ts";
import { insertTestSession, loadSeedWorkflow } from "../../../test/support/sessions.ts";
import { listGeneratedFiles, type NewGeneratedFile, replaceGeneratedFiles } from "./files.ts";

let db: TestDatabase;
let sessionId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const workflow = await loadSeedWorkflow();
  sessionId = await insertTestSession(db.prisma, workflow);
});
afterAll(() => db.drop());

const file = (path: string, content: string, author = "backend"): NewGeneratedFile => ({
  path,
  content,
  purpose: null,
  author,
  phase: "implementation",
  bytes: Buffer.byteLength(content),
});

describe("replaceGeneratedFiles", () => {
  it("makes the files the session's whole set, replacing an earlier attempt's", async () => {
    await replaceGeneratedFiles(db.prisma, sessionId, [file("a.ts", "1"), file("b.ts", "2")], {
      phase: "files",
      workspace: "/ws/1",
    });
    await replaceGeneratedFiles(
      db.prisma,
      sessionId,
      [file("b.ts", "two", "frontend"), file("c/ü.ts", "drei")],
      { phase: "files", workspace: "/ws/2" },
    );
    const files = await listGeneratedFiles(db.prisma, sessionId);
    expect(
      files.map(({ path, content, author, sizeBytes }) => ({ path, content, author, sizeBytes })),
    ).toEqual([
      { path: "b.ts", content: "two", author: "frontend", sizeBytes: 3 },
      { path: "c/ü.ts", content: "drei", author: "backend", sizeBytes: 4 },
    ]);
    expect(files[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const session = await db.prisma.session.findUnique({ where: { id: sessionId } });
    expect(session?.workspacePath).toBe("/ws/2");
    const written = await db.prisma.sessionEvent.findMany({
      where: { sessionId, type: "files.written" },
      orderBy: { id: "asc" },
    });
    expect(written.map((event) => event.message)).toEqual([
      "2 files (2 bytes) written to /ws/1",
      "2 files (7 bytes) written to /ws/2",
    ]);
  });

  it("leaves no file when the set is empty", async () => {
    await replaceGeneratedFiles(db.prisma, sessionId, [], { phase: "files", workspace: "/ws/3" });
    expect(await listGeneratedFiles(db.prisma, sessionId)).toEqual([]);
  });
});
