import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRuntime } from "../../shared/runtime.js";
import { DevHost } from "../../local/devhost.js";
import { GRANTGUARD_API_CLIENT_ID } from "../../local/localAzure.js";
import type { TokenForgery, UserTokenRequest } from "../../local/simulator/entra.js";
import { grantguard } from "../support/cli.js";
import { readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// GET /api/audit and /api/audit/export through the dev host, with tokens the simulator issues as
// the tenant's Entra ID; the export verified by `grantguard audit verify --file`, untouched and tampered.

const MIA = "cccccccc-0000-4000-8000-000000000003";
const AUDITOR = ["GrantGuard.Auditor"];

let azure: TestAzure;
let host: DevHost;
let dir: string;
beforeAll(async () => {
  azure = await startTestAzure();
  host = new DevHost(() => undefined);
  await host.start();
  const runtime = await getRuntime();
  await runtime.judgeGrantEvent({ ...(await readFixture<Record<string, unknown>>("events/guest-owner-write.json")), id: "api-1" });
  await runtime.services.revocations.updateBreaker((current) => ({ next: { ...current, rearmedAt: "2026-11-22T10:00:00.000Z", rearmedBy: "grace@contoso.com", rearmReason: "reviewed" }, result: null }));
  expect(await runtime.signAuditDigest()).toMatchObject({ status: "written" });
  dir = await mkdtemp(join(tmpdir(), "grantguard-audit-"));
});
afterAll(async () => {
  await host?.stop();
  await azure?.stop();
});

const token = (request: Partial<UserTokenRequest> = {}, forgery?: TokenForgery) => azure.local.simulator.entra.issueUserToken({ userId: MIA, audience: GRANTGUARD_API_CLIENT_ID, roles: AUDITOR, ...request }, forgery);
const get = (path: string, headers: Record<string, string> = {}) => fetch(host.httpUrl(path), { headers });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const forgedPrincipal = Buffer.from(JSON.stringify({ auth_typ: "aad", claims: [{ typ: "roles", val: "GrantGuard.Auditor" }] })).toString("base64");

describe("the audit API: who may call", () => {
  it("answers 401 with a Bearer challenge without a token, on both routes", async () => {
    for (const path of ["audit", "audit/export"]) {
      const response = await get(path);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="grantguard"');
    }
  });

  it("does not trust a forged x-ms-client-principal (401), nor a token signed with another key (401)", async () => {
    expect((await get("audit", { "x-ms-client-principal": forgedPrincipal })).status).toBe(401);
    const foreign = await get("audit", bearer(token({}, { signature: "foreignKey" })));
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("answers 403 to a valid token without the Auditor or SecurityAdmin role, and 200 to either role", async () => {
    const none = await get("audit/export", bearer(token({ roles: [] })));
    expect(none.status).toBe(403);
    expect(await none.json()).toEqual({ error: "reading the audit trail needs the app role GrantGuard.Auditor or GrantGuard.SecurityAdmin" });
    expect((await get("audit", bearer(token({ roles: ["GrantGuard.SecurityAdmin"] })))).status).toBe(200);
  });
});

describe("the audit API: records, paged", () => {
  it("pages through every record with the continuation token, each once and in order", async () => {
    const seqs: number[] = [];
    let path = "audit?limit=3";
    for (let i = 0; i < 50; i++) {
      const response = await get(path, bearer(token()));
      expect(response.status).toBe(200);
      const body = (await response.json()) as { head: { seq: number }; records: { seq: number }[]; continuationToken: string | null };
      seqs.push(...body.records.map((r) => r.seq));
      if (!body.continuationToken) {
        expect(seqs).toEqual(Array.from({ length: body.head.seq }, (_, k) => k + 1));
        return;
      }
      path = `audit?limit=3&continuationToken=${encodeURIComponent(body.continuationToken)}`;
    }
    throw new Error("the pages never ended");
  });

  it("says which parameter is wrong and why (400)", async () => {
    const bad = async (query: string) => ({ status: (await get(`audit?${query}`, bearer(token()))).status, body: await (await get(`audit?${query}`, bearer(token()))).json() });
    expect(await bad("limit=0")).toEqual({ status: 400, body: { error: "limit: must be at least 1" } });
    expect(await bad("limit=ten")).toEqual({ status: 400, body: { error: "limit: must be a whole number" } });
    expect(await bad("continuationToken=forged")).toEqual({ status: 400, body: { error: "continuationToken: is not a continuation token this API issued" } });
    expect(await bad("status=open")).toEqual({ status: 400, body: { error: "unknown parameter(s) status: use fromSeq, limit or continuationToken" } });
    expect(await bad("fromSeq=1&fromSeq=2")).toEqual({ status: 400, body: { error: "fromSeq: given more than once" } });
  });
});

describe("the export, verified by grantguard audit verify --file", () => {
  let lines: string[] = [];
  beforeAll(async () => {
    const response = await get("audit/export", bearer(token()));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/x-ndjson");
    lines = (await response.text()).trimEnd().split("\n");
  });

  const verifyFile = async (name: string, content: readonly string[]) => {
    const file = join(dir, name);
    await writeFile(file, `${content.join("\n")}\n`);
    return grantguard("audit", "verify", "--file", file);
  };
  const recordLines = () => lines.map((line, i) => ({ line, i })).filter(({ line }) => line.startsWith('{"record"'));

  it("streams a header, the digests, then every record; an untouched export verifies and says how much it checked", async () => {
    const header = JSON.parse(lines[0] ?? "{}") as { format: string; head: { seq: number } };
    expect(header.format).toBe("grantguard-audit-trail");
    expect(lines.filter((l) => l.startsWith('{"digest"'))).toHaveLength(1);
    expect(recordLines()).toHaveLength(header.head.seq);
    const run = await verifyFile("untouched.jsonl", lines);
    expect(run).toMatchObject({ code: 0 });
    expect(run.out).toBe(`audit trail verified: ${header.head.seq} record(s) and 1 digest(s) checked; records 1–${header.head.seq} chain intact, 1–${header.head.seq} vouched for by signed digests\n`);
  });

  it("catches a modified, a removed, an inserted and a reordered record, and a forged digest, naming each", async () => {
    const records = recordLines();
    const at = (n: number) => records[n - 1]?.i ?? -1;
    const edit = (n: number, change: (record: Record<string, unknown>) => Record<string, unknown>) => lines.map((line, i) => (i === at(n) ? JSON.stringify({ record: change((JSON.parse(line) as { record: Record<string, unknown> }).record) }) : line));
    const modified = await verifyFile("modified.jsonl", edit(2, (r) => ({ ...r, actor: "mallory@contoso.com" })));
    expect(modified.code).toBe(1);
    expect(modified.out).toContain("first bad record: record 2 (");
    expect(modified.out).toContain("was modified");

    const removed = await verifyFile("removed.jsonl", lines.filter((_, i) => i !== at(2)));
    expect(removed.code).toBe(1);
    expect(removed.out).toContain("first bad record: record 2 was removed");

    const copy = lines[at(2)] ?? "";
    const inserted = await verifyFile("inserted.jsonl", [...lines.slice(0, at(3)), copy, ...lines.slice(at(3))]);
    expect(inserted.code).toBe(1);
    expect(inserted.out).toContain("first bad record: record 2 was inserted");

    const swapped = [...lines];
    [swapped[at(2)], swapped[at(3)]] = [swapped[at(3)] ?? "", swapped[at(2)] ?? ""];
    const reordered = await verifyFile("reordered.jsonl", swapped);
    expect(reordered.code).toBe(1);
    expect(reordered.out).toContain("first bad record: record 2 was reordered");

    const forged = lines.map((line) => (line.startsWith('{"digest"') ? line.replace(/"at":"[^"]+"/, '"at":"2020-01-01T00:00:00.000Z"') : line));
    const forgedRun = await verifyFile("forged.jsonl", forged);
    expect(forgedRun.code).toBe(1);
    expect(forgedRun.out).toMatch(/bad digest: digest 1 \(records 1–\d+, signed 2020-01-01T00:00:00\.000Z\): the signature does not verify/);
  });

  it("refuses a file that is not an export (exit 2)", async () => {
    const run = await verifyFile("other.jsonl", ['{"hello":"world"}']);
    expect(run.code).toBe(2);
    expect(run.err).toContain("not a grantguard audit export");
  });

  it("verifies the live trail with the operator's credential", async () => {
    const run = await grantguard("audit", "verify");
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^audit trail verified: \d+ record\(s\) and 1 digest\(s\) checked/);
    expect(await readFile(join(dir, "untouched.jsonl"), "utf8")).toContain('"digest"');
  });
});
