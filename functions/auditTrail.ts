import type { InvocationContext, Timer } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";

/** Every minute: appends to the audit trail the changes whose markers an instance left behind (it died between commit and drain). */
export async function drainAuditTrailHandler(_timer: Timer | unknown, context: InvocationContext): Promise<void> {
  const report = await (await getRuntime()).drainAuditTrail();
  if (report.markers) context.log(`AUDIT drained ${report.markers} marker(s): ${report.appended} record(s) appended, ${report.duplicates} already in the trail`);
}

/** Every hour: signs a digest of the records appended since the last one, with the Key Vault key, and appends it to the digest blob. */
export async function signAuditDigestHandler(_timer: Timer | unknown, context: InvocationContext): Promise<void> {
  const outcome = await (await getRuntime()).signAuditDigest();
  if (outcome.status === "notConfigured") context.warn("AUDIT digests are not signed: set GRANTGUARD_KEY_VAULT_URL and GRANTGUARD_BLOB_ENDPOINT");
  else if (outcome.status === "written") context.log(`AUDIT digest signed: records ${outcome.digest.fromSeq}–${outcome.digest.toSeq}, head ${outcome.digest.headHash.slice(0, 12)}…, key ${outcome.digest.keyId}`);
}
