import type { InvocationContext, Timer } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";

/** Every hour: sends the low-severity alerts collected for the digest, one message per channel. */
export async function sendAlertDigestHandler(_timer: Timer | unknown, context: InvocationContext): Promise<void> {
  const { sent, alerts } = await (await getRuntime()).sendDigest();
  if (sent) context.log(`DIGEST sent ${alerts} alert(s) in ${sent} message(s)`);
}
