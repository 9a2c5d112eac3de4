import type { InvocationContext, Timer } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";

/** Daily (GRANTGUARD_SWEEP_SCHEDULE): plans a standing sweep of the tenant and puts its shards on the queue. */
export async function sweepTenantHandler(_timer: Timer | unknown, context: InvocationContext): Promise<void> {
  const { runId, shards, evidenceGaps } = await (await getRuntime()).planSweep();
  context.log(`SWEEP ${runId} planned: ${shards} shard(s) on the queue`);
  // Never used as complete: the facts these answers feed stay null in every shard.
  for (const gap of evidenceGaps) context.warn(`SWEEP ${runId} logs: ${gap}`);
}
