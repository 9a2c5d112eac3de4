import { describe, expect, it } from "vitest";
import type { Principals } from "../../../shared/facts/sources.js";
import { lookupPrincipal, PrincipalNotReplicatedError } from "../../../shared/facts/principal.js";
import type { Principal, RoleAssignment } from "../../../shared/model/access.js";

// Graph answers "not found" for a deleted principal, but also for one it has not replicated yet.

const NOW = new Date("2026-11-22T12:00:00Z");
const USER: Principal = { "@odata.type": "#microsoft.graph.user", id: "u1", displayName: "New Hire", userPrincipalName: "new@contoso.com", userType: "Member", accountEnabled: true, createdDateTime: null };

function assignment(createdOn: string | null, principalType = "User"): RoleAssignment {
  return { id: "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a", name: "a", scope: "/subscriptions/s", roleDefinitionId: "r", principalId: "u1", principalType, condition: null, conditionVersion: null, description: null, createdOn, updatedOn: createdOn, createdBy: null, updatedBy: null, delegatedManagedIdentityResourceId: null };
}

/** A directory that misses the principal `misses` times, then knows it (or never, with Infinity). */
function directory(misses: number): Principals & { reads: number } {
  const d = {
    reads: 0,
    async getById(): Promise<Principal | null> {
      d.reads += 1;
      return d.reads > misses ? USER : null;
    },
    async listByIds(): Promise<Principal[]> {
      throw new Error("not used");
    },
  };
  return d;
}

const sleeps: number[] = [];
const options = { now: () => NOW, sleep: async (ms: number) => void sleeps.push(ms) };

describe("lookupPrincipal", () => {
  it("reads again with growing waits until Graph knows the principal", async () => {
    sleeps.length = 0;
    const graph = directory(2);
    expect(await lookupPrincipal(graph, assignment("2026-11-22T11:59:00Z"), options)).toBe(USER);
    expect(graph.reads).toBe(3);
    expect(sleeps).toEqual([250, 500]);
  });

  it("calls the principal deleted (null) after the retries when the assignment is older than the replication window", async () => {
    sleeps.length = 0;
    const graph = directory(Infinity);
    expect(await lookupPrincipal(graph, assignment("2026-11-22T11:00:00Z"), options)).toBeNull();
    expect(graph.reads).toBe(4);
    expect(sleeps).toEqual([250, 500, 1000]);
  });

  it("refuses to call it deleted while the assignment is younger than the window, so the event is redelivered", async () => {
    await expect(lookupPrincipal(directory(Infinity), assignment("2026-11-22T11:50:00Z"), options)).rejects.toBeInstanceOf(PrincipalNotReplicatedError);
    // A creation time ahead of the clock is recent too.
    await expect(lookupPrincipal(directory(Infinity), assignment("2026-11-22T12:05:00Z"), options)).rejects.toBeInstanceOf(PrincipalNotReplicatedError);
    expect(await lookupPrincipal(directory(Infinity), assignment(null), options)).toBeNull();
  });

  it("never asks Graph about a ForeignGroup", async () => {
    const graph = directory(0);
    expect(await lookupPrincipal(graph, assignment("2026-11-22T11:59:00Z", "ForeignGroup"), options)).toBeNull();
    expect(graph.reads).toBe(0);
  });
});
