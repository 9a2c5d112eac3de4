import type { Principals } from "./sources.js";
import { GrantGuardError } from "../errors.js";
import type { Principal, RoleAssignment } from "../model/access.js";
import { isForeignGroup } from "./build.js";

// Who an assignment names, as the facts need it. Two things make "Graph says 404" not mean
// "deleted":
//   - a ForeignGroup is a group of another directory: this tenant's Graph cannot know it, so it
//     is never asked (and never reported deleted);
//   - Microsoft Entra replicates new objects with a delay, and ARM accepts an assignment for a
//     principal it has not seen yet when the caller names its principalType (azure-docs
//     role-based-access-control/role-assignments-template.md, "New service principal"). So a
//     miss is retried a few times with back-off; and when the assignment is younger than the
//     replication window, a miss fails the invocation (PrincipalNotReplicatedError) so Event
//     Grid redelivers the event later, instead of recording a live identity as deleted.

/** Graph does not know the principal of an assignment made moments ago: judge it later, when Graph has caught up. */
export class PrincipalNotReplicatedError extends GrantGuardError {}

/** How hard to look before calling a principal deleted. */
export interface PrincipalLookupOptions {
  readonly now: () => Date;
  /** Waits between a miss and the next read (default 250, 500, 1000 ms). */
  readonly retryDelaysMs?: readonly number[];
  /** An assignment younger than this is never judged with a missing principal (default 15 minutes). */
  readonly replicationWindowMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_PRINCIPAL_RETRY_DELAYS_MS = [250, 500, 1000] as const;
export const DEFAULT_REPLICATION_WINDOW_MS = 15 * 60_000;

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The principal the assignment names, or null when it is a ForeignGroup (not a directory object
 * here) or Graph still does not know it after the retries and the assignment is old enough for
 * that to mean "deleted". Throws PrincipalNotReplicatedError for a brand-new assignment whose
 * principal Graph does not show yet.
 */
export async function lookupPrincipal(principals: Principals, assignment: RoleAssignment, options: PrincipalLookupOptions): Promise<Principal | null> {
  if (isForeignGroup(assignment.principalType)) return null;
  const sleep = options.sleep ?? wait;
  let found = await principals.getById(assignment.principalId);
  for (const delayMs of options.retryDelaysMs ?? DEFAULT_PRINCIPAL_RETRY_DELAYS_MS) {
    if (found) break;
    await sleep(delayMs);
    found = await principals.getById(assignment.principalId);
  }
  if (found) return found;
  const createdAt = Date.parse(assignment.createdOn ?? "");
  const windowMs = options.replicationWindowMs ?? DEFAULT_REPLICATION_WINDOW_MS;
  // A creation time ahead of our clock (skew) counts as recent too.
  if (Number.isFinite(createdAt) && options.now().getTime() - createdAt < windowMs) {
    throw new PrincipalNotReplicatedError(
      `Microsoft Graph does not know principal ${assignment.principalId} yet, and assignment ${assignment.id} was created at ${assignment.createdOn}: ` +
        `a new principal can take a while to replicate, so the event is left for Event Grid to redeliver rather than recording a deleted principal`,
    );
  }
  return null;
}
