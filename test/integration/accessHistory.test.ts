import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRuntime, type Runtime } from "../../shared/runtime.js";
import { DevHost } from "../../local/devhost.js";
import { GRANTGUARD_API_CLIENT_ID } from "../../local/localAzure.js";
import type { ResourceEvent } from "../../local/simulator/events.js";
import type { AccessInterval } from "../../shared/findings/access.js";
import { roleAssignmentFromArm } from "../../shared/model/access.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// Who held which role where, and when: the event path and the sweep record intervals in Table
// Storage, read back through the API as an auditor would ask ("who had Owner on the subscription then?").

const SUBSCRIPTION = "/subscriptions/11111111-1111-4111-8111-111111111111";
const OWNER = `${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635`;
const READER = `${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`;
const ADA = "aaaaaaaa-0000-4000-8000-000000000001";
const GUEST = "bbbbbbbb-0000-4000-8000-000000000002";
const MIA = "cccccccc-0000-4000-8000-000000000003";
const NAME = "a1000000-0000-4000-8000-00000000000a";

let azure: TestAzure;
let host: DevHost;
let runtime: Runtime;
const events: ResourceEvent[] = [];

beforeAll(async () => {
  azure = await startTestAzure();
  host = new DevHost(() => undefined);
  await host.start();
  runtime = await getRuntime();
  azure.local.simulator.onResourceEvent((event) => events.push(event));
});
afterAll(async () => {
  await host?.stop();
  await azure?.stop();
});

const auditor = { authorization: "" };
const tick = () => new Promise((resolve) => setTimeout(resolve, 30));
/** Delivers the events ARM emitted since the last call, each three times at once (Event Grid delivers at least once, in parallel). */
async function deliver(): Promise<void> {
  const batch = events.splice(0);
  await Promise.all(batch.flatMap((event) => [0, 1, 2].map(() => runtime.judgeGrantEvent(structuredClone(event)))));
}
async function access(query: string): Promise<{ status: number; intervals: AccessInterval[]; continuationToken: string | null; error?: string }> {
  auditor.authorization = `Bearer ${azure.local.simulator.entra.issueUserToken({ userId: ADA, audience: GRANTGUARD_API_CLIENT_ID, roles: ["GrantGuard.Auditor"] })}`;
  const response = await fetch(host.httpUrl(`access?${query}`), { headers: auditor });
  return { status: response.status, ...((await response.json()) as { intervals: AccessInterval[]; continuationToken: string | null; error?: string }) };
}
const ownersAt = async (at: string) => (await access(`scope=${SUBSCRIPTION}&at=${at}`)).intervals.filter((i) => i.roleDefinitionId.toLowerCase().endsWith("8e3af657-a8ff-443c-a75c-2fe8c4bcb635"));

describe("access history", () => {
  const times = { before: "", granted: "", revoked: "", restored: "" };

  it("knows who held Owner before a grant, after it, after its revocation and after its restore", async () => {
    times.before = new Date().toISOString();
    await tick();
    const granted = azure.local.simulator.grant({ scope: SUBSCRIPTION, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User", name: NAME }, ADA);
    await deliver();
    await tick();
    times.granted = new Date().toISOString();
    await tick();
    expect(azure.local.simulator.revoke(granted.id, MIA)).toBe(true);
    await deliver();
    await tick();
    times.revoked = new Date().toISOString();
    await tick();
    // A restore puts the assignment back under its own name: a new life of the same assignment.
    azure.local.simulator.grant({ scope: SUBSCRIPTION, roleDefinitionId: OWNER, principalId: GUEST, principalType: "User", name: NAME }, MIA);
    await deliver();
    await tick();
    times.restored = new Date().toISOString();

    expect(await ownersAt(times.before)).toEqual([]);
    const held = await ownersAt(times.granted);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ principalId: GUEST, scope: SUBSCRIPTION, roleName: "Owner", grantedBy: "ada@contoso.com", openedBy: "event" });
    expect(held[0]!.assignmentId.toLowerCase()).toBe(granted.id.toLowerCase());
    expect(await ownersAt(times.revoked)).toEqual([]);
    const back = await ownersAt(times.restored);
    expect(back).toHaveLength(1);
    expect(back[0]!.from > times.revoked).toBe(true);
    expect(back[0]!.to).toBeNull();

    // By principal: the first life, closed by the delete event, is no longer held now; the second is.
    const now = await access(`principal=${GUEST}`);
    expect(now.intervals.filter((i) => i.assignmentId.toLowerCase() === granted.id.toLowerCase())).toHaveLength(1);
  });

  it("records a life once however many deliveries judge it at once, and closes it at the delete event's time", async () => {
    // Every event above was delivered three times at once: still one interval per life.
    const then = await access(`principal=${GUEST}&at=${times.granted}`);
    expect(then.intervals).toHaveLength(1);
    const first = then.intervals[0]!;
    expect(first).toMatchObject({ closedBy: "event", openedBy: "event" });
    expect(first.to! > times.granted && first.to! < times.revoked).toBe(true);
    expect(first.from < times.granted).toBe(true);
  });

  it("lets the sweep record what it lists and close what it no longer lists", async () => {
    const reader = azure.local.simulator.grant({ scope: SUBSCRIPTION, roleDefinitionId: READER, principalId: GUEST, principalType: "User" }, ADA);
    await deliver();
    // Its delete event is lost: only the next sweep can tell the grant ended.
    azure.local.simulator.revoke(reader.id, ADA);
    events.splice(0);
    await tick();
    const sweptAt = new Date();
    const present = [...azure.local.simulator.state.assignments.values()].map((a) => ({ assignment: roleAssignmentFromArm(a), roleName: null, grantedBy: a.properties.createdBy }));
    await runtime.services.access.recordSweep("11111111-1111-4111-8111-111111111111", present.filter((p) => p.assignment.scope.toLowerCase().startsWith(SUBSCRIPTION)), sweptAt.toISOString());
    const later = new Date(sweptAt.getTime() + 1000).toISOString();
    const now = await access(`principal=${GUEST}&at=${later}`);
    expect(now.intervals.some((i) => i.assignmentId.toLowerCase() === reader.id.toLowerCase())).toBe(false);
    const before = await access(`principal=${GUEST}&at=${new Date(sweptAt.getTime() - 5).toISOString()}`);
    const closed = before.intervals.find((i) => i.assignmentId.toLowerCase() === reader.id.toLowerCase());
    expect(closed).toMatchObject({ closedBy: "sweep", to: sweptAt.toISOString() });
    // The snapshot's own assignments, seen first by the sweep, are held from their createdOn.
    const fromSweep = now.intervals.filter((i) => i.openedBy === "sweep");
    expect(fromSweep.length).toBeGreaterThan(0);
  });

  it("pages a scope's holders with continuation tokens, to the same set as one page", async () => {
    const at = new Date().toISOString();
    const all = await access(`scope=${SUBSCRIPTION}&at=${at}&pageSize=1000`);
    expect(all.intervals.length).toBeGreaterThan(3);
    const ids: string[] = [];
    let token: string | null = null;
    do {
      const page = await access(`scope=${SUBSCRIPTION}&at=${at}&pageSize=2${token ? `&continuationToken=${encodeURIComponent(token)}` : ""}`);
      expect(page.intervals.length).toBeLessThanOrEqual(2);
      ids.push(...page.intervals.map((i) => `${i.assignmentId}|${i.from}`));
      token = page.continuationToken;
    } while (token);
    expect(ids.sort()).toEqual(all.intervals.map((i) => `${i.assignmentId}|${i.from}`).sort());
  });

  it("answers 400 to a query without a principal or scope, or with a bad time", async () => {
    expect(await access("at=2026-03-01")).toMatchObject({ status: 400, error: "give query parameter 'principal' (an object id) or 'scope' (an ARM scope), or both" });
    expect(await access(`principal=${GUEST}&at=1 March`)).toMatchObject({ status: 400, error: expect.stringContaining("query parameter 'at' must be an ISO 8601 date") });
  });
});
