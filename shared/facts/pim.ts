import { sameGrant, type PimStatus } from "./context.js";

// Which active assignments PIM made. ARM lists a roleAssignmentScheduleInstance for *every* active
// assignment: one made directly through the roleAssignments API appears as a mirror (Assigned,
// Direct, no end, no linked eligibility), so "an instance exists" proves nothing. What does:
//   - the instance itself: an activation (Activated, or linked to an eligibility schedule), or a
//     time-bound end date (only PIM sets one);
//   - otherwise PIM's own requests: the latest request for the same grant that did not fail is an
//     assign/activate/extend/renew/update (a remove or deactivate means PIM no longer holds it).
// A permanent active assignment made in PIM (AdminAssign, NoExpiration) looks exactly like a
// mirror, so without the requests grantguard cannot tell the two apart: then viaPim is null.

/** What identifies a grant: who holds which role where. */
export interface Grant {
  readonly principalId: string;
  readonly roleDefinitionId: string;
  readonly scope: string;
}

/** A roleAssignmentScheduleInstance, reduced to what the PIM rule reads. */
export interface PimInstanceRecord {
  readonly principalId: string;
  readonly roleDefinitionId: string;
  readonly scope: string;
  readonly endDateTime: string | null;
  readonly assignmentType: string | null;
  readonly memberType: string | null;
  readonly linkedRoleEligibilityScheduleId: string | null;
}

/** A roleAssignmentScheduleRequest, reduced to what the PIM rule reads. */
export interface PimRequestRecord {
  readonly principalId: string;
  readonly roleDefinitionId: string;
  readonly scope: string;
  readonly requestType: string | null;
  readonly status: string | null;
  readonly createdOn: string | null;
}

// RequestType values (RoleAssignmentScheduleRequest.json, 2020-10-01) that leave PIM holding the grant.
const HOLDING_REQUESTS = new Set(["adminassign", "adminupdate", "adminextend", "adminrenew", "selfactivate", "selfextend", "selfrenew"]);
// Status values of a request that changed nothing.
const FAILED_STATUSES = new Set(["denied", "failed", "canceled", "timedout", "invalid", "admindenied", "failedasresourceislocked"]);

const lower = (value: string | null) => value?.toLowerCase() ?? null;

/** True when an instance is an active grant of this principal itself (not through a group or from above). */
function direct(instance: PimInstanceRecord): boolean {
  const memberType = lower(instance.memberType);
  return memberType === null || memberType === "direct";
}

/**
 * What PIM says about an active assignment, from the schedule instances and requests readable at
 * its scope; `null` instances mean PIM cannot be read, `null` requests mean its requests cannot.
 */
export function pimStatusOf(assignment: Grant, instances: readonly PimInstanceRecord[] | null, requests: readonly PimRequestRecord[] | null): PimStatus {
  if (instances === null) return { viaPim: null, permanent: null, assignmentType: null };
  const instance = instances.find((i) => direct(i) && sameGrant(i, assignment));
  const permanent = instance === undefined || instance.endDateTime === null;
  const activated = lower(instance?.assignmentType ?? null) === "activated" || (instance?.linkedRoleEligibilityScheduleId ?? "") !== "";
  if (instance && (activated || instance.endDateTime !== null)) return { viaPim: true, permanent, assignmentType: instance.assignmentType };
  if (requests === null) return { viaPim: null, permanent, assignmentType: null };
  const latest = requests
    .filter((r) => sameGrant(r, assignment) && !FAILED_STATUSES.has(lower(r.status) ?? ""))
    .sort((x, y) => (x.createdOn ?? "").localeCompare(y.createdOn ?? ""))
    .at(-1);
  const holding = latest !== undefined && HOLDING_REQUESTS.has(lower(latest.requestType) ?? "");
  return { viaPim: holding, permanent, assignmentType: holding ? (instance?.assignmentType ?? null) : null };
}

/** Reads a PIM instance in ARM's REST shape (`properties`), or null when it lacks a grant. */
export function pimInstanceFromArm(item: unknown): PimInstanceRecord | null {
  const p = (item as { properties?: Record<string, unknown> } | null)?.properties ?? {};
  const principalId = text(p.principalId);
  const roleDefinitionId = text(p.roleDefinitionId);
  const scope = text(p.scope);
  if (!principalId || !roleDefinitionId || !scope) return null;
  return { principalId, roleDefinitionId, scope, endDateTime: text(p.endDateTime), assignmentType: text(p.assignmentType), memberType: text(p.memberType), linkedRoleEligibilityScheduleId: text(p.linkedRoleEligibilityScheduleId) };
}

/** Reads a PIM request in ARM's REST shape (`properties`), or null when it lacks a grant. */
export function pimRequestFromArm(item: unknown): PimRequestRecord | null {
  const p = (item as { properties?: Record<string, unknown> } | null)?.properties ?? {};
  const principalId = text(p.principalId);
  const roleDefinitionId = text(p.roleDefinitionId);
  const scope = text(p.scope);
  if (!principalId || !roleDefinitionId || !scope) return null;
  return { principalId, roleDefinitionId, scope, requestType: text(p.requestType), status: text(p.status), createdOn: text(p.createdOn) };
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}
