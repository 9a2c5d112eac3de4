// The sweep the bench measures, driven the way the function app runs it: the timer's plan
// (runtime.planSweep: counts, tree, roles, the logs' three answers, staged in a blob, shards on
// the Storage queue), then every shard message taken from that queue and judged by
// runtime.sweepShard, one after another, as one queue-triggered instance would. The process holds
// the plan and one shard's slice at a time, never the tenant.
import type { TokenCredential } from "@azure/identity";
import { QueueClient } from "@azure/storage-queue";
import type { Runtime } from "../shared/runtime.js";
import { SWEEP_QUEUE } from "../shared/usecases/sweepQueue.js";
import { addCounts } from "../shared/usecases/sweep.js";
import { NO_COUNTS, type ShardCounts, type SweepRunRecord } from "../shared/usecases/sweepRun.js";

/** What one measured sweep did, from inside the sweeping process. */
export interface SweepMeasurement {
  readonly run: Pick<ShardCounts, "assignments" | "subscriptions" | "principals" | "partitions" | "findingWrites" | "holding">;
  readonly shards: number;
  /** The run record's status once its last shard reported. */
  readonly status: SweepRunRecord["status"];
  /** Seconds in each step: the plan, then the shards (the slowest shard beside them). */
  readonly phases: Readonly<Record<string, number>>;
}

// How many messages one receive takes; each is judged before the next, as one instance would with batch size 1.
const RECEIVE_BATCH = 1;
// Long enough for a shard of 10,000 assignments at the quota's pace: the message stays hidden while judged.
const VISIBILITY_SECONDS = 600;

/** One full live sweep: plan, then every shard from the queue, judged in this process. */
export async function sweepLive(runtime: Runtime, credential: TokenCredential): Promise<SweepMeasurement> {
  const queueEndpoint = runtime.config.sweep.queueEndpoint;
  if (!queueEndpoint) throw new Error("the sweep bench needs GRANTGUARD_QUEUE_ENDPOINT");
  const queue = new QueueClient(`${queueEndpoint}/${SWEEP_QUEUE}`, credential);
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const planned = await runtime.planSweep();
  phases.plan = (performance.now() - mark) / 1000;
  mark = performance.now();

  let counts: ShardCounts = NO_COUNTS;
  let closed: SweepRunRecord | null = null;
  let judged = 0;
  let slowest = 0;
  while (judged < planned.shards) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: RECEIVE_BATCH, visibilityTimeout: VISIBILITY_SECONDS });
    if (receivedMessageItems.length === 0) throw new Error(`the queue holds no more shards after ${judged} of ${planned.shards}`);
    for (const item of receivedMessageItems) {
      const started = performance.now();
      const outcome = await runtime.sweepShard(Buffer.from(item.messageText, "base64").toString("utf8"));
      slowest = Math.max(slowest, (performance.now() - started) / 1000);
      await queue.deleteMessage(item.messageId, item.popReceipt);
      if (outcome.status !== "judged" || !outcome.result) throw new Error("a shard of a fresh run was already recorded");
      const add = outcome.result.counts;
      counts = addCounts(counts, add);
      closed = outcome.run ?? closed;
      judged += 1;
      if (process.env.BENCH_SWEEP_VERBOSE) process.stderr.write(`shard ${judged}/${planned.shards}: ${add.assignments} assignments in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    }
  }
  phases.shards = (performance.now() - mark) / 1000;
  phases["slowest shard"] = slowest;
  if (!closed) throw new Error(`run ${planned.runId} did not close after its ${planned.shards} shards`);
  const { assignments, subscriptions, principals, partitions, findingWrites, holding } = counts;
  return { run: { assignments, subscriptions, principals, partitions, findingWrites, holding }, shards: planned.shards, status: closed.status, phases };
}
