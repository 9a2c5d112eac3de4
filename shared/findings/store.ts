import { ConcurrentChangeError } from "../errors.js";
import type { EventRecord, Finding, FindingStatus } from "../model/finding.js";

const MAX_TRIES = 20;

/** Filters an auditor (or a use case) can ask the findings store for. */
export interface ListFindingsOptions {
  readonly subscriptionId?: string;
  readonly status?: FindingStatus;
  readonly principalId?: string;
  readonly assignmentId?: string;
  /** Findings seen at or after this time (ISO 8601, on lastSeen). */
  readonly seenSince?: string;
  /** Findings first seen before this time (ISO 8601, on firstSeen). */
  readonly firstSeenBefore?: string;
  /** Findings whose state change is not yet turned into alert deliveries. */
  readonly alertPending?: boolean;
}

/** What grantguard last learned about one role assignment from its events, kept beside its findings. */
export interface AssignmentState {
  /** The latest event time judged for the assignment. */
  readonly lastEventTime: string;
  /** The event time of the latest delete, or null: a write that happened before it cannot reopen anything. */
  readonly deletedAt: string | null;
}

/**
 * Everything stored about one role assignment, read together so that it can be rewritten
 * conditionally: `versions` holds what the store needs to notice a concurrent change (ETags).
 */
export interface AssignmentRecord {
  readonly assignmentId: string;
  readonly state: AssignmentState | null;
  readonly findings: readonly Finding[];
  readonly versions: ReadonlyMap<string, string>;
}

/** Every finding of one partition (a subscription, `mg-{name}` or `root`), read so that it can be rewritten conditionally. */
export interface PartitionRecord {
  readonly partition: string;
  readonly findings: readonly Finding[];
  /** The version (ETag) of each finding row, by finding id. */
  readonly versions: ReadonlyMap<string, string>;
}

/** Where findings live. Ids are deterministic; every judgement of an assignment is a conditional commit. */
export interface FindingsStore {
  list(options?: ListFindingsOptions): Promise<Finding[]>;
  /** The assignment's state and findings (its id compared without case, as Azure does). */
  read(assignmentId: string): Promise<AssignmentRecord>;
  /**
   * Writes the new state and the findings that changed, in one transaction, only if nothing was
   * written for the assignment since `record` was read. False when something was: read and judge again.
   * Every state change is promised to the audit trail in the same transaction, by `actor` when a person made it.
   */
  commit(record: AssignmentRecord, change: { readonly state: AssignmentState; readonly findings: readonly Finding[]; readonly actor?: string }): Promise<boolean>;
  /**
   * The outbox: stored findings with a state change to announce, as stored now (what the outbox
   * sends is never a copy a concurrent judgement has since replaced). With `assignmentIds`, only
   * those assignments' (a few range reads); without, every partition's (the timer's round: the
   * partitions that hold findings, then one range read of pending markers in each, never a scan
   * of the findings). At most `limit`.
   */
  listPendingAlerts(options?: ListPendingAlertsOptions): Promise<PendingAlert[]>;
  /**
   * Claims changes for the caller until `until`, each only if it is still at the version read: of
   * instances claiming one change at once, one succeeds. While claimed, no one else sends it; the
   * claim outlives a rewrite of the same change. Returns the changes claimed.
   */
  claimAlerts(pending: readonly PendingAlert[], until: Date): Promise<PendingAlert[]>;
  /**
   * Marks changes as handed to the outbox (their deliveries are recorded), each only while it is
   * still its finding's pending change (a newer change stays pending); one transaction per
   * partition where it can. Returns the ids of the findings cleared.
   */
  clearAlertsPending(pending: readonly PendingAlert[]): Promise<ReadonlySet<string>>;
  /** Every finding of one partition (not the assignment state rows), with their versions (and their outbox markers'). */
  readPartition(partition: string): Promise<PartitionRecord>;
  /**
   * Writes these findings of the partition (the caller passes only what changed), each conditional
   * on the version read (or on not existing yet), with their outbox markers, in transactions of at
   * most 100. False when some row was written meanwhile: the transactions before it stand, read the
   * partition and reconcile again.
   */
  commitPartition(record: PartitionRecord, findings: readonly Finding[], options?: CommitOptions): Promise<boolean>;
  /** The partitions that hold (or held) findings, from the partition index: what a sweep must revisit even when the tenant no longer has them. */
  listPartitions(): Promise<string[]>;
}

/** Who makes a change (a person's UPN and object id), recorded in the audit trail; grantguard itself when absent. */
export interface CommitOptions {
  readonly actor?: string;
}

/** Which pending state changes to list. */
export interface ListPendingAlertsOptions {
  /** Only these assignments' (ids compared without case). */
  readonly assignmentIds?: readonly string[];
  /** At most this many (a round's cap). */
  readonly limit?: number;
}

/** A stored finding with a state change to announce, the version it was read at, and when it was written. */
export interface PendingAlert {
  readonly finding: Finding;
  readonly version: string;
  readonly writtenAt: Date;
  /** Until when an instance has claimed it to send it (null: never claimed); past that time, the instance is taken to have died. */
  readonly claimedUntil: Date | null;
  /**
   * True when some of its deliveries may be recorded already: it was claimed before (by an
   * instance that died or is late), or it is the same change stored again after it was handed over.
   */
  readonly mayBeRecorded: boolean;
}

/** The ledger of delivered events and what grantguard did with each. */
export interface EventLedger {
  record(entry: EventRecord): Promise<void>;
  list(options?: { readonly outcome?: EventRecord["outcome"] }): Promise<EventRecord[]>;
}

/** The state after judging an event at `eventTime` (a delete when `deleted`). */
export function nextState(previous: AssignmentState | null, eventTime: string, deleted: boolean): AssignmentState {
  const last = previous && previous.lastEventTime > eventTime ? previous.lastEventTime : eventTime;
  const deletedAt = deleted ? (previous?.deletedAt && previous.deletedAt > eventTime ? previous.deletedAt : eventTime) : (previous?.deletedAt ?? null);
  return { lastEventTime: last, deletedAt };
}

/** The retry loop of an optimistic write: `attempt` returns a result, or undefined after losing a race. */
export async function retryOnConflict<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const result = await attempt();
    if (result !== undefined) return result;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (i + 1)));
  }
  throw new ConcurrentChangeError(`${what} kept changing under ${MAX_TRIES} concurrent writers; the delivery is retried`);
}
