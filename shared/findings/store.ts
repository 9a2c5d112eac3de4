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
  /** Findings whose state change is not yet turned into alert deliveries. */
  readonly alertPending?: boolean;
}

/** Where findings live. `upsert` writes in transactions per partition; ids are deterministic. */
export interface FindingsStore {
  list(options?: ListFindingsOptions): Promise<Finding[]>;
  upsert(findings: readonly Finding[]): Promise<void>;
  /**
   * Marks the finding's state change as handed to the alert outbox, only if the stored finding
   * still announces that same change (a newer change stays pending). False when it changed.
   */
  clearAlertPending(finding: Finding): Promise<boolean>;
}

/** The ledger of delivered events and what grantguard did with each. */
export interface EventLedger {
  record(entry: EventRecord): Promise<void>;
  list(options?: { readonly outcome?: EventRecord["outcome"] }): Promise<EventRecord[]>;
}
