import { describe, expect, it } from "vitest";
import { TokenValidationUnavailableError, type TokenCheck, type TokenValidator } from "../../../shared/auth/tokens.js";
import { chainEntries, EMPTY_HEAD, type AuditRecord, type ChainHead } from "../../../shared/audit/record.js";
import type { AppendResult, AuditChain, AuditPage } from "../../../shared/audit/trail.js";
import { handleAuditExport, handleAuditList } from "../../../shared/http/audit.js";

const auditor: TokenCheck = { ok: true, caller: { oid: "cccccccc-0000-4000-8000-000000000003", tid: "3f1c9a52-6b7e-4d21-9c84-2a5e7b9d0f13", name: "Priya", upn: "priya@contoso.com", roles: ["GrantGuard.Auditor"] } };

/** An in-memory chain of `n` records that counts reads: authorization is decided before any. */
class MemoryChain implements AuditChain {
  reads = 0;
  readonly records: AuditRecord[];
  constructor(n: number) {
    this.records = chainEntries(EMPTY_HEAD, Array.from({ length: n }, (_, i) => ({ id: `c${i}`, kind: "finding.opened", at: "2026-11-22T00:00:00.000Z", actor: "grantguard", subject: "s", data: {} })));
  }
  async append(): Promise<AppendResult> {
    throw new Error("the API never appends");
  }
  async head(): Promise<ChainHead> {
    this.reads += 1;
    const last = this.records[this.records.length - 1];
    return last ? { seq: last.seq, hash: last.hash } : EMPTY_HEAD;
  }
  async list({ fromSeq, limit }: { fromSeq: number; limit: number }): Promise<AuditPage> {
    this.reads += 1;
    const page = this.records.filter((r) => r.seq >= fromSeq).slice(0, limit + 1);
    return { records: page.slice(0, limit), nextSeq: page.length > limit ? (page[limit]?.seq ?? null) : null };
  }
  async *read(options: { toSeq?: number } = {}): AsyncIterable<AuditRecord> {
    this.reads += 1;
    yield* this.records.filter((r) => r.seq <= (options.toSeq ?? Number.POSITIVE_INFINITY));
  }
}

function setup(check: TokenCheck | Error | null, records = 5) {
  const chain = new MemoryChain(records);
  const asked: string[] = [];
  const tokens: TokenValidator | null = check === null ? null : { validate: async (_header, roles) => (asked.push(roles.join()), check instanceof Error ? Promise.reject(check) : check) };
  const deps = { chain, digests: null, tokens, now: () => new Date("2026-11-22T12:00:00Z") };
  const request = (query = "", headers: Record<string, string> = { authorization: "Bearer t" }) => ({ headers: { get: (name: string) => headers[name.toLowerCase()] ?? null }, query: new URLSearchParams(query) });
  return { chain, asked, list: (query?: string, headers?: Record<string, string>) => handleAuditList(request(query, headers), deps), exportAll: (query?: string) => handleAuditExport(request(query), deps) };
}

describe("the audit routes", () => {
  it("fail closed: 503 without Entra ID settings, 503 with Retry-After when keys cannot be read, and nothing is read", async () => {
    const none = setup(null);
    expect(await none.list()).toMatchObject({ status: 503 });
    const down = setup(new TokenValidationUnavailableError("JWKS down"));
    expect(await down.list()).toMatchObject({ status: 503, headers: { "retry-after": "30" } });
    expect(none.chain.reads + down.chain.reads).toBe(0);
  });

  it("accept the Auditor or the SecurityAdmin role, and read nothing for a caller without one", async () => {
    const refused = setup({ ok: false, status: 403, reason: "no role" });
    expect(await refused.exportAll()).toMatchObject({ status: 403, headers: { "www-authenticate": 'Bearer realm="grantguard", error="insufficient_scope"' } });
    expect(refused.asked).toEqual(["GrantGuard.Auditor,GrantGuard.SecurityAdmin"]);
    expect(refused.chain.reads).toBe(0);
  });

  it("page with an opaque continuation token that resumes where the page ended", async () => {
    const { list } = setup(auditor, 5);
    const first = (await list("limit=2")).jsonBody as { records: AuditRecord[]; continuationToken: string };
    expect(first.records.map((r) => r.seq)).toEqual([1, 2]);
    const second = (await list(`limit=2&continuationToken=${first.continuationToken}`)).jsonBody as { records: AuditRecord[]; continuationToken: string | null };
    expect(second.records.map((r) => r.seq)).toEqual([3, 4]);
    expect(((await list("fromSeq=5")).jsonBody as { continuationToken: string | null }).continuationToken).toBeNull();
  });

  it("answer 400 naming the parameter for values that will never be valid", async () => {
    const { list, exportAll } = setup(auditor);
    expect(await list("limit=1001")).toEqual({ status: 400, jsonBody: { error: "limit: must be at most 1000" } });
    expect(await list("fromSeq=-1")).toEqual({ status: 400, jsonBody: { error: "fromSeq: must be a whole number" } });
    expect(await list(`fromSeq=2&continuationToken=${Buffer.from('{"seq":3}').toString("base64url")}`)).toEqual({ status: 400, jsonBody: { error: "continuationToken: give either fromSeq or continuationToken, not both" } });
    expect(await exportAll("since=yesterday")).toEqual({ status: 400, jsonBody: { error: "unknown parameter(s) since: the export takes none" } });
  });

  it("stream the export as a header and every record up to the head, one JSON line each", async () => {
    const { exportAll, chain } = setup(auditor, 3);
    const response = await exportAll();
    const text = await new Response(response.body).text();
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ format: "grantguard-audit-trail", version: 1, exportedAt: "2026-11-22T12:00:00.000Z", head: await chain.head() });
    expect(lines.slice(1)).toEqual(chain.records.map((record) => ({ record })));
  });
});
