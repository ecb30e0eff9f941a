import { randomBytes } from "node:crypto";
import { deflateSync, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { storedZlib } from "./git-pack.ts";

/** The Adler-32 that zlib itself writes for `body`: a zlib stream's last four bytes. */
const zlibChecksum = (body: Buffer) => deflateSync(body, { level: 0 }).subarray(-4);

describe("storedZlib", () => {
  it("is a zlib stream of the bytes, with zlib's header and checksum, for any size one block holds", () => {
    // 5,552 and 5,553: around the length after which the Adler-32 sums are reduced.
    for (const size of [0, 1, 100, 5_552, 5_553, 12_000, 65_535]) {
      const body = randomBytes(size);
      const stream = storedZlib(body);
      expect(inflateSync(stream).equals(body)).toBe(true);
      expect(stream.subarray(0, 2).toString("hex")).toBe("7801");
      expect(stream.subarray(-4).equals(zlibChecksum(body))).toBe(true);
      // zlib splits a stored stream into blocks of its own size; below that, it is the same stream.
      if (size <= 12_000) expect(stream.equals(deflateSync(body, { level: 0 }))).toBe(true);
    }
  });

  it("checksums all 0xff bytes, where the sums grow fastest", () => {
    const body = Buffer.alloc(65_535, 0xff);
    expect(storedZlib(body).subarray(-4).equals(zlibChecksum(body))).toBe(true);
  });

  it("refuses more than one stored block holds", () => {
    expect(() => storedZlib(Buffer.alloc(65_536))).toThrow(/at most 65,535 bytes, not 65536/);
  });
});
