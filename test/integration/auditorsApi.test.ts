import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRuntime, type Runtime } from "../../shared/runtime.js";
import { DevHost, type HostLog } from "../../local/devhost.js";
import { GRANTGUARD_API_CLIENT_ID } from "../../local/localAzure.js";
import { findingsPartition } from "../../shared/findings/keys.js";
import { findingId, type Finding } from "../../shared/model/finding.js";
import { EXPORT_COLUMNS } from "../../shared/http/export.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// The auditors' API through the dev host, with tokens the simulator issues as the tenant's Entra ID,
// over findings written to Azurite by the store's own conditional commits.

const ADA = "aaaaaaaa-0000-4000-8000-000000000001";
const MIA = "cccccccc-0000-4000-8000-000000000003";
const SUBSCRIPTIONS = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"];
const PRINCIPALS = ["0a000000-0000-4000-8000-000000000001", "0b000000-0000-4000-8000-000000000002", "0c000000-0000-4000-8000-000000000003", "0d000000-0000-4000-8000-000000000004"];
const POLICIES = ["guest-privileged-role", "pim-assigned-outside-pim", "inactive-identity", "root-scope-assignment"];
const SEVERITIES = ["low", "medium", "high", "critical"] as const;
const STATUSES = ["open", "open", "exempted", "resolved"] as const;

let azure: TestAzure;
let host: DevHost;
let runtime: Runtime;
const logs: HostLog[] = [];
const seeded: Finding[] = [];

function syntheticFinding(n: number): Finding {
  const subscription = SUBSCRIPTIONS[n % 3]!;
  const scope = `/subscriptions/${subscription}/resourceGroups/rg-${n % 5}`;
  const assignmentId = `${scope}/providers/Microsoft.Authorization/roleAssignments/${String(n).padStart(8, "0")}-0000-4000-8000-000000000000`;
  const policyId = POLICIES[n % 4]!;
  const status = STATUSES[Math.floor(n / 3) % 4]!;
  const day = String(1 + (n % 28)).padStart(2, "0");
  const first = `2026-03-${day}T08:00:00.000Z`;
  const last = `2026-0${4 + (n % 3)}-${day}T08:00:00.000Z`;
  return {
    id: findingId(policyId, assignmentId), policyId, policyTitle: `Policy ${policyId}`, severity: SEVERITIES[Math.floor(n / 2) % 4]!, status, action: "alert",
    assignmentId, assignmentName: assignmentId.split("/").pop()!, principalId: PRINCIPALS[n % 4]!, principalType: "User", principalName: n === 7 ? "=HYPERLINK(\"x\")" : `Person, ${n} "quoted"`,
    roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635", roleName: "Owner", scope, scopeLevel: "resourceGroup", subscriptionId: subscription,
    reason: `${policyId}: line one\nline two`, matchedFacts: { "principal.guest": true }, firstSeen: first, lastSeen: last,
    resolvedAt: status === "resolved" ? last : null, resolution: status === "resolved" ? "the policy no longer matches the assignment" : null,
    exemptionId: status === "exempted" ? "accept-contract" : null, exemptionOwner: status === "exempted" ? "secops@contoso.com" : null, exemptionExpires: status === "exempted" ? "2027-03-31T23:59:59.000Z" : null,
    exemptionJustification: status === "exempted" ? "Contract C-1234 runs until March" : null, rolePrivileged: true, assignmentCreatedOn: first, assignmentCreatedBy: ADA, principalLastSignIn: null,
    grantedBy: "ada@contoso.com", grantedByObjectId: ADA, grantedByIpAddress: null, responseKind: "alerted", responseDetail: null, backupId: null,
    alertPending: false, alertTransition: null, alertAt: null, lastEventId: "e1", correlationId: null,
  };
}

beforeAll(async () => {
  azure = await startTestAzure();
  host = new DevHost((log) => logs.push(log));
  await host.start();
  runtime = await getRuntime();
  for (let n = 0; n < 240; n++) seeded.push(syntheticFinding(n));
  const byPartition = new Map<string, Finding[]>();
  for (const f of seeded) byPartition.set(findingsPartition(f.scope), [...(byPartition.get(findingsPartition(f.scope)) ?? []), f]);
  for (const [partition, findings] of byPartition) expect(await runtime.services.findings.commitPartition({ partition, findings: [], versions: new Map() }, findings)).toBe(true);
});
afterAll(async () => {
  await host?.stop();
  await azure?.stop();
});

const token = (roles: readonly string[], userId = ADA) => azure.local.simulator.entra.issueUserToken({ userId, audience: GRANTGUARD_API_CLIENT_ID, roles: [...roles] });
const auditor = () => ({ authorization: `Bearer ${token(["GrantGuard.Auditor"])}` });
const admin = () => ({ authorization: `Bearer ${token(["GrantGuard.SecurityAdmin"], MIA)}` });
const get = (path: string, headers: Record<string, string> = auditor()) => fetch(host.httpUrl(path), { headers });

/** Every finding of a query, page by page, and how many pages it took. */
async function everyPage(query: string, pageSize: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let continuationToken: string | null = null;
  let pages = 0;
  do {
    const params = new URLSearchParams(query);
    params.set("pageSize", String(pageSize));
    if (continuationToken) params.set("continuationToken", continuationToken);
    const response = await get(`findings?${params}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { findings: Finding[]; continuationToken: string | null };
    expect(body.findings.length).toBeLessThanOrEqual(pageSize);
    ids.push(...body.findings.map((f) => f.id));
    continuationToken = body.continuationToken;
    pages += 1;
  } while (continuationToken);
  return { ids, pages };
}

describe("the auditors' API: who may call", () => {
  const forgedPrincipal = Buffer.from(JSON.stringify({ auth_typ: "aad", claims: [{ typ: "roles", val: "GrantGuard.Auditor" }] })).toString("base64");

  it("answers 401 without a token, 401 to a forged x-ms-client-principal without a valid token, and 403 to a valid token without an app role", async () => {
    for (const path of ["findings", "findings/export?format=csv", `findings/${seeded[0]!.id}`, `access?principal=${PRINCIPALS[0]}`]) {
      const none = await get(path, {});
      expect(none.status, path).toBe(401);
      expect(none.headers.get("www-authenticate")).toBe('Bearer realm="grantguard"');
      expect((await get(path, { "x-ms-client-principal": forgedPrincipal, "x-ms-client-principal-name": "ada@contoso.com" })).status, path).toBe(401);
      expect((await get(path, { authorization: `Bearer ${token([])}` })).status, path).toBe(403);
      expect((await get(path, { authorization: `Bearer ${token(["GrantGuard.Reader"])}` })).status, path).toBe(403);
    }
  });

  it("lets a security admin read as an auditor does, and only a security admin decide", async () => {
    expect((await get("findings?pageSize=1", admin())).status).toBe(200);
    const open = seeded.find((f) => f.status === "open")!;
    const post = (headers: Record<string, string>) => fetch(host.httpUrl(`findings/${open.id}/acknowledge`), { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ note: "Reviewed with the owner of rg-0" }) });
    expect((await post(auditor())).status).toBe(403);
    expect((await post({})).status).toBe(401);
  });
});

describe("the auditors' API: findings with filters and continuation tokens", () => {
  const cases: [string, (f: Finding) => boolean][] = [
    ["status=open", (f) => f.status === "open"],
    ["status=resolved&severity=high", (f) => f.status === "resolved" && f.severity === "high"],
    ["severity=critical", (f) => f.severity === "critical"],
    ["policy=inactive-identity", (f) => f.policyId === "inactive-identity"],
    [`subscription=${SUBSCRIPTIONS[1]!.toUpperCase()}`, (f) => f.subscriptionId === SUBSCRIPTIONS[1]],
    [`scope=/SUBSCRIPTIONS/${SUBSCRIPTIONS[2]}/resourcegroups/RG-1`, (f) => f.scope.toLowerCase() === `/subscriptions/${SUBSCRIPTIONS[2]}/resourcegroups/rg-1`],
    [`principal=${PRINCIPALS[2]}`, (f) => f.principalId === PRINCIPALS[2]],
    [`principal=${PRINCIPALS[1]}&status=exempted`, (f) => f.principalId === PRINCIPALS[1] && f.status === "exempted"],
    ["from=2026-05-10&to=2026-03-05", () => false],
    ["from=2026-06-01T00:00:00Z", (f) => f.lastSeen >= "2026-06-01T00:00:00.000Z"],
    ["to=2026-03-04", (f) => f.firstSeen < "2026-03-04T00:00:00.000Z"],
    ["from=2026-04-15&to=2026-04-20", (f) => f.lastSeen >= "2026-04-15" && f.firstSeen < "2026-04-20"],
    [`status=open&policy=guest-privileged-role&subscription=${SUBSCRIPTIONS[0]}&from=2026-05-01&to=2026-03-25`, () => false],
    [`status=open&policy=guest-privileged-role&subscription=${SUBSCRIPTIONS[0]}&from=2026-03-10&to=2026-03-25`, (f) => f.status === "open" && f.policyId === "guest-privileged-role" && f.subscriptionId === SUBSCRIPTIONS[0] && f.lastSeen >= "2026-03-10" && f.firstSeen < "2026-03-25"],
    ["", () => true],
  ];

  it.each(cases)("answers %s with exactly the matching findings, paged to the end as unpaged", async (query, expected) => {
    const want = seeded.filter(expected).map((f) => f.id).sort();
    if (query.includes("from=2026-05-10&to=2026-03-05") || query.includes("from=2026-05-01&to=2026-03-25")) {
      expect((await get(`findings?${query}`)).status).toBe(400);
      return;
    }
    const paged = await everyPage(query, 7);
    const unpaged = await everyPage(query, 1000);
    expect(paged.ids.sort()).toEqual(want);
    expect(unpaged.ids.sort()).toEqual(want);
    expect(new Set(paged.ids).size).toBe(paged.ids.length);
    if (want.length > 7) expect(paged.pages).toBeGreaterThan(1);
  });

  it("lists open findings most severe first", async () => {
    const response = await get("findings?status=open&pageSize=1000");
    const { findings } = (await response.json()) as { findings: Finding[] };
    const ranks = findings.map((f) => SEVERITIES.indexOf(f.severity));
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
  });

  it.each([
    ["status=bogus", "query parameter 'status' must be one of open, exempted, resolved"],
    ["pageSize=0", "query parameter 'pageSize' must be a whole number from 1 to 1000"],
    ["pageSize=1001", "query parameter 'pageSize'"],
    ["sort=severity", "unknown query parameter 'sort'"],
    ["status=open&status=resolved", "query parameter 'status' is given 2 times"],
    ["principal=ada@contoso.com", "query parameter 'principal' must be a principal's object id (a GUID)"],
    ["subscription=x' or PartitionKey ne '", "query parameter 'subscription' must be a subscription id (a GUID)"],
    ["scope=/subscriptions/x?y", "query parameter 'scope' must be an ARM scope"],
    ["scope=/subscriptions/../x", "query parameter 'scope' must be an ARM scope"],
    ["from=yesterday", "query parameter 'from' must be an ISO 8601 date"],
    ["from=2026-04-01&to=2026-03-01", "query parameter 'from' must be before 'to'"],
    ["continuationToken=bm90LWEtdG9rZW4", "continuationToken is not one this API issued"],
  ])("answers 400 to %s, saying which parameter and why", async (query, message) => {
    const response = await get(`findings?${query.replace(/ /g, "%20")}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain(message);
  });

  it("refuses a continuation token with the filters of another query", async () => {
    const first = (await (await get("findings?status=open&pageSize=5")).json()) as { continuationToken: string };
    expect(first.continuationToken).toBeTruthy();
    const other = await get(`findings?status=resolved&pageSize=5&continuationToken=${encodeURIComponent(first.continuationToken)}`);
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error: string }).error).toContain("a query with other parameters");
  });
});

/** Parses RFC 4180 CSV (quoted fields with commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += 1;
    } else field += c;
  }
  return rows;
}

describe("the auditors' API: exports", () => {
  it("streams CSV and JSON that agree with each other and with the paged list, in the columns auditors expect", async () => {
    const query = `status=open&subscription=${SUBSCRIPTIONS[0]}`;
    const csvResponse = await get(`findings/export?format=csv&${query}`);
    expect(csvResponse.status).toBe(200);
    expect(csvResponse.headers.get("content-type")).toContain("text/csv");
    expect(csvResponse.headers.get("content-disposition")).toMatch(/^attachment; filename="grantguard-findings-.*\.csv"$/);
    const [header, ...rows] = parseCsv(await csvResponse.text());
    expect(header).toEqual([...EXPORT_COLUMNS]);
    const jsonResponse = await get(`findings/export?format=json&${query}`);
    const json = (await jsonResponse.json()) as Record<string, string | boolean | null>[];
    const want = seeded.filter((f) => f.status === "open" && f.subscriptionId === SUBSCRIPTIONS[0]);
    expect(rows).toHaveLength(want.length);
    expect(json).toHaveLength(want.length);
    const fromCsv = rows.map((r) => Object.fromEntries(header!.map((c, i) => [c, r[i] ?? ""])));
    const asText = (v: string | boolean | null) => (v === null ? "" : String(v));
    for (const [i, row] of json.entries()) {
      const csvRow = fromCsv[i]!;
      for (const column of EXPORT_COLUMNS) {
        // A value a spreadsheet would run as a formula is defused in CSV with a leading apostrophe.
        const expected = asText(row[column] ?? null);
        expect(csvRow[column], column).toBe(/^[=+\-@]/.test(expected) ? `'${expected}` : expected);
      }
    }
    expect(new Set(json.map((r) => r.findingId))).toEqual(new Set(want.map((f) => f.id)));
    const seven = json.find((r) => r.findingId === seeded[7]!.id);
    if (seven) expect(fromCsv.find((r) => r.findingId === seeded[7]!.id)?.principalName).toBe(`'=HYPERLINK("x")`);
    expect(json[0]).toMatchObject({ privileged: true, createdBy: ADA, grantedBy: "ada@contoso.com" });
  });

  it("exports every finding matching across many pages, and refuses a bad format", async () => {
    const json = (await (await get("findings/export?format=json")).json()) as unknown[];
    expect(json).toHaveLength(seeded.length);
    const bad = await get("findings/export?format=xlsx");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe("query parameter 'format' must be csv or json");
  });
});
