import type { RoleAssignment } from "../model/access.js";

/** How grantguard learned of a grant's start or end: a role-assignment event, or a sweep's listing. */
export type AccessSource = "event" | "sweep";

/**
 * One life of one role assignment: who held which role where, from when until when (null: still
 * held when last seen), who granted it and how each end is known. An assignment deleted and created
 * again under the same name is a new life (a new `createdOn`), so a new interval.
 */
export interface AccessInterval {
  readonly assignmentId: string;
  readonly scope: string;
  readonly principalId: string;
  readonly principalType: string;
  readonly roleDefinitionId: string;
  readonly roleName: string | null;
  /** ARM's createdOn, else the first time grantguard saw it. */
  readonly from: string;
  /** When it ended: the delete event's time, else the first sweep that no longer listed it; null while held. */
  readonly to: string | null;
  readonly grantedBy: string | null;
  readonly openedBy: AccessSource;
  readonly closedBy: AccessSource | null;
  /** The last time grantguard saw it present. */
  readonly lastSeenAt: string;
}

/** What grantguard saw of an assignment present at `at`. */
export interface PresentAssignment {
  readonly assignment: RoleAssignment;
  readonly roleName: string | null;
  readonly grantedBy: string | null;
}

/** Who held access at one time: by principal, or by scope (the scope and below), or both. */
export interface AccessQuery {
  readonly principalId?: string;
  readonly scopePrefix?: string;
  readonly at: string;
}

/** One page of intervals and the token for the next (null at the end). */
export interface AccessPage {
  readonly intervals: AccessInterval[];
  readonly continuationToken: string | null;
}

/**
 * The access history: interval records written by the event path and the sweep, every write
 * conditional and idempotent, so concurrent and repeated deliveries never duplicate an interval.
 */
export interface AccessHistory {
  /** The event path saw the assignment present in ARM at `at` (ISO 8601). */
  recordPresent(present: PresentAssignment, at: string, source: AccessSource): Promise<void>;
  /** A delete event at `at`: the assignment's life that began before it ends then. */
  recordDeleted(assignmentId: string, at: string): Promise<void>;
  /**
   * A sweep listed these assignments (all of one findings partition) at `at`: each is present; every
   * interval of the partition still open that the listing lacks ended by `at`.
   */
  recordSweep(partition: string, present: readonly PresentAssignment[], at: string): Promise<void>;
  /** The intervals that held at `query.at`, one page at a time. */
  queryPage(query: AccessQuery, options: { readonly pageSize: number; readonly continuationToken?: string | null }): Promise<AccessPage>;
}
