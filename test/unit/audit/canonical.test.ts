import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../shared/audit/canonical.js";

// The examples of RFC 8785 (JSON Canonicalization Scheme), sections 3.2.2 and 3.2.3.
describe("canonical JSON (RFC 8785)", () => {
  it("serializes the RFC's sample: members sorted, numbers in ECMAScript form, strings escaped minimally", () => {
    const input = JSON.parse('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}') as unknown;
    expect(canonicalJson(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it("sorts member names by their UTF-16 code units, as the RFC's sorting example does", () => {
    const input = { "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis" };
    const names = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // JSON.parse puts integer-like names first; compare the serialized order instead.
    const order = [...canonicalJson(input).matchAll(/"([^"]*)":/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(order).toEqual(["\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33"]);
    expect(names).toHaveLength(7);
  });

  it("gives the same text for the same value however its members were ordered, nested included", () => {
    expect(canonicalJson({ b: [1, { d: 2, c: 3 }], a: "x" })).toBe(canonicalJson({ a: "x", b: [1, { c: 3, d: 2 }] }));
    expect(canonicalJson({ b: [1, { d: 2, c: 3 }], a: "x" })).toBe('{"a":"x","b":[1,{"c":3,"d":2}]}');
  });

  it("refuses what JSON cannot hold exactly: NaN, Infinity, undefined, lone surrogates, class instances", () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(TypeError);
    expect(() => canonicalJson({ a: undefined })).toThrow(TypeError);
    expect(() => canonicalJson({ a: "\ud800" })).toThrow(/lone surrogate/);
    expect(() => canonicalJson({ when: new Date(0) })).toThrow(/plain object/);
  });
});
