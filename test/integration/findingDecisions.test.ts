import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRuntime, type Runtime } from "../../shared/runtime.js";
import { DevHost } from "../../local/devhost.js";
import { GRANTGUARD_API_CLIENT_ID } from "../../local/localAzure.js";
import type { Finding } from "../../shared/model/finding.js";
import { readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// A security admin's decisions over the API, stored on the finding through the store's conditional
// commit, and honoured by the next judgement of the assignment until the exemption expires.

const ADA = "aaaaaaaa-0000-4000-8000-000000000001";
const MIA = "cccccccc-0000-4000-8000-000000000003";

let azure: TestAzure;
let host: DevHost;
let runtime: Runtime;

beforeAll(async () => {
  azure = await startTestAzure();
  host = new DevHost(() => undefined);
  await host.start();
  runtime = await getRuntime();
});
afterAll(async () => {
  await host?.stop();
  await azure?.stop();
});

const token = (userId: string, roles: string[]) => azure.local.simulator.entra.issueUserToken({ userId, audience: GRANTGUARD_API_CLIENT_ID, roles });
const admin = () => ({ authorization: `Bearer ${token(MIA, ["GrantGuard.SecurityAdmin"])}`, "content-type": "application/json" });
const decide = async (id: string, kind: "acknowledge" | "exempt", body: unknown, headers = admin()) => {
  const response = await fetch(host.httpUrl(`findings/${id}/${kind}`), { method: "POST", headers, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { finding: Finding; error: string } };
};
const judge = async (eventTime: string) => {
  const event = await readFixture("events/guest-owner-write.json");
  Object.assign(event, { id: `e-${eventTime}`, eventTime });
  const outcome = await runtime.judgeGrantEvent(event);
  expect(outcome.status).toBe("judged");
  return outcome.status === "judged" ? outcome.open : [];
};
const story = async (id: string) => {
  const response = await fetch(host.httpUrl(`findings/${id}`), { headers: { authorization: `Bearer ${token(ADA, ["GrantGuard.Auditor"])}` } });
  return (await response.json()) as { finding: Finding; story: { what: string; by: string | null }[] };
};

describe("decisions on findings", () => {
  it("keeps an exemption made over the API through the next judgements until it expires, then opens the finding again", async () => {
    const open = await judge("2026-11-21T09:30:00.000Z");
    const guest = open.find((f) => f.policyId === "guest-privileged-role")!;
    expect(guest.status).toBe("open");
    const expires = new Date(Date.now() + 4_000).toISOString();
    const exempted = await decide(guest.id, "exempt", { owner: "secops@contoso.com", justification: "Fabrikam migration under contract C-1234", expires });
    expect(exempted).toMatchObject({ status: 200, body: { finding: { status: "exempted", exemptionOwner: "secops@contoso.com", exemptionExpires: expires, decision: "exempted", decidedBy: `mia@contoso.com (${MIA})`, alertPending: true, alertTransition: "exempted" } } });

    // A later event for the same assignment is judged again: the stored exemption holds.
    const again = (await judge("2026-11-21T10:00:00.000Z")).find((f) => f.id === guest.id)!;
    expect(again).toMatchObject({ status: "exempted", exemptionOwner: "secops@contoso.com", exemptionJustification: "Fabrikam migration under contract C-1234", decidedBy: `mia@contoso.com (${MIA})` });
    const told = await story(guest.id);
    expect(told.story.some((s) => s.what.startsWith("exempted until") && s.by === `mia@contoso.com (${MIA})`)).toBe(true);
    expect(told.story.some((s) => s.what.startsWith("Owner granted to") && s.by === "ada@contoso.com")).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, Date.parse(expires) - Date.now() + 200));
    const expired = (await judge("2026-11-21T11:00:00.000Z")).find((f) => f.id === guest.id)!;
    expect(expired).toMatchObject({ status: "open", alertTransition: "opened", decision: "exempted" });
  });

  it("records an acknowledgement with who made it and keeps the finding open", async () => {
    const [first] = await judge("2026-11-21T12:00:00.000Z");
    const acknowledged = await decide(first!.id, "acknowledge", { note: "Checked with the Fabrikam contract owner" });
    expect(acknowledged).toMatchObject({ status: 200, body: { finding: { status: "open", decision: "acknowledged", decisionNote: "Checked with the Fabrikam contract owner" } } });
    const stored = await runtime.services.findingsReader.get(first!.id);
    expect(stored).toMatchObject({ decision: "acknowledged", decidedBy: `mia@contoso.com (${MIA})` });
  });

  it("refuses bad decisions with a 400 or 409 that says why, and changes nothing", async () => {
    const [first] = await judge("2026-11-21T13:00:00.000Z");
    const before = await runtime.services.findingsReader.get(first!.id);
    expect(await decide(first!.id, "exempt", { owner: "secops@contoso.com", justification: "short", expires: "2099-01-01" })).toMatchObject({ status: 400, body: { error: expect.stringContaining("justification") } });
    expect(await decide(first!.id, "exempt", { owner: "secops@contoso.com", justification: "A long enough justification here", expires: "2020-01-01" })).toMatchObject({ status: 400, body: { error: "expires: must be in the future" } });
    expect(await decide(first!.id, "exempt", { owner: "secops@contoso.com", justification: "A long enough justification here", expires: "2099-01-01" })).toMatchObject({ status: 400, body: { error: expect.stringContaining("within 366 days") } });
    expect(await decide(first!.id, "acknowledge", { note: "Checked it thoroughly", extra: 1 })).toMatchObject({ status: 400 });
    expect(await decide("no-such-policy.0123456789abcdef0123456789abcdef", "acknowledge", { note: "Checked it thoroughly" })).toMatchObject({ status: 404 });
    expect(await decide("Not_A_Finding", "acknowledge", { note: "Checked it thoroughly" })).toMatchObject({ status: 400 });
    expect(await runtime.services.findingsReader.get(first!.id)).toEqual(before);
    // A resolved finding takes no decision.
    const deleted = await readFixture("events/guest-owner-delete.json");
    await runtime.judgeGrantEvent(deleted);
    expect(await decide(first!.id, "acknowledge", { note: "Checked it thoroughly" })).toMatchObject({ status: 409, body: { error: expect.stringContaining("is resolved") } });
  });
});
