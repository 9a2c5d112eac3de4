import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createPublicKey, type JsonWebKey } from "node:crypto";
import { createInterface } from "node:readline";
import { z } from "zod";
import type { PublicKeyResolver } from "../../audit/digest.js";
import type { ChainHead } from "../../audit/record.js";
import type { VerifyReport } from "../../audit/verify.js";
import { ConfigError, GrantGuardError } from "../../errors.js";
import { parse, stringOption } from "../args.js";
import { UsageError } from "../errors.js";
import { json } from "../format.js";
import { EXIT } from "../io.js";
import type { Verb, VerbContext } from "../verb.js";

const usage = `Usage: grantguard audit verify [--file EXPORT] [--public-key PEM] [--json]

Verifies grantguard's audit trail: every record's SHA-256 hash, the hash chain and its gapless
numbering, every digest's RS256 signature and chain, and that each digest's head hash is the
record it ends at. Names the first record that was modified, removed, inserted or reordered,
and every digest that fails; says how many records and digests it checked.

Live (no --file): reads the trail table (GRANTGUARD_TABLE_ENDPOINT, GRANTGUARD_AUDIT_TABLE) and
the digests (GRANTGUARD_BLOB_ENDPOINT, GRANTGUARD_AUDIT_CONTAINER) with your Azure sign-in
(Storage Table Data Reader, Storage Blob Data Reader), and the signing key's public half from
Key Vault (GRANTGUARD_KEY_VAULT_URL, GRANTGUARD_AUDIT_KEY; keys/get), or the local Azure of a
running npm start.
--file EXPORT     verify an export (GET /api/audit/export) instead
--public-key PEM  check digests with this public key (PEM) instead of asking Key Vault
--json            print the report as JSON

Exit codes: 0 the trail verifies; 1 a record or a digest failed; 2 bad input; 3 Azure failed.`;

/** An export or key file that cannot be used (exit code 2). */
class AuditInputError extends GrantGuardError {}

const exportHeaderSchema = z.object({ format: z.literal("grantguard-audit-trail"), version: z.literal(1), head: z.object({ seq: z.number().int().min(0), hash: z.string() }) });

/** A PEM public key as the resolver of every key id (the operator vouches for it). */
async function pemKeys(path: string): Promise<PublicKeyResolver> {
  let jwk: JsonWebKey;
  try {
    jwk = createPublicKey(await readFile(path, "utf8")).export({ format: "jwk" });
  } catch (error) {
    throw new AuditInputError(`--public-key ${path}: not a readable PEM public key (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  return async () => jwk;
}

/** An export's lines: its header, its digests (they come first), then its records, streamed. */
async function readExport(path: string): Promise<{ head: ChainHead; digests: unknown[]; records: AsyncIterable<unknown> }> {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]();
  const parseLine = (line: string): unknown => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      return line; // kept as it is: verification names it
    }
  };
  let first: IteratorResult<string>;
  try {
    first = await lines.next();
  } catch (error) {
    throw new AuditInputError(`--file ${path}: cannot be read (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  const header = exportHeaderSchema.safeParse(first.done ? undefined : parseLine(first.value));
  if (!header.success) throw new AuditInputError(`--file ${path}: not a grantguard audit export (its first line must be the export header that GET /api/audit/export writes)`);
  const digests: unknown[] = [];
  let pending: unknown;
  for (;;) {
    const next = await lines.next();
    if (next.done) break;
    if (next.value.trim() === "") continue;
    const item = parseLine(next.value);
    if (typeof item === "object" && item !== null && "digest" in item) digests.push((item as { digest: unknown }).digest);
    else {
      pending = item;
      break;
    }
  }
  const unwrap = (item: unknown) => (typeof item === "object" && item !== null && "record" in item ? (item as { record: unknown }).record : item);
  async function* records(): AsyncIterable<unknown> {
    if (pending !== undefined) yield unwrap(pending);
    for (;;) {
      const next = await lines.next();
      if (next.done) return;
      if (next.value.trim() !== "") yield unwrap(parseLine(next.value));
    }
  }
  return { head: header.data.head, digests, records: records() };
}

const settingsSchema = z.object({
  GRANTGUARD_TABLE_ENDPOINT: z.url({ protocol: /^https$/ }),
  GRANTGUARD_AUDIT_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/).default("auditTrail"),
  GRANTGUARD_BLOB_ENDPOINT: z.url({ protocol: /^https$/ }).optional(),
  GRANTGUARD_AUDIT_CONTAINER: z.string().default("audit-digests"),
  GRANTGUARD_KEY_VAULT_URL: z.url({ protocol: /^https$/ }).optional(),
  GRANTGUARD_AUDIT_KEY: z.string().default("grantguard-audit"),
});

/** Verifies the live trail with the operator's credential. */
async function verifyLive(context: VerbContext, publicKey: PublicKeyResolver | null): Promise<VerifyReport> {
  const [{ operatorConnection }, { createAuditReader }, { verifyTrail }] = await Promise.all([import("../azure.js"), import("../../azure/compose.js"), import("../../audit/verify.js")]);
  const { credential, settings: raw } = await operatorConnection(context);
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid settings: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  const s = parsed.data;
  const strip = (url: string) => url.replace(/\/+$/, "");
  const digests = s.GRANTGUARD_BLOB_ENDPOINT && s.GRANTGUARD_KEY_VAULT_URL ? { blobEndpoint: strip(s.GRANTGUARD_BLOB_ENDPOINT), container: s.GRANTGUARD_AUDIT_CONTAINER, keyVaultUrl: strip(s.GRANTGUARD_KEY_VAULT_URL), keyName: s.GRANTGUARD_AUDIT_KEY } : null;
  context.azure.push({ name: "Table Storage", endpoint: s.GRANTGUARD_TABLE_ENDPOINT, needs: "Storage Table Data Reader on grantguard's storage account" });
  if (digests) {
    context.azure.push({ name: "Blob Storage", endpoint: digests.blobEndpoint, needs: "Storage Blob Data Reader on the audit digests' container" });
    context.azure.push({ name: "Key Vault", endpoint: digests.keyVaultUrl, needs: "keys/get on the audit signing key (Key Vault Crypto User or Reader)" });
  } else context.io.err("grantguard: GRANTGUARD_BLOB_ENDPOINT and GRANTGUARD_KEY_VAULT_URL are not set: no digest is checked, so a consistent rewrite of the whole trail would go unnoticed");
  const reader = createAuditReader({ tableEndpoint: strip(s.GRANTGUARD_TABLE_ENDPOINT), table: s.GRANTGUARD_AUDIT_TABLE, digests }, credential);
  // The head first: records appended while this runs are past it and wait for the next check.
  const head = await reader.chain.head();
  return verifyTrail(reader.chain.read({ toSeq: head.seq }), reader.digests ? reader.digests.list() : [], { publicKey: publicKey ?? reader.publicKeys ?? (async () => null), expectedHead: head });
}

/** Verifies an export, with the public key from --public-key or from the configured Key Vault. */
async function verifyFile(context: VerbContext, path: string, publicKey: PublicKeyResolver | null): Promise<VerifyReport> {
  const [{ verifyTrail }, exported] = await Promise.all([import("../../audit/verify.js"), readExport(path)]);
  let keys = publicKey;
  if (!keys && exported.digests.length > 0) {
    const [{ operatorConnection }, { createAuditReader }] = await Promise.all([import("../azure.js"), import("../../azure/compose.js")]);
    const { credential, settings: raw } = await operatorConnection(context);
    const parsed = settingsSchema.partial({ GRANTGUARD_TABLE_ENDPOINT: true }).safeParse(raw);
    const s = parsed.success ? parsed.data : null;
    if (!s?.GRANTGUARD_KEY_VAULT_URL) throw new ConfigError("set GRANTGUARD_KEY_VAULT_URL (and GRANTGUARD_AUDIT_KEY) so the digests' signatures can be checked against Key Vault's public key, or pass --public-key PEM");
    context.azure.push({ name: "Key Vault", endpoint: s.GRANTGUARD_KEY_VAULT_URL, needs: "keys/get on the audit signing key" });
    keys = createAuditReader({ tableEndpoint: "https://unused.invalid", table: s.GRANTGUARD_AUDIT_TABLE, digests: { blobEndpoint: "https://unused.invalid", container: s.GRANTGUARD_AUDIT_CONTAINER, keyVaultUrl: s.GRANTGUARD_KEY_VAULT_URL.replace(/\/+$/, ""), keyName: s.GRANTGUARD_AUDIT_KEY } }, credential).publicKeys;
  }
  return verifyTrail(exported.records, exported.digests, { publicKey: keys ?? (async () => null), expectedHead: exported.head });
}

/** grantguard audit verify: checks that nobody rewrote the audit trail. */
export const audit: Verb = {
  usage,

  async run(argv, context) {
    const { io } = context;
    const { values, positionals } = parse(argv, { file: { type: "string" }, "public-key": { type: "string" }, json: { type: "boolean" } });
    if (values.help) return io.out(usage), EXIT.ok;
    if (positionals[0] !== "verify" || positionals.length > 1) throw new UsageError(positionals[0] && positionals[0] !== "verify" ? `unknown audit command '${positionals[0]}' (verify)` : positionals.length > 1 ? `unexpected argument '${positionals[1]}'` : "audit needs verify");
    const pem = stringOption(values["public-key"]);
    const publicKey = pem ? await pemKeys(pem) : null;
    const file = stringOption(values.file);
    const report = file ? await verifyFile(context, file, publicKey) : await verifyLive(context, publicKey);
    if (values.json) io.out(json(report));
    else if (report.ok) io.out(`audit trail verified: ${report.records} record(s) and ${report.digests} digest(s) checked; records 1–${report.verifiedThrough} chain intact${report.signedThrough > 0 ? `, 1–${report.signedThrough} vouched for by signed digests` : ", none yet vouched for by a signed digest"}`);
    else {
      io.out(`audit trail FAILED verification (${report.records} record(s) and ${report.digests} digest(s) checked):`);
      if (report.firstBadRecord) io.out(`  first bad record: ${report.firstBadRecord.message}`);
      for (const digest of report.badDigests) io.out(`  bad digest: ${digest.message}`);
    }
    return report.ok ? EXIT.ok : EXIT.findings;
  },
};
