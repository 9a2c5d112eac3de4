import type { InvocationContext, Timer } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";

/** Every minute: turns pending finding changes into alerts and delivers what is due (retries included). */
export async function dispatchAlertsHandler(_timer: Timer | unknown, context: InvocationContext): Promise<void> {
  const report = await (await getRuntime()).dispatchAlerts();
  if (report.queued || report.delivered || report.retrying || report.failed) {
    context.log(`ALERTS queued ${report.queued}, delivered ${report.delivered} in ${report.messages} message(s), retrying ${report.retrying}, failed ${report.failed}`);
  }
}
