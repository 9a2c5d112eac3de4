import { z } from "zod";
import { AUDITOR_ROLE, SECURITY_ADMIN_ROLE, type TokenValidator } from "../auth/tokens.js";
import { authorize, type ApiResponse } from "./api.js";
import type { DigestStore } from "../audit/digest.js";
import type { AuditRecord, ChainHead } from "../audit/record.js";
import type { AuditChain } from "../audit/trail.js";

/** An HTTP request as the audit routes see it. */
export interface AuditHttpRequest {
  readonly headers: { get(name: string): string | null };
  readonly query: URLSearchParams;
}

/** What an audit route answers: JSON, or (the export) a stream of lines — the API's response shape. */
export type AuditHttpResponse = ApiResponse;

export interface AuditHttpDependencies {
  readonly chain: AuditChain;
  /** The signed digests; null when digests are not configured (the export then holds none). */
  readonly digests: DigestStore | null;
  /** Null when the Entra ID settings are absent: then nobody can read the trail over HTTP (fail closed). */
  readonly tokens: TokenValidator | null;
  readonly now: () => Date;
}

/** Who may read the trail: auditors, and security admins (who may do more). */
const READERS = [AUDITOR_ROLE, SECURITY_ADMIN_ROLE];
const MAX_PAGE = 1000;

/** The first line of an export: what it is, and the head of the chain it was exported at. */
export interface ExportHeader {
  readonly format: "grantguard-audit-trail";
  readonly version: 1;
  readonly exportedAt: string;
  readonly head: ChainHead;
}

/** Validates the caller's access token for one of the reader roles; the answer to send when it fails (the API's one mapping). */
function authorizeReader(request: AuditHttpRequest, tokens: TokenValidator | null): ReturnType<typeof authorize> {
  return authorize({ ...request, params: {} }, tokens, READERS, "reading the audit trail");
}

// The continuation token is where the next page starts, opaque to callers.
const encodeToken = (seq: number) => Buffer.from(JSON.stringify({ seq }), "utf8").toString("base64url");
const tokenSchema = z
  .string()
  .max(200)
  .transform((text, ctx) => {
    try {
      const seq = (JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as { seq?: unknown }).seq;
      if (typeof seq === "number" && Number.isInteger(seq) && seq >= 1) return seq;
    } catch {
      // falls through to the issue below
    }
    ctx.addIssue({ code: "custom", message: "is not a continuation token this API issued" });
    return z.NEVER;
  });
const wholeNumber = (min: number, max: number) => z.string().regex(/^\d{1,15}$/, "must be a whole number").transform(Number).pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const listQuerySchema = z.strictObject({
  fromSeq: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
  limit: wholeNumber(1, MAX_PAGE).optional(),
  continuationToken: tokenSchema.optional(),
});

/** Query parameters as an object, refusing a parameter given twice (which value would count is not for us to guess). */
function queryObject(query: URLSearchParams): { ok: true; value: Record<string, string> } | { ok: false; error: string } {
  const value: Record<string, string> = {};
  for (const [key, item] of query) {
    if (key in value) return { ok: false, error: `${key}: given more than once` };
    value[key] = item;
  }
  return { ok: true, value };
}

const badRequest = (error: string): AuditHttpResponse => ({ status: 400, jsonBody: { error } });

/**
 * GET /api/audit: the trail's records in sequence order, a page at a time (`limit`, default 100,
 * at most 1000), from `fromSeq` (default 1) or from where a `continuationToken` says; the answer
 * carries the chain's head and the token of the next page (null at the end).
 */
export async function handleAuditList(request: AuditHttpRequest, deps: AuditHttpDependencies): Promise<AuditHttpResponse> {
  const auth = await authorizeReader(request, deps.tokens);
  if (!auth.ok) return auth.response;
  const raw = queryObject(request.query);
  if (!raw.ok) return badRequest(raw.error);
  const parsed = listQuerySchema.safeParse(raw.value);
  if (!parsed.success) return badRequest(parsed.error.issues.map((i) => (i.code === "unrecognized_keys" ? `unknown parameter(s) ${i.keys.join(", ")}: use fromSeq, limit or continuationToken` : `${i.path.join(".")}: ${i.message}`)).join("; "));
  const { fromSeq, limit = 100, continuationToken } = parsed.data;
  if (fromSeq !== undefined && continuationToken !== undefined) return badRequest("continuationToken: give either fromSeq or continuationToken, not both");
  const [head, page] = await Promise.all([deps.chain.head(), deps.chain.list({ fromSeq: continuationToken ?? fromSeq ?? 1, limit })]);
  return { status: 200, jsonBody: { head, records: page.records, continuationToken: page.nextSeq === null ? null : encodeToken(page.nextSeq) }, detail: `${page.records.length} record(s) for ${auth.caller.oid}` };
}

/**
 * The export's lines: a header with the head the export stops at, every digest, then every record
 * up to that head (records appended meanwhile wait for the next export). `audit verify --file` reads it.
 */
export async function* exportLines(chain: AuditChain, digests: DigestStore | null, now: () => Date): AsyncGenerator<string> {
  const head = await chain.head();
  const header: ExportHeader = { format: "grantguard-audit-trail", version: 1, exportedAt: now().toISOString(), head };
  yield `${JSON.stringify(header)}\n`;
  if (digests) for await (const digest of digests.list()) yield `${JSON.stringify({ digest })}\n`;
  if (head.seq > 0) for await (const record of chain.read({ toSeq: head.seq })) yield `${JSON.stringify({ record } satisfies { record: AuditRecord })}\n`;
}

/** Lines as a byte stream, pulled as the client reads (a large trail is never held in memory). */
function streamOf(lines: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}

/** GET /api/audit/export: the whole trail and its digests as JSON lines, streamed. */
export async function handleAuditExport(request: AuditHttpRequest, deps: AuditHttpDependencies): Promise<AuditHttpResponse> {
  const auth = await authorizeReader(request, deps.tokens);
  if (!auth.ok) return auth.response;
  const unknown = [...request.query.keys()];
  if (unknown.length > 0) return badRequest(`unknown parameter(s) ${[...new Set(unknown)].join(", ")}: the export takes none`);
  const stamp = deps.now().toISOString().replace(/[:.]/g, "-");
  return {
    status: 200,
    body: streamOf(exportLines(deps.chain, deps.digests, deps.now)),
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "content-disposition": `attachment; filename="grantguard-audit-${stamp}.jsonl"` },
    detail: `export for ${auth.caller.oid}`,
  };
}
