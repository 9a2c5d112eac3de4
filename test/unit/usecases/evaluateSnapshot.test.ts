import { describe, expect, it } from "vitest";
import type { Finding } from "../../../shared/model/finding.js";
import { loadPolicyPack } from "../../../shared/policy/load.js";
import { evaluateSnapshot, streamSnapshotEvaluation } from "../../../shared/usecases/evaluateSnapshot.js";
import { repeatedSmallTenant } from "../../support/tenants.js";
import { POLICIES } from "../../support/packs.js";

const NOW = new Date("2026-11-21T10:00:00Z");

describe("streamSnapshotEvaluation", () => {
  it("hands each finding to the sink as soon as it is made, long before the last assignment is judged", async () => {
    const [snapshot, pack] = await Promise.all([repeatedSmallTenant(30), loadPolicyPack(POLICIES)]);
    let done = 0;
    const doneAtEachFinding: number[] = [];
    const summary = await streamSnapshotEvaluation(snapshot, pack, { now: NOW }, { finding: () => void doneAtEachFinding.push(done), progress: (d) => void (done = d) });
    expect(summary.assignments).toBe(270);
    expect(doneAtEachFinding.length).toBe(summary.findings);
    expect(doneAtEachFinding[0]).toBe(0); // the first finding left before its assignment was even counted done
    expect(doneAtEachFinding.filter((d) => d < 135).length).toBeGreaterThan(summary.findings / 3);
  });

  it("waits for a sink that is not ready, so a slow reader slows the evaluation instead of filling memory", async () => {
    const [snapshot, pack] = await Promise.all([repeatedSmallTenant(2), loadPolicyPack(POLICIES)]);
    let release: () => void = () => undefined;
    let done = 0;
    let held = false;
    const running = streamSnapshotEvaluation(snapshot, pack, { now: NOW }, {
      finding: () => {
        if (held) return undefined;
        held = true;
        return new Promise<void>((resolve) => (release = resolve));
      },
      progress: (d) => void (done = d),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(0);
    release();
    expect((await running).assignments).toBe(18);
    expect(done).toBe(18);
  });

  it("orders the assignments by scope, so each policy's findings come out ordered by scope", async () => {
    const [snapshot, pack] = await Promise.all([repeatedSmallTenant(3), loadPolicyPack(POLICIES)]);
    const findings: Finding[] = [];
    await streamSnapshotEvaluation({ ...snapshot, roleAssignments: [...snapshot.roleAssignments].reverse() }, pack, { now: NOW }, { finding: (f) => void findings.push(f) });
    const scopes = findings.map((f) => f.scope.toLowerCase());
    expect(scopes).toEqual([...scopes].sort());
  });
});

describe("evaluateSnapshot", () => {
  it("collects exactly what the stream hands out", async () => {
    const [snapshot, pack] = await Promise.all([repeatedSmallTenant(2), loadPolicyPack(POLICIES)]);
    const streamed: Finding[] = [];
    await streamSnapshotEvaluation(snapshot, pack, { now: NOW }, { finding: (f) => void streamed.push(f) });
    const collected = await evaluateSnapshot(snapshot, pack, { now: NOW });
    expect(collected.findings).toEqual(streamed);
    expect(collected.assignments).toBe(18);
    expect(collected.evaluationErrors).toEqual([]);
  });
});
