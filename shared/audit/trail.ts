import type { AuditEntry, AuditRecord, ChainHead } from "./record.js";

/** The outcome of appending entries: the records made, and how many entries were in the chain already. */
export interface AppendResult {
  readonly appended: readonly AuditRecord[];
  readonly duplicates: number;
}

/** A page of records in sequence order, and where the next page starts (null: the end). */
export interface AuditPage {
  readonly records: readonly AuditRecord[];
  readonly nextSeq: number | null;
}

/**
 * The hash chain: append-only, one writer at a time by construction (each append is conditional on
 * the head it read), idempotent per entry id.
 */
export interface AuditChain {
  /** Appends entries in order, skipping those whose id the chain holds already; retried internally while other writers win. */
  append(entries: readonly AuditEntry[]): Promise<AppendResult>;
  /** The end of the chain as stored now. */
  head(): Promise<ChainHead>;
  /** At most `limit` records from `fromSeq` on. */
  list(options: { readonly fromSeq: number; readonly limit: number }): Promise<AuditPage>;
  /** Every record from `fromSeq` (default 1) up to `toSeq` (default: the end), in order, as stored: never parsed into trust. */
  read(options?: { readonly fromSeq?: number; readonly toSeq?: number }): AsyncIterable<AuditRecord>;
}

/**
 * A promise to trail a change, written in the same transaction as the change itself. It stays
 * until its entry is in the chain: whoever finds it appends it (idempotently) and removes it.
 */
export interface TrailMarker {
  readonly entry: AuditEntry;
  /** Where the marker is, for its store to remove it. */
  readonly location: string;
}

/** Where markers wait: beside the state they promise to trail (findings, revocations, the breaker). */
export interface TrailMarkerStore {
  /** Markers still waiting, at most `limit`. */
  list(options?: { readonly limit?: number }): Promise<TrailMarker[]>;
  /** Removes markers whose entries are in the chain (one already gone is fine). */
  remove(markers: readonly TrailMarker[]): Promise<void>;
}

/** Appends markers' entries to the chain, then removes the markers: a crash in between leaves markers whose next append is a no-op. */
export async function drainMarkers(chain: AuditChain, store: TrailMarkerStore, markers: readonly TrailMarker[]): Promise<AppendResult> {
  if (markers.length === 0) return { appended: [], duplicates: 0 };
  const result = await chain.append(markers.map((m) => m.entry));
  await store.remove(markers);
  return result;
}

/** What a round of the timer drained. */
export interface DrainReport {
  readonly markers: number;
  readonly appended: number;
  readonly duplicates: number;
}

/** Drains every store's waiting markers (the leftovers of instances that died between commit and drain), at most `limit` per store. */
export async function drainLeftovers(chain: AuditChain, stores: readonly TrailMarkerStore[], limit = 5_000): Promise<DrainReport> {
  let markers = 0;
  let appended = 0;
  let duplicates = 0;
  for (const store of stores) {
    const waiting = await store.list({ limit });
    const result = await drainMarkers(chain, store, waiting);
    markers += waiting.length;
    appended += result.appended.length;
    duplicates += result.duplicates;
  }
  return { markers, appended, duplicates };
}

/**
 * What a store calls after a commit that wrote markers: drains them at once. A failure here loses
 * nothing (the markers stay for the timer) and must not undo the commit's outcome, so it is
 * reported to `onError` instead of thrown.
 */
export type TrailDrain = (store: TrailMarkerStore, markers: readonly TrailMarker[]) => Promise<void>;

/** The drain stores run after their commits: append then remove, failures reported, never thrown. */
export function createTrailDrain(chain: AuditChain, onError: (error: unknown) => void): TrailDrain {
  return async (store, markers) => {
    try {
      await drainMarkers(chain, store, markers);
    } catch (error) {
      onError(error);
    }
  };
}

/**
 * A drain a store starts after its commit without waiting for it: the event path's invocation goes
 * on (its alerts are sent) while the markers are appended, and awaits `settled()` before it ends,
 * so the trail is current when the invocation is. A drain still running when an instance dies
 * leaves its markers for the timer, as a failed one does.
 */
export function overlappingTrailDrain(drain: TrailDrain): { readonly drain: TrailDrain; settled(): Promise<void> } {
  const running = new Set<Promise<void>>();
  return {
    drain: async (store, markers) => {
      const started = drain(store, markers).finally(() => running.delete(started));
      running.add(started);
    },
    settled: async () => {
      await Promise.all([...running]);
    },
  };
}
