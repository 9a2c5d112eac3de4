import type { InvocationContext } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";

/**
 * Queue trigger on sweep-shards: judges one shard of a sweep run. A failure propagates: the
 * message reappears and is retried, up to maxDequeueCount, then moves to sweep-shards-poison.
 */
export async function sweepShardHandler(message: unknown, context: InvocationContext): Promise<void> {
  const outcome = await (await getRuntime()).sweepShard(message);
  if (outcome.status === "duplicate") return context.log("SWEEP shard already recorded: nothing to do");
  const r = outcome.result;
  if (r) context.log(`SWEEP shard ${r.shard}: ${r.counts.partitions} partition(s), ${r.counts.assignments} assignment(s), ${r.counts.findingWrites} finding write(s), ${r.counts.resolved} resolved`);
  const run = outcome.run;
  if (run) context.log(`SWEEP ${run.runId} ${run.status.toUpperCase()}: ${run.counts.assignments} assignment(s) in ${run.shards} shard(s), ${run.counts.findingWrites} finding write(s)${run.failedShards.length ? `, shard(s) ${run.failedShards.join(", ")} failed` : ""}`);
}

/** Queue trigger on sweep-shards-poison: a shard the queue gave up on is marked failed, so its run ends rather than waits. */
export async function sweepShardPoisonHandler(message: unknown, context: InvocationContext): Promise<void> {
  const run = await (await getRuntime()).sweepShardFailed(message);
  context.warn("SWEEP shard failed after its last delivery: recorded as failed in its run");
  if (run) context.log(`SWEEP ${run.runId} ${run.status.toUpperCase()}: shard(s) ${run.failedShards.join(", ")} failed`);
}
