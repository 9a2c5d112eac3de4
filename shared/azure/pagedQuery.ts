import { createHash } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import { z } from "zod";
import { InvalidContinuationTokenError } from "../findings/query.js";

// Continuation tokens the API hands out: Table Storage's own position (next PartitionKey and
// RowKey), bound to the query that produced it by a hash of its filters, base64url JSON.

/** Where a paged query goes on: Table Storage's next partition and row key. */
export interface Position {
  readonly pk: string;
  readonly rk: string;
}

const tokenSchema = z.strictObject({ v: z.literal(1), q: z.string(), pk: z.string().min(1).max(1024), rk: z.string().max(1024) });

/** A short hash of a query's normalised parameters, which its continuation tokens carry. */
export function queryFingerprint(parameters: Readonly<Record<string, unknown>>): string {
  const normal = Object.entries(parameters)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => [k, String(v)])
    .sort(([a], [b]) => String(a).localeCompare(String(b)));
  return createHash("sha256").update(JSON.stringify(normal)).digest("base64url").slice(0, 16);
}

/** The position a token holds; InvalidContinuationTokenError when it is malformed or another query's. */
export function decodeContinuationToken(token: string, fingerprint: string): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const result = tokenSchema.safeParse(parsed);
  if (!result.success) throw new InvalidContinuationTokenError("continuationToken is not one this API issued: pass the value of the previous page's continuationToken unchanged");
  if (result.data.q !== fingerprint) throw new InvalidContinuationTokenError("continuationToken belongs to a query with other parameters: repeat the parameters of the query that returned it, or start again without it");
  return { pk: result.data.pk, rk: result.data.rk };
}

/** The token for a position. */
export function encodeContinuationToken(fingerprint: string, next: Position): string {
  return Buffer.from(JSON.stringify({ v: 1, q: fingerprint, pk: next.pk, rk: next.rk })).toString("base64url");
}

// The SDK's own token: base64 of {nextPartitionKey, nextRowKey}.
const toSdkToken = (next: Position) => Buffer.from(JSON.stringify({ nextPartitionKey: next.pk, ...(next.rk ? { nextRowKey: next.rk } : {}) })).toString("base64");
const sdkTokenSchema = z.object({ nextPartitionKey: z.string(), nextRowKey: z.string().optional() });
function fromSdkToken(token: string | undefined): Position | null {
  if (!token) return null;
  const parsed = sdkTokenSchema.parse(JSON.parse(Buffer.from(token, "base64").toString("utf8")));
  return { pk: parsed.nextPartitionKey, rk: parsed.nextRowKey ?? "" };
}

/** One response of a filtered query from `from`: at most `maxPageSize` rows (maybe none) and where to go on (null at the end). */
export async function readPage(client: TableClient, filter: string, from: Position | null, maxPageSize: number): Promise<{ readonly rows: Record<string, unknown>[]; readonly next: Position | null }> {
  const pages = client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize, ...(from ? { continuationToken: toSdkToken(from) } : {}) });
  const { value: page, done } = await pages.next();
  if (done || !page) return { rows: [], next: null };
  return { rows: page, next: fromSdkToken(page.continuationToken) };
}
