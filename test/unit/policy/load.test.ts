import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PolicyValidationError } from "../../../shared/errors.js";
import { loadPolicies, loadPolicyDir, parsePolicyFile, PolicyLoadError } from "../../../shared/policy/load.js";

const VALID = `id: guest-owner
title: Guest with a privileged role
severity: high
action: alert
description: A guest received a privileged role; guests are managed elsewhere.
condition: principal.guest && role.privileged
`;

function errorOf(text: string): PolicyValidationError {
  const result = parsePolicyFile("policies/p.yaml", text);
  if (!(result instanceof PolicyValidationError)) throw new Error("expected a validation error");
  return result;
}

describe("parsePolicyFile", () => {
  it("compiles a valid policy and lists the facts its condition reads", () => {
    const policy = parsePolicyFile("p.yaml", VALID);
    expect(policy).not.toBeInstanceOf(PolicyValidationError);
    expect(policy).toMatchObject({ id: "guest-owner", reads: ["principal.guest", "role.privileged"], enabled: true });
  });

  it("names the file, line, policy id and CEL error for an unknown fact", () => {
    const error = errorOf(VALID.replace("role.privileged", "role.isPrivileged"));
    expect(error.message).toBe("policies/p.yaml:6 [guest-owner]: condition: No such key: isPrivileged");
    expect(error).toMatchObject({ file: "policies/p.yaml", line: 6, policyId: "guest-owner" });
  });

  it("points at the right line inside a multi-line block condition", () => {
    const text = VALID.replace("condition: principal.guest && role.privileged", "condition: >\n  principal.guest\n  && role.privileged\n  && scope.level > 3");
    expect(errorOf(text)).toMatchObject({ line: 9, policyId: "guest-owner" });
    const literal = VALID.replace("condition: principal.guest && role.privileged", "condition: |\n  principal.guest &&\n  role.nope");
    expect(errorOf(literal)).toMatchObject({ line: 8 });
  });

  it("rejects a condition that is not a bool", () => {
    expect(errorOf(VALID.replace("principal.guest && role.privileged", "scope.level")).message).toContain("must be a bool, it is string");
  });

  it("reports a CEL syntax error", () => {
    expect(errorOf(VALID.replace("&& role.privileged", "&&")).message).toMatch(/p\.yaml:6 \[guest-owner\]: condition: Unexpected token/);
  });

  it("reports a missing field and a bad value with the line of the key", () => {
    expect(errorOf(VALID.replace("severity: high", "severity: urgent")).message).toMatch(/^policies\/p\.yaml:3 \[guest-owner\]: severity: Invalid option/);
    expect(errorOf(VALID.replace("action: alert\n", "")).message).toContain("action:");
    expect(errorOf(VALID + "owner: me\n").message).toMatch(/Unrecognized key/);
  });

  it("reports broken YAML with its line", () => {
    expect(errorOf("id: x\ntitle: [unclosed\nseverity: high\n").message).toMatch(/^policies\/p\.yaml:\d+ \[x\]: YAML: /);
  });
});

describe("loadPolicyDir", () => {
  it("loads the built-in pack without errors", async () => {
    const policies = await loadPolicies(fileURLToPath(new URL("../../../policies", import.meta.url)));
    expect(policies.length).toBeGreaterThanOrEqual(5);
  });

  it("reports every broken file and duplicate id, and loadPolicies refuses a partial pack", async () => {
    const dir = await mkdtemp(join(tmpdir(), "policies-"));
    await writeFile(join(dir, "a.yaml"), VALID);
    await writeFile(join(dir, "b.yaml"), VALID);
    await writeFile(join(dir, "c.yml"), VALID.replace("guest-owner", "other").replace("principal.guest", "principal.nope"));
    const result = await loadPolicyDir(dir);
    expect(result.status).toBe("invalid");
    expect(result.status === "invalid" && result.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/b\.yaml:1 \[guest-owner\]: duplicate policy id, also in .*a\.yaml/),
      expect.stringMatching(/c\.yml:6 \[other\]: condition: No such key: nope/),
    ]);
    await expect(loadPolicies(dir)).rejects.toBeInstanceOf(PolicyLoadError);
  });

  it("refuses a directory without policies", async () => {
    const dir = await mkdtemp(join(tmpdir(), "policies-"));
    await expect(loadPolicies(dir)).rejects.toThrow(/no policy files/);
  });
});
