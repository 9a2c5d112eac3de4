import type { EventRecord, Finding, FindingStatus } from "../model/finding.js";

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
}

/** Where findings live. `upsert` writes in transactions per partition; ids are deterministic. */
export interface FindingsStore {
  list(options?: ListFindingsOptions): Promise<Finding[]>;
  upsert(findings: readonly Finding[]): Promise<void>;
}

/** The ledger of delivered events and what grantguard did with each. */
export interface EventLedger {
  record(entry: EventRecord): Promise<void>;
  list(options?: { readonly outcome?: EventRecord["outcome"] }): Promise<EventRecord[]>;
}
