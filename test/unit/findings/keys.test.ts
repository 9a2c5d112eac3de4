import { describe, expect, it } from "vitest";
import { sanitizeKey } from "../../../shared/findings/keys.js";

// Table Storage keys: at most 512 UTF-16 code units; no / \ # ?, no control characters; and the
// request URL must be able to encode them (no lone surrogates).
// eslint-disable-next-line no-control-regex
const LEGAL = /^[^/\\#?\u0000-\u001f\u007f-\u009f]{1,512}$/;
const wellFormed = (key: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(key);

describe("sanitizeKey", () => {
  it("keeps a key that is already legal exactly as it is", () => {
    for (const key of ["e0000001-0000-4000-8000-000000000001", "ce-1", "emoji 🔑 ok", "O'Brien%20"]) expect(sanitizeKey(key)).toBe(key);
  });

  it.each([
    ["slashes and the rest", "a/b\\c#d?e"],
    ["control characters", "a\u0000b\u007fc\u0085d"],
    ["a lone high surrogate", "lone\ud800"],
    ["a lone low surrogate", "\udc00lone"],
    ["200,000 characters", "k".repeat(200_000)],
    ["a surrogate pair across the cut", `${"k".repeat(399)}🔑${"k".repeat(600)}`],
    ["nothing at all", ""],
  ])("makes %s a legal, well-formed key", (_what, value) => {
    const key = sanitizeKey(value);
    expect(key).toMatch(LEGAL);
    expect(wellFormed(key)).toBe(true);
    expect(sanitizeKey(value)).toBe(key);
  });

  it("never gives two different texts the same key", () => {
    const texts = ["a/b", "a_b", "a?b", "a\ud800b", "a\udc00b", "k".repeat(600), `${"k".repeat(600)}x`];
    expect(new Set(texts.map(sanitizeKey)).size).toBe(texts.length);
  });
});
