import { constants, createHash, generateKeyPairSync, privateEncrypt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { chainEntries, EMPTY_HEAD, recordHash, type AuditEntry, type AuditRecord, type ChainHead } from "../../../shared/audit/record.js";
import { digestHash, signingInput, writeDigest, type DigestStore, type SignedDigest } from "../../../shared/audit/digest.js";
import type { AuditChain } from "../../../shared/audit/trail.js";
import { verifyTrail, type VerifyReport } from "../../../shared/audit/verify.js";

const KEY_ID = "https://vault.example/keys/audit/1";
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = publicKey.export({ format: "jwk" });
const publicKeys = async (kid: string) => (kid === KEY_ID ? jwk : null);

const entry = (i: number): AuditEntry => ({ id: `finding.f${i}.x`, kind: i % 3 === 0 ? "finding.resolved" : "finding.opened", at: new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString(), actor: "grantguard", subject: `/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a${i}`, data: { findingId: `f${i}`, n: i, nested: { list: [i, "x", null, true] } } });

/** A chain of `n` records and digests after records 4, 8 and n, signed as Key Vault would (RS256 over the SHA-256 of the payload). */
async function trail(n: number): Promise<{ records: AuditRecord[]; digests: SignedDigest[] }> {
  const records = chainEntries(EMPTY_HEAD, Array.from({ length: n }, (_, i) => entry(i + 1)));
  const digests: SignedDigest[] = [];
  let head: ChainHead = EMPTY_HEAD;
  const chain: Pick<AuditChain, "head"> = { head: async () => head };
  const store: DigestStore = {
    latest: async () => ({ digest: digests[digests.length - 1] ?? null, version: String(digests.length) }),
    append: async (d, after) => (after === String(digests.length) ? (digests.push(d), true) : false),
    list: async function* () {
      yield* digests;
    },
  };
  const signer = { keyId: async () => KEY_ID, sign: async (digest: Uint8Array) => new Uint8Array(signRs256(digest)) };
  for (const upTo of [...new Set([4, 8, n])].filter((m) => m <= n)) {
    const last = records[upTo - 1] as AuditRecord;
    head = { seq: last.seq, hash: last.hash };
    await writeDigest({ chain: chain as AuditChain, store, signer, now: () => new Date(Date.UTC(2026, 10, 2, upTo)) });
  }
  return { records, digests };
}

// RS256 over a precomputed SHA-256, as Key Vault's sign does: PKCS#1 v1.5 with SHA-256's DigestInfo.
function signRs256(digest: Uint8Array): Buffer {
  return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([Buffer.from("3031300d060960864801650304020105000420", "hex"), digest]));
}

const verify = (records: readonly unknown[], digests: readonly unknown[], head?: ChainHead): Promise<VerifyReport> => verifyTrail(records, digests, { publicKey: publicKeys, expectedHead: head ?? null });
const headOf = (records: readonly AuditRecord[]): ChainHead => ({ seq: records.length, hash: (records[records.length - 1] as AuditRecord).hash });
const rehash = (records: AuditRecord[]): AuditRecord[] => chainEntries(EMPTY_HEAD, records.map(({ seq: _s, previousHash: _p, hash: _h, ...e }) => e));

describe("verifying the audit trail", () => {
  it("verifies an untouched trail and says how many records and digests it checked", async () => {
    const { records, digests } = await trail(12);
    const report = await verify(records, digests, headOf(records));
    expect(report).toMatchObject({ ok: true, records: 12, digests: 3, verifiedThrough: 12, signedThrough: 12, firstBadRecord: null, badDigests: [] });
  });

  it("chains each digest to the one before and covers each record once", async () => {
    const { digests } = await trail(12);
    expect(digests.map((d) => [d.fromSeq, d.toSeq])).toEqual([[1, 4], [5, 8], [9, 12]]);
    expect(digests[1]?.previousDigestHash).toBe(digestHash(digests[0] as SignedDigest));
    expect(signingInput(digests[0] as SignedDigest).toString()).toMatch(/^\{"algorithm":"RS256","at":/);
  });

  it("names a record whose content was changed (its hash left as it was)", async () => {
    const { records, digests } = await trail(12);
    const tampered = records.map((r) => (r.seq === 6 ? { ...r, actor: "mallory@contoso.com" } : r));
    expect((await verify(tampered, digests, headOf(records))).firstBadRecord).toMatchObject({ seq: 6, issue: "modified" });
  });

  it("names a record whose content and hash were changed together: the next record chained to the old hash", async () => {
    const { records, digests } = await trail(12);
    const tampered = records.map((r) => (r.seq === 6 ? { ...r, data: { ...r.data, n: 99 }, hash: recordHash(r.previousHash, { ...r, data: { ...r.data, n: 99 } }) } : r));
    expect((await verify(tampered, digests, headOf(records))).firstBadRecord).toMatchObject({ seq: 6, issue: "modified" });
  });

  it("names a rewritten trail (every hash recomputed) by the first range whose signed head hash differs", async () => {
    const { records, digests } = await trail(12);
    const rewritten = rehash(records.map((r) => (r.seq === 7 ? { ...r, kind: "finding.exempted" } : r)));
    const report = await verify(rewritten, digests, headOf(rewritten));
    expect(report.ok).toBe(false);
    expect(report.firstBadRecord).toMatchObject({ seq: 5, issue: "modified" });
    expect(report.signedThrough).toBe(4);
  });

  it("names a removed record in the middle, and records removed from the end", async () => {
    const { records, digests } = await trail(12);
    expect((await verify(records.filter((r) => r.seq !== 5), digests, headOf(records))).firstBadRecord).toMatchObject({ seq: 5, issue: "removed" });
    expect((await verify(records.slice(0, 10), digests, headOf(records))).firstBadRecord).toMatchObject({ seq: 11, issue: "removed" });
    // Even with the head made to agree, the last digest still vouches for records 11 and 12.
    const cut = records.slice(0, 10);
    expect((await verify(cut, digests, headOf(cut))).firstBadRecord).toMatchObject({ seq: 11, issue: "removed" });
  });

  it("names a removed record when the records after it were renumbered", async () => {
    const { records, digests } = await trail(12);
    const renumbered = records.filter((r) => r.seq !== 5).map((r) => (r.seq > 5 ? { ...r, seq: r.seq - 1 } : r));
    expect((await verify(renumbered, digests)).firstBadRecord).toMatchObject({ seq: 5, issue: "removed" });
  });

  it("names an inserted record: a forged record chained in before a genuine one with the same number", async () => {
    const { records, digests } = await trail(12);
    const previous = records[3] as AuditRecord;
    const forged = { ...entry(99), seq: 5 };
    const inserted = { ...forged, previousHash: previous.hash, hash: recordHash(previous.hash, forged) };
    const tampered = [...records.slice(0, 4), inserted, ...records.slice(4)];
    expect((await verify(tampered, digests, headOf(records))).firstBadRecord).toMatchObject({ seq: 5, issue: "inserted" });
  });

  it("names an inserted record when the records after it were renumbered, and one appended past the head", async () => {
    const { records, digests } = await trail(12);
    const previous = records[3] as AuditRecord;
    const forged = { ...entry(99), seq: 5 };
    const inserted = { ...forged, previousHash: previous.hash, hash: recordHash(previous.hash, forged) };
    const tampered = [...records.slice(0, 4), inserted, ...records.slice(4).map((r) => ({ ...r, seq: r.seq + 1 }))];
    expect((await verify(tampered, digests)).firstBadRecord).toMatchObject({ seq: 5, issue: "inserted" });
    const appended = chainEntries(headOf(records), [entry(100)]);
    expect((await verify([...records, ...appended], digests, headOf(records))).firstBadRecord).toMatchObject({ seq: 13, issue: "inserted" });
  });

  it("names reordered records: two swapped, and one moved far back", async () => {
    const { records, digests } = await trail(12);
    const swapped = [...records];
    [swapped[5], swapped[6]] = [swapped[6] as AuditRecord, swapped[5] as AuditRecord];
    expect((await verify(swapped, digests, headOf(records))).firstBadRecord).toMatchObject({ seq: 6, issue: "reordered" });
    const moved = [...records.slice(0, 2), ...records.slice(3, 9), records[2] as AuditRecord, ...records.slice(9)];
    expect((await verify(moved, digests, headOf(records))).firstBadRecord).toMatchObject({ seq: 3, issue: "reordered" });
  });

  it("names a forged digest (signature fails), one signed by an unknown key, and a removed digest", async () => {
    const { records, digests } = await trail(12);
    const forged = digests.map((d, i) => (i === 1 ? { ...d, toSeq: 7 } : d));
    const report = await verify(records, forged, headOf(records));
    expect(report.ok).toBe(false);
    expect(report.badDigests).toEqual([expect.objectContaining({ index: 2, issue: "signature" })]);
    const otherKey = await verify(records, digests.map((d, i) => (i === 0 ? { ...d, keyId: "https://vault.example/keys/other/1" } : d)), headOf(records));
    expect(otherKey.badDigests[0]).toMatchObject({ index: 1, issue: "unknownKey" });
    const removed = await verify(records, [digests[0], digests[2]], headOf(records));
    expect(removed.badDigests).toEqual([expect.objectContaining({ index: 2, issue: "chain" })]);
  });

  it("catches every single-record tampering of every kind at every position", async () => {
    const { records, digests } = await trail(12);
    let caught = 0;
    let cases = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as AuditRecord;
      const variants: [string, unknown[], number][] = [
        ["modified", records.map((x) => (x.seq === r.seq ? { ...x, subject: `${x.subject}x` } : x)), r.seq],
        ["removed", records.filter((x) => x.seq !== r.seq), r.seq],
      ];
      if (i + 1 < records.length) {
        const swapped: unknown[] = [...records];
        [swapped[i], swapped[i + 1]] = [swapped[i + 1], swapped[i]];
        variants.push(["reordered", swapped, r.seq]);
      }
      for (const [issue, tampered, seq] of variants) {
        cases += 1;
        const report = await verify(tampered, digests, headOf(records));
        if (!report.ok && report.firstBadRecord?.issue === issue && report.firstBadRecord.seq === seq) caught += 1;
      }
    }
    expect(caught).toBe(cases);
  });

  it("reports a malformed record as modified, with where it is", async () => {
    const { records, digests } = await trail(6);
    const broken = records.map((r) => (r.seq === 3 ? { ...r, hash: "not a hash" } : r));
    expect((await verify(broken, digests)).firstBadRecord).toMatchObject({ seq: 3, issue: "modified" });
  });

  it("hashes the previous hash and the canonical body together, as documented for openssl", () => {
    const e = entry(1);
    const expected = createHash("sha256").update(`${"0".repeat(64)}{"actor":"grantguard","at":"${e.at}","data":{"findingId":"f1","n":1,"nested":{"list":[1,"x",null,true]}},"id":"finding.f1.x","kind":"finding.opened","seq":1,"subject":"${e.subject}"}`).digest("hex");
    expect(chainEntries(EMPTY_HEAD, [e])[0]?.hash).toBe(expected);
  });
});
