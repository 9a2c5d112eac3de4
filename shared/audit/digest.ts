import { createHash, createPublicKey, verify as verifySignature, type JsonWebKey } from "node:crypto";
import { z } from "zod";
import { ConcurrentChangeError } from "../errors.js";
import { canonicalJson } from "./canonical.js";
import { GENESIS_HASH, sha256Hex } from "./record.js";
import type { AuditChain } from "./trail.js";

/** Digests are signed RS256: RSASSA-PKCS1-v1_5 over the SHA-256 of their canonical JSON (Key Vault `sign`, openssl `dgst -sha256 -verify`). */
export const DIGEST_ALGORITHM = "RS256";

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits");

/**
 * A signed digest: the range of records it vouches for, the hash of the last (the chain's head
 * then), the hash of the digest before it (GENESIS_HASH for the first), when, and the key and
 * algorithm that signed it; `signature` (base64url) covers every other field.
 */
export const signedDigestSchema = z.strictObject({
  fromSeq: z.number().int().min(1),
  toSeq: z.number().int().min(1),
  headHash: hex64,
  previousDigestHash: hex64,
  at: z.string(),
  keyId: z.string().min(1),
  algorithm: z.literal(DIGEST_ALGORITHM),
  signature: z.string().regex(/^[A-Za-z0-9_-]+$/, "must be base64url"),
});
export type SignedDigest = z.infer<typeof signedDigestSchema>;
export type DigestPayload = Omit<SignedDigest, "signature">;

/** The bytes a digest's signature covers: the canonical JSON of every field but the signature. */
export function signingInput(digest: DigestPayload): Buffer {
  const { fromSeq, toSeq, headHash, previousDigestHash, at, keyId, algorithm } = digest;
  return Buffer.from(canonicalJson({ fromSeq, toSeq, headHash, previousDigestHash, at, keyId, algorithm }), "utf8");
}

/** What the next digest chains to: SHA-256 of the canonical JSON of the whole signed digest. */
export function digestHash(digest: SignedDigest): string {
  return sha256Hex(canonicalJson({ ...digest }));
}

/** Signs with a key grantguard may use but never read (Key Vault `sign`). */
export interface DigestSigner {
  /** The full id of the key version that signs (what verifiers fetch the public key by). */
  keyId(): Promise<string>;
  /** An RS256 signature over a SHA-256 digest, by the key version `keyId` names. */
  sign(sha256: Uint8Array): Promise<Uint8Array>;
}

/** The public half of a signing key, by its id; null when the key is unknown. */
export type PublicKeyResolver = (keyId: string) => Promise<JsonWebKey | null>;

/** Where digests are kept, append-only (an append blob; WORM in Azure). */
export interface DigestStore {
  /** The last digest (null before the first) and the version of where the next one goes (for a conditional append; null when nothing exists yet). */
  latest(): Promise<{ readonly digest: SignedDigest | null; readonly version: string | null }>;
  /** Appends a digest only if nothing was appended since `after` was read; false when something was. */
  append(digest: SignedDigest, after: string | null): Promise<boolean>;
  /** Every digest, oldest first, as stored. */
  list(): AsyncIterable<unknown>;
}

/** Whether an RS256 signature over a digest verifies with a public JWK. */
export function digestSignatureValid(digest: SignedDigest, publicKey: JsonWebKey): boolean {
  try {
    return verifySignature("sha256", signingInput(digest), createPublicKey({ key: publicKey, format: "jwk" }), Buffer.from(digest.signature, "base64url"));
  } catch {
    return false; // a key or signature that cannot even be parsed does not verify
  }
}

/** What a digest round did. */
export type DigestOutcome = { readonly status: "written"; readonly digest: SignedDigest } | { readonly status: "upToDate"; readonly toSeq: number };

const MAX_TRIES = 10;

/**
 * Signs the records appended since the last digest (range, head hash, previous digest's hash,
 * time) and appends the digest. Concurrent writers race on the store's version: the loser reads
 * again and finds the range taken (or a new one to cover).
 */
export async function writeDigest(deps: { readonly chain: AuditChain; readonly store: DigestStore; readonly signer: DigestSigner; readonly now: () => Date }): Promise<DigestOutcome> {
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const [{ digest: last, version }, head] = await Promise.all([deps.store.latest(), deps.chain.head()]);
    const from = (last?.toSeq ?? 0) + 1;
    if (head.seq < from) return { status: "upToDate", toSeq: head.seq };
    const payload: DigestPayload = {
      fromSeq: from,
      toSeq: head.seq,
      headHash: head.hash,
      previousDigestHash: last ? digestHash(last) : GENESIS_HASH,
      at: deps.now().toISOString(),
      keyId: await deps.signer.keyId(),
      algorithm: DIGEST_ALGORITHM,
    };
    const signature = await deps.signer.sign(createHash("sha256").update(signingInput(payload)).digest());
    const digest: SignedDigest = { ...payload, signature: Buffer.from(signature).toString("base64url") };
    if (await deps.store.append(digest, version)) return { status: "written", digest };
  }
  throw new ConcurrentChangeError(`the audit digest kept changing under ${MAX_TRIES} concurrent writers`);
}
