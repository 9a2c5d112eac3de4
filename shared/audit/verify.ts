import type { JsonWebKey } from "node:crypto";
import { auditRecordSchema, GENESIS_HASH, recordHash, type AuditRecord, type ChainHead } from "./record.js";
import { digestHash, digestSignatureValid, signedDigestSchema, type PublicKeyResolver, type SignedDigest } from "./digest.js";

/** How a record is out of place: what was done to the trail at that point. */
export type RecordIssue = "modified" | "removed" | "inserted" | "reordered";

/** The first record that is not what the chain says, and why. */
export interface RecordProblem {
  readonly seq: number;
  readonly issue: RecordIssue;
  readonly message: string;
}

/** A digest that cannot be trusted. */
export interface DigestProblem {
  /** Its position among the digests, from 1. */
  readonly index: number;
  readonly issue: "malformed" | "unknownKey" | "signature" | "chain" | "range";
  readonly message: string;
}

/** What verification found: every record and digest it read, the first bad record, every bad digest. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly records: number;
  readonly digests: number;
  /** The last record number that verified in place (0 when none did). */
  readonly verifiedThrough: number;
  /** The last record number a valid digest vouches for (0 when none does). */
  readonly signedThrough: number;
  readonly firstBadRecord: RecordProblem | null;
  readonly badDigests: readonly DigestProblem[];
}

export interface VerifyOptions {
  /** The public key a digest's keyId names. */
  readonly publicKey: PublicKeyResolver;
  /** The head the store (or the export) says the chain ends at; records are checked against it. */
  readonly expectedHead?: ChainHead | null;
}

type Digest = { readonly index: number; readonly digest: SignedDigest };

/** Checks the digests alone: well-formed, signed by a known key, each chaining to the one before and starting where it ended. */
async function checkDigests(raw: Iterable<unknown> | AsyncIterable<unknown>, publicKey: PublicKeyResolver): Promise<{ valid: Digest[]; problems: DigestProblem[]; count: number }> {
  const keys = new Map<string, Promise<JsonWebKey | null>>();
  const valid: Digest[] = [];
  const problems: DigestProblem[] = [];
  let previous: SignedDigest | null = null;
  let count = 0;
  for await (const item of raw) {
    const index = ++count;
    const parsed = signedDigestSchema.safeParse(item);
    if (!parsed.success) {
      problems.push({ index, issue: "malformed", message: `digest ${index} is malformed: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}` });
      previous = null;
      continue;
    }
    const digest = parsed.data;
    const name = `digest ${index} (records ${digest.fromSeq}–${digest.toSeq}, signed ${digest.at})`;
    if (!keys.has(digest.keyId)) keys.set(digest.keyId, publicKey(digest.keyId));
    const key = await keys.get(digest.keyId);
    if (!key || !digestSignatureValid(digest, key)) {
      problems.push(key ? { index, issue: "signature", message: `${name}: the signature does not verify with ${digest.keyId}: the digest was forged or altered` } : { index, issue: "unknownKey", message: `${name}: the key ${digest.keyId} is unknown, so its signature cannot be checked` });
      // What follows a digest that cannot be trusted is judged on its own signature.
      previous = null;
      continue;
    }
    {
      const expectedPrevious = previous ? digestHash(previous) : GENESIS_HASH;
      const expectedFrom = previous ? previous.toSeq + 1 : 1;
      if (index > 1 && previous === null) {
        // The digest before it is bad; this one's own signature holds, so its range still counts.
        valid.push({ index, digest });
      } else if (digest.previousDigestHash !== expectedPrevious) {
        problems.push({ index, issue: "chain", message: `${name}: it does not follow digest ${index - 1} (previous digest hash ${digest.previousDigestHash.slice(0, 12)}…, expected ${expectedPrevious.slice(0, 12)}…): a digest was removed, inserted or reordered` });
      } else if (digest.fromSeq !== expectedFrom || digest.toSeq < digest.fromSeq) {
        problems.push({ index, issue: "range", message: `${name}: it should start at record ${expectedFrom}` });
      } else valid.push({ index, digest });
    }
    previous = digest;
  }
  return { valid, problems, count };
}

/** An async iterator with one record of look-ahead. */
class Lookahead {
  #next: IteratorResult<unknown> | undefined;
  constructor(private readonly iterator: AsyncIterator<unknown>) {}
  async peek(): Promise<unknown> {
    this.#next ??= await this.iterator.next();
    return this.#next.done ? undefined : this.#next.value;
  }
  async take(): Promise<IteratorResult<unknown>> {
    const next = this.#next ?? (await this.iterator.next());
    this.#next = undefined;
    return next;
  }
}

const seqOf = (value: unknown): number | null => {
  const seq = typeof value === "object" && value !== null ? (value as { seq?: unknown }).seq : undefined;
  return typeof seq === "number" ? seq : null;
};

/**
 * Verifies a trail: every record's hash, the chain of hashes and the gapless numbering, walked in
 * the order given; then every digest's signature and chain, and that each digest's head hash is the
 * hash of the record it ends at. Names the first record that was modified, removed, inserted or
 * reordered, and every digest that fails. Pure over its inputs (records are streamed, never held),
 * so a benchmark can drive it.
 */
export async function verifyTrail(records: AsyncIterable<unknown> | Iterable<unknown>, digests: AsyncIterable<unknown> | Iterable<unknown>, options: VerifyOptions): Promise<VerifyReport> {
  const checked = await checkDigests(digests, options.publicKey);
  // Which record hashes the valid digests vouch for.
  const wanted = new Map<number, Digest[]>();
  for (const d of checked.valid) wanted.set(d.digest.toSeq, [...(wanted.get(d.digest.toSeq) ?? []), d]);
  const seen = new Map<number, string>();

  const source: AsyncIterable<unknown> = Symbol.asyncIterator in records ? records : (async function* () { yield* records; })();
  const input = new Lookahead(source[Symbol.asyncIterator]());
  let previous: ChainHead = { seq: 0, hash: GENESIS_HASH };
  let count = 0;
  let first: RecordProblem | null = null;
  const fail = (seq: number, issue: RecordIssue, message: string) => void (first ??= { seq, issue, message });

  while (first === null) {
    const step = await input.take();
    if (step.done) break;
    count += 1;
    const parsed = auditRecordSchema.safeParse(step.value);
    const expected = previous.seq + 1;
    if (!parsed.success) {
      fail(seqOf(step.value) ?? expected, "modified", `record ${seqOf(step.value) ?? `#${count}`} is malformed (${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}): it was modified`);
      break;
    }
    const r: AuditRecord = parsed.data;
    if (recordHash(r.previousHash, r) !== r.hash) {
      // Renumbered records tell what happened before them: an insertion pushes them up, a removal down.
      if (recordHash(r.previousHash, { ...r, seq: r.seq - 1 }) === r.hash) fail(r.seq - 1, "inserted", `record ${r.seq - 1} was inserted: the record after it was renumbered from ${r.seq - 1} to ${r.seq}`);
      else if (recordHash(r.previousHash, { ...r, seq: r.seq + 1 }) === r.hash) fail(r.seq, "removed", `record ${r.seq} was removed: the records after it were renumbered (record ${r.seq + 1} now says ${r.seq})`);
      else fail(r.seq, "modified", `record ${r.seq} (${r.kind} ${r.id}) was modified: its content no longer hashes to its hash`);
      break;
    }
    if (r.seq === expected) {
      if (r.previousHash !== previous.hash) {
        const after = seqOf(await input.peek());
        if (after === r.seq) fail(r.seq, "inserted", `record ${r.seq} was inserted: it does not chain to record ${previous.seq}, and another record ${r.seq} follows it`);
        else if (previous.seq === 0) fail(r.seq, "modified", `record ${r.seq} was modified: the first record must chain to the genesis hash`);
        else fail(previous.seq, "modified", `record ${previous.seq} was modified: record ${r.seq} chained to a different hash (${r.previousHash.slice(0, 12)}…)`);
        break;
      }
      previous = { seq: r.seq, hash: r.hash };
      if (wanted.has(r.seq)) seen.set(r.seq, r.hash);
      continue;
    }
    if (r.seq === previous.seq) fail(r.seq, "inserted", `record ${r.seq} was inserted: a second record numbered ${r.seq} (${r.kind} ${r.id})`);
    else if (r.seq < previous.seq) fail(r.seq, "reordered", `record ${r.seq} was reordered: it comes after record ${previous.seq}`);
    else {
      // Records expected..r.seq-1 are not here: later (reordered) or nowhere (removed). Scan on to tell.
      let later: number | null = null;
      for (;;) {
        const next = await input.take();
        if (next.done) break;
        count += 1;
        const seq = seqOf(next.value);
        if (later === null && seq !== null && seq >= expected && seq < r.seq) later = seq;
      }
      if (later !== null) fail(expected, "reordered", `record ${expected} was reordered: record ${r.seq} comes right after record ${previous.seq}, and record ${later} comes later`);
      else fail(expected, "removed", expected === r.seq - 1 ? `record ${expected} was removed: record ${r.seq} follows record ${previous.seq}` : `records ${expected}–${r.seq - 1} were removed: record ${r.seq} follows record ${previous.seq}`);
    }
  }
  // Count what is left, so the report says how much it read.
  for (;;) {
    const rest = await input.take();
    if (rest.done) break;
    count += 1;
  }

  const verifiedThrough = previous.seq;
  const candidates: RecordProblem[] = first ? [first] : [];
  const head = options.expectedHead;
  if (!first && head) {
    if (head.seq > verifiedThrough) candidates.push({ seq: verifiedThrough + 1, issue: "removed", message: `records ${verifiedThrough + 1}–${head.seq} were removed: the trail ends at ${verifiedThrough}, its head says ${head.seq}` });
    else if (head.seq < verifiedThrough) candidates.push({ seq: head.seq + 1, issue: "inserted", message: `record ${head.seq + 1} was inserted: the trail's head says it ends at ${head.seq}` });
    else if (head.seq > 0 && head.hash !== previous.hash) candidates.push({ seq: head.seq, issue: "modified", message: `record ${head.seq} was modified: the trail's head holds another hash for it` });
  }
  let signedThrough = 0;
  for (const { index, digest } of checked.valid) {
    const hash = seen.get(digest.toSeq);
    if (hash === undefined) {
      // Not reached: either the walk stopped at an earlier problem, or the records are gone.
      if (!first && digest.toSeq > verifiedThrough) candidates.push({ seq: verifiedThrough + 1, issue: "removed", message: `records ${verifiedThrough + 1}–${digest.toSeq} were removed: digest ${index} vouches for records up to ${digest.toSeq}, the trail ends at ${verifiedThrough}` });
      continue;
    }
    if (hash !== digest.headHash) {
      candidates.push({ seq: digest.fromSeq, issue: "modified", message: `records ${digest.fromSeq}–${digest.toSeq} are not those digest ${index} signed (its head hash differs): the trail was rewritten from record ${digest.fromSeq} on` });
      continue;
    }
    signedThrough = Math.max(signedThrough, digest.toSeq);
  }
  const firstBadRecord = candidates.sort((a, b) => a.seq - b.seq)[0] ?? null;
  return { ok: firstBadRecord === null && checked.problems.length === 0, records: count, digests: checked.count, verifiedThrough, signedThrough, firstBadRecord, badDigests: checked.problems };
}
