import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { factPaths, REFERENCE_FILE, renderReference } from "../../docs/generate.js";
import { FACT_CATALOGUE, FACT_VARIABLES } from "../../shared/facts/catalogue.js";
import { loadPolicyPack } from "../../shared/policy/load.js";

// The policy authors' reference is generated from the code: the committed file must be what the
// generator writes today, and it must name every built-in policy and every fact.

const committed = await readFile(fileURLToPath(new URL(`../../${REFERENCE_FILE}`, import.meta.url)), "utf8").catch(() => "");
const rendered = await renderReference();

describe("docs/policy-reference.md", () => {
  it("is what docs/generate.ts produces from the current code", () => {
    const have = committed.split("\n");
    const want = rendered.split("\n");
    const line = want.findIndex((text, index) => have[index] !== text) + 1 || (have.length === want.length ? 0 : want.length + 1);
    expect(committed === rendered, `${REFERENCE_FILE} is out of date (first difference at line ${line}): run npm run docs and commit the result`).toBe(true);
  });

  it("names every built-in policy", async () => {
    const pack = await loadPolicyPack(fileURLToPath(new URL("../../policies", import.meta.url)));
    expect(pack.policies.length).toBeGreaterThan(0);
    for (const policy of pack.policies) expect(committed, policy.id).toContain(`### ${policy.id}\n`);
  });

  it("names every fact of the catalogue", () => {
    const paths = FACT_VARIABLES.flatMap((variable) => Object.keys(FACT_CATALOGUE[variable]).map((field) => `${variable}.${field}`));
    expect(factPaths()).toEqual(paths);
    for (const path of paths) expect(committed, path).toContain(`| \`${path}\` |`);
  });

  it("renders the same text twice", async () => {
    expect(await renderReference()).toBe(rendered);
  });
});
