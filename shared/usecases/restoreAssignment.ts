import type { RoleAssignmentWriter } from "../response/writer.js";
import { ConflictError, NotFoundError } from "../errors.js";
import type { Breaker, Revocation, RevocationStore } from "../response/revocations.js";
import { ARMED } from "../response/revocations.js";

/** No revocation has that id. */
export class RevocationNotFoundError extends NotFoundError {}

/** Who asks, and why: recorded on the revocation. */
export interface RestoreRequest {
  readonly reason: string;
  readonly requestedBy: string;
}

/**
 * Recreates a revoked assignment from its backup with the same name and properties, using the
 * writer it is given (the caller's own credentials). Idempotent: restoring twice changes nothing.
 */
export async function restoreAssignment(deps: { revocations: RevocationStore; writer: RoleAssignmentWriter; now: () => Date }, id: string, request: RestoreRequest): Promise<{ readonly status: "restored" | "alreadyRestored"; readonly revocation: Revocation }> {
  if (request.reason.trim().length < 10) throw new RangeError("say why the assignment comes back (--reason, 10 characters at least): it is recorded");
  const revocation = await deps.revocations.get(id);
  if (!revocation) throw new RevocationNotFoundError(`no revocation '${id}' (npx grantguard revocations list shows them)`);
  if (revocation.status === "restored") return { status: "alreadyRestored", revocation };
  if (revocation.status === "blocked" || revocation.status === "failed") throw new ConflictError(`revocation ${id} was ${revocation.status}: nothing was deleted, so there is nothing to restore`);
  // The intent is recorded before ARM re-creates the assignment: the write event that re-creation
  // causes finds it and does not revoke the assignment again, even if this process dies now.
  const intent = await deps.revocations.transition(id, ["pending", "deleted", "restoring"], (r) => ({ ...r, status: "restoring", restoreRequestedAt: r.restoreRequestedAt ?? deps.now().toISOString(), restoredBy: request.requestedBy, restoreReason: request.reason.trim() }));
  if (!intent?.changed) return restoreAssignment(deps, id, request); // moved meanwhile: decide on what is stored now
  await deps.writer.create(revocation.scope, revocation.assignmentName, revocation);
  const done = await deps.revocations.transition(id, ["restoring"], (r) => ({ ...r, status: "restored", restoredAt: deps.now().toISOString() }));
  return { status: "restored", revocation: done?.revocation ?? intent.revocation };
}

/** Re-arms revocation after the blast-radius cap tripped; records who and why. */
export async function rearmRevocation(deps: { revocations: RevocationStore; now: () => Date }, request: RestoreRequest): Promise<{ readonly wasTripped: boolean; readonly breaker: Breaker }> {
  if (request.reason.trim().length < 10) throw new RangeError("say why revocation is safe again (--reason, 10 characters at least): it is recorded");
  const rearmedAt = deps.now().toISOString();
  return deps.revocations.updateBreaker((current) => {
    // Re-arming starts the cap's window afresh.
    const breaker: Breaker = { ...ARMED, rearmedAt, rearmedBy: request.requestedBy, rearmReason: request.reason.trim() };
    return { next: breaker, result: { wasTripped: current.tripped, breaker } };
  });
}
