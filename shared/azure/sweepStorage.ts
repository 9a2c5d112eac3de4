import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import type { TableClient } from "@azure/data-tables";
import type { ContainerClient } from "@azure/storage-blob";
import type { QueueClient } from "@azure/storage-queue";
import { statusOf } from "../errors.js";
import { addCalls, NO_CALLS, NO_COUNTS, type CallCounts, type ShardCounts, type ShardMessage, type ShardQueue, type ShardResult, type SweepPlan, type SweepRunRecord, type SweepRuns, type SweepStaging } from "../usecases/sweepRun.js";
import { ensureTable } from "./tables.js";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Creates a container or queue once per client ("already exists" is success); a failure is retried next time. */
function once(create: () => Promise<unknown>): () => Promise<void> {
  let created: Promise<void> | undefined;
  return () => {
    created ??= create().then(
      () => undefined,
      (error: unknown) => {
        created = undefined;
        throw error;
      },
    );
    return created;
  };
}

/** A run's plan as one gzip JSON block blob, `{runId}/plan.json.gz`, written once by the plan and read by every shard. */
export class BlobSweepStaging implements SweepStaging {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly container: ContainerClient) {
    this.#ensure = once(() => container.createIfNotExists());
  }

  async put(plan: SweepPlan): Promise<void> {
    await this.#ensure();
    const body = await gzipAsync(Buffer.from(JSON.stringify(plan)));
    await this.container.getBlockBlobClient(`${plan.runId}/plan.json.gz`).uploadData(body, { blobHTTPHeaders: { blobContentType: "application/json", blobContentEncoding: "gzip" } });
  }

  async get(runId: string): Promise<SweepPlan> {
    const body = await this.container.getBlockBlobClient(`${runId}/plan.json.gz`).downloadToBuffer();
    return JSON.parse((await gunzipAsync(body)).toString("utf8")) as SweepPlan;
  }
}

/** The shard queue: one message per shard, base64-encoded JSON as the Functions host's queue trigger reads it by default. */
export class StorageShardQueue implements ShardQueue {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly queue: QueueClient) {
    this.#ensure = once(() => queue.createIfNotExists());
  }

  async send(messages: readonly ShardMessage[]): Promise<void> {
    await this.#ensure();
    for (const message of messages) await this.queue.sendMessage(Buffer.from(JSON.stringify(message)).toString("base64"));
  }
}

const RUN_ROW = "run";
const shardRow = (shard: number) => `shard-${String(shard).padStart(6, "0")}`;

interface RunEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  startedAt?: string;
  status?: string;
  shards?: number;
  finishedAt?: string;
  counts?: string;
  calls?: string;
  planCalls?: string;
  evidenceGaps?: string;
  failedShards?: string;
  error?: string;
}

interface ShardEntity {
  partitionKey: string;
  rowKey: string;
  status?: string;
  counts?: string;
  calls?: string;
  finishedAt?: string;
  error?: string;
}

const json = <T>(text: string | undefined, fallback: T): T => (text ? (JSON.parse(text) as T) : fallback);

function sumCounts(a: ShardCounts, b: ShardCounts): ShardCounts {
  const out: Record<string, number> = {};
  for (const key of Object.keys(NO_COUNTS) as (keyof ShardCounts)[]) out[key] = a[key] + b[key];
  return out as unknown as ShardCounts;
}

/**
 * Run records in Table Storage: one partition per run, a `run` row (status, shard count, sums) and a
 * row per shard, inserted once (a second insert is Azure's 409 and leaves the first standing). The
 * run row is closed ETag-conditionally, so of the shards that see every result, exactly one closes it.
 */
export class TableSweepRuns implements SweepRuns {
  readonly #ensure: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#ensure = ensureTable(client);
  }

  async start(runId: string, startedAt: string): Promise<void> {
    await this.#ensure();
    await this.client.createEntity<RunEntity>({ partitionKey: runId, rowKey: RUN_ROW, startedAt, status: "planning", shards: 0 });
  }

  async planned(runId: string, plan: { readonly shards: number; readonly calls: CallCounts; readonly evidenceGaps: readonly string[] }): Promise<void> {
    await this.client.updateEntity<RunEntity>({ partitionKey: runId, rowKey: RUN_ROW, status: "running", shards: plan.shards, planCalls: JSON.stringify(plan.calls), evidenceGaps: JSON.stringify(plan.evidenceGaps) }, "Merge");
  }

  async abandon(runId: string, reason: string, now: Date): Promise<void> {
    await this.client.updateEntity<RunEntity>({ partitionKey: runId, rowKey: RUN_ROW, status: "failed", finishedAt: now.toISOString(), error: reason.slice(0, 8_000) }, "Merge");
  }

  async hasShard(runId: string, shard: number): Promise<boolean> {
    try {
      await this.client.getEntity(runId, shardRow(shard));
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  async recordShard(runId: string, result: ShardResult): Promise<boolean> {
    await this.#ensure();
    try {
      await this.client.createEntity<ShardEntity>({ partitionKey: runId, rowKey: shardRow(result.shard), status: result.status, counts: JSON.stringify(result.counts), calls: JSON.stringify(result.calls), finishedAt: result.finishedAt, ...(result.error ? { error: result.error.slice(0, 8_000) } : {}) });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }

  async finishIfComplete(runId: string, now: Date): Promise<SweepRunRecord | null> {
    const { run, shards } = await this.#read(runId);
    if (!run || run.status !== "running" || shards.length < (run.shards ?? 0)) return null;
    let counts = NO_COUNTS;
    let calls = json<CallCounts>(run.planCalls, NO_CALLS);
    const failed: number[] = [];
    for (const s of shards) {
      counts = sumCounts(counts, json(s.counts, NO_COUNTS));
      calls = addCalls(calls, json(s.calls, NO_CALLS));
      if (s.status !== "succeeded") failed.push(Number(s.rowKey.slice("shard-".length)));
    }
    const closed: RunEntity = { partitionKey: runId, rowKey: RUN_ROW, status: failed.length > 0 ? "failed" : "succeeded", finishedAt: now.toISOString(), counts: JSON.stringify(counts), calls: JSON.stringify(calls), failedShards: JSON.stringify(failed) };
    try {
      await this.client.updateEntity(closed, "Merge", { etag: run.etag });
    } catch (error) {
      if (statusOf(error) === 412) return null; // another shard closed it
      throw error;
    }
    return toRecord({ ...run, ...closed });
  }

  async get(runId: string): Promise<SweepRunRecord | null> {
    const { run } = await this.#read(runId);
    return run ? toRecord(run) : null;
  }

  async list(options: { readonly since?: string } = {}): Promise<SweepRunRecord[]> {
    await this.#ensure();
    const runs: SweepRunRecord[] = [];
    for await (const entity of this.client.listEntities<RunEntity>({ queryOptions: { filter: `RowKey eq '${RUN_ROW}'` } })) {
      if (options.since && (entity.startedAt ?? "") < options.since) continue;
      runs.push(toRecord(entity));
    }
    return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async #read(runId: string): Promise<{ run: RunEntity | null; shards: ShardEntity[] }> {
    await this.#ensure();
    let run: RunEntity | null = null;
    const shards: ShardEntity[] = [];
    const filter = `PartitionKey eq '${runId.replace(/'/g, "''")}'`;
    for await (const entity of this.client.listEntities<RunEntity & ShardEntity>({ queryOptions: { filter } })) {
      if (entity.rowKey === RUN_ROW) run = entity;
      else shards.push(entity);
    }
    return { run, shards };
  }
}

function toRecord(e: RunEntity): SweepRunRecord {
  const status = e.status === "running" || e.status === "succeeded" || e.status === "failed" ? e.status : "planning";
  return {
    runId: e.partitionKey,
    startedAt: e.startedAt ?? "",
    status,
    shards: e.shards ?? 0,
    finishedAt: e.finishedAt ?? null,
    counts: json(e.counts, NO_COUNTS),
    calls: json(e.calls, json(e.planCalls, NO_CALLS)),
    evidenceGaps: json(e.evidenceGaps, []),
    failedShards: json(e.failedShards, []),
    error: e.error ?? null,
  };
}
