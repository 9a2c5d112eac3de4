import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateDemoTenant } from "../../../local/demo/generator/demoTenant.js";

const committedText = readFileSync(new URL("../../../local/demo/tenant.json", import.meta.url), "utf8");

describe("the demo tenant generator", () => {
  it("reproduces the committed local/demo/tenant.json (after changing the generator, run npm run demo:tenant)", () => {
    const generated: unknown = JSON.parse(JSON.stringify(generateDemoTenant()));
    expect(generated).toEqual(JSON.parse(committedText));
  });

  it("writes tenant.json byte for byte as committed, key order and layout included", () => {
    const written = JSON.stringify(generateDemoTenant(), null, 2) + "\n";
    // A boolean, not a string diff: on failure the test above shows where the data differ.
    expect(written === committedText, "local/demo/tenant.json differs from what npm run demo:tenant writes").toBe(true);
  });

  it("generates the same tenant on every call (no state survives a run)", () => {
    expect(generateDemoTenant()).toEqual(generateDemoTenant());
  });
});
