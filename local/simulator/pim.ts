import { randomUUID } from "node:crypto";
import type { ArmRoleAssignment } from "../../shared/model/azure.js";
import { ScopeIndex } from "./scopeIndex.js";

// PIM's view of active role assignments, as ARM serves it (see README.md "PIM"):
// roleAssignmentScheduleInstances hold one instance per active assignment, a *mirror* for one made
// directly through the roleAssignments API; roleAssignmentScheduleRequests hold what PIM was asked
// to do (AdminAssign, SelfActivate, …). Objects are kept in ARM's REST shape and served verbatim.

/** A PIM object (instance or request) in ARM's REST shape. */
export type PimObject = {
  id: string;
  name: string;
  type: string;
  properties: Record<string, unknown> & { scope: string; principalId: string; roleDefinitionId: string };
};

const INSTANCE_TYPE = "Microsoft.Authorization/roleAssignmentScheduleInstances";
const REQUEST_TYPE = "Microsoft.Authorization/roleAssignmentScheduleRequests";

const guid = (id: string) => (id.split("/").pop() ?? "").toLowerCase();
const norm = (scope: string) => scope.replace(/\/+$/, "").toLowerCase() || "/";
const prefixOf = (scope: string) => (scope === "/" ? "" : scope);

function isDirect(o: PimObject): boolean {
  const memberType = o.properties.memberType;
  return memberType === undefined || memberType === null || String(memberType).toLowerCase() === "direct";
}

/**
 * The instance ARM lists for an assignment made directly: Assigned, Direct, no end, no linked
 * eligibility, its origin the assignment itself. Its name is the assignment's, as in the spec
 * example GetRoleAssignmentScheduleInstancesByScope.json (an inference for the schedule's name).
 */
export function mirrorInstance(a: ArmRoleAssignment): PimObject {
  const p = a.properties;
  const prefix = prefixOf(p.scope);
  return {
    id: `${prefix}/providers/Microsoft.Authorization/roleAssignmentScheduleInstances/${a.name}`,
    name: a.name,
    type: INSTANCE_TYPE,
    properties: {
      scope: p.scope,
      roleDefinitionId: p.roleDefinitionId,
      principalId: p.principalId,
      principalType: p.principalType,
      roleAssignmentScheduleId: `${prefix}/providers/Microsoft.Authorization/roleAssignmentSchedules/${a.name}`,
      originRoleAssignmentId: a.id,
      status: "Provisioned",
      startDateTime: p.createdOn,
      endDateTime: null,
      assignmentType: "Assigned",
      memberType: "Direct",
      condition: p.condition,
      conditionVersion: p.conditionVersion,
      createdOn: p.createdOn,
    },
  };
}

/** What a PIM-made grant looks like: the request PIM was given, and the instance it made. */
export interface PimGrant {
  readonly requestType: "AdminAssign" | "SelfActivate";
  /** When the grant ends (null: a permanent active assignment, AdminAssign only). */
  readonly endDateTime: string | null;
  /** The eligibility an activation uses (SelfActivate). */
  readonly linkedRoleEligibilityScheduleId?: string | null;
  readonly requestorId: string;
  readonly justification?: string;
}

/** The request and the instance PIM records when it makes an assignment. */
export function pimRecords(a: ArmRoleAssignment, grant: PimGrant): { request: PimObject; instance: PimObject } {
  const p = a.properties;
  const prefix = prefixOf(p.scope);
  const requestName = randomUUID();
  const scheduleId = `${prefix}/providers/Microsoft.Authorization/roleAssignmentSchedules/${randomUUID()}`;
  const linked = grant.linkedRoleEligibilityScheduleId ?? null;
  const request: PimObject = {
    id: `${prefix}/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/${requestName}`,
    name: requestName,
    type: REQUEST_TYPE,
    properties: {
      scope: p.scope,
      roleDefinitionId: p.roleDefinitionId,
      principalId: p.principalId,
      principalType: p.principalType,
      requestType: grant.requestType,
      status: "Provisioned",
      approvalId: null,
      targetRoleAssignmentScheduleId: scheduleId,
      targetRoleAssignmentScheduleInstanceId: null,
      scheduleInfo: {
        startDateTime: p.createdOn,
        expiration: grant.endDateTime === null ? { type: "NoExpiration", endDateTime: null, duration: null } : { type: "AfterDateTime", endDateTime: grant.endDateTime, duration: null },
      },
      linkedRoleEligibilityScheduleId: linked,
      justification: grant.justification ?? null,
      ticketInfo: { ticketNumber: null, ticketSystem: null },
      condition: p.condition,
      conditionVersion: p.conditionVersion,
      createdOn: p.createdOn,
      requestorId: grant.requestorId,
    },
  };
  const instance: PimObject = {
    id: `${prefix}/providers/Microsoft.Authorization/roleAssignmentScheduleInstances/${a.name}`,
    name: a.name,
    type: INSTANCE_TYPE,
    properties: {
      scope: p.scope,
      roleDefinitionId: p.roleDefinitionId,
      principalId: p.principalId,
      principalType: p.principalType,
      roleAssignmentScheduleId: scheduleId,
      originRoleAssignmentId: a.id,
      status: "Provisioned",
      startDateTime: p.createdOn,
      endDateTime: grant.endDateTime,
      ...(linked ? { linkedRoleEligibilityScheduleId: linked, linkedRoleEligibilityScheduleInstanceId: linked.replace(/roleEligibilitySchedules/i, "roleEligibilityScheduleInstances") } : {}),
      assignmentType: grant.requestType === "SelfActivate" ? "Activated" : "Assigned",
      memberType: "Direct",
      condition: p.condition,
      conditionVersion: p.conditionVersion,
      createdOn: p.createdOn,
    },
  };
  return { request, instance };
}

/**
 * PIM's objects in a tenant whose PIM can be read. `requests` is null when a seed snapshot has
 * instances but no requests section: ARM then refuses to list requests (403), as for a caller
 * that may read one and not the other. Both are indexed by scope for ARM's lists, and direct
 * instances by grant, to find an assignment's mirror.
 */
export class PimState {
  readonly instances: PimObject[];
  readonly requests: PimObject[] | null;
  /** The instances by the scope they live at (ARM's list at a scope reads it). */
  readonly instanceIndex = new ScopeIndex<PimObject>((o) => o.properties.scope);
  /** The requests by the scope they live at. */
  readonly requestIndex = new ScopeIndex<PimObject>((o) => o.properties.scope);
  readonly #direct = new Map<string, PimObject[]>();
  #next = 0;

  constructor(instances: readonly unknown[], requests: readonly unknown[] | undefined, assignments: Iterable<ArmRoleAssignment>) {
    this.instances = [];
    for (const i of instances) if (isPimObject(i)) this.#addInstance(structuredClone(i));
    this.requests = requests === undefined ? null : requests.filter(isPimObject).map((r) => structuredClone(r));
    for (const r of this.requests ?? []) this.requestIndex.add(r, this.#next++);
    // An exported tenant lists a mirror for every direct assignment; a hand-written snapshot may
    // not. Either way ARM would serve one, so the missing ones are made here.
    for (const a of assignments) if (!this.#mirrorOf(a)) this.#addInstance(mirrorInstance(a));
  }

  /** A direct write: its mirror appears (or follows the assignment's condition on an update). */
  onWrite(a: ArmRoleAssignment): void {
    const current = this.#mirrorOf(a);
    if (!current) {
      this.#addInstance(mirrorInstance(a));
      return;
    }
    current.properties = { ...current.properties, condition: a.properties.condition, conditionVersion: a.properties.conditionVersion };
  }

  /** A PIM-made write: PIM's request and the instance it made (no mirror). */
  onPimWrite(a: ArmRoleAssignment, grant: PimGrant): void {
    const { request, instance } = pimRecords(a, grant);
    if (this.requests) {
      this.requests.push(request);
      this.requestIndex.add(request, this.#next++);
    }
    this.#addInstance(instance);
  }

  /** A delete: the assignment's active instance goes with it. */
  onDelete(a: ArmRoleAssignment): void {
    const key = grantKey(a.properties);
    const gone = new Set(this.#direct.get(key) ?? []);
    if (gone.size === 0) return;
    this.#direct.delete(key);
    for (const instance of gone) this.instanceIndex.remove(instance);
    for (let i = this.instances.length - 1; i >= 0; i--) if (gone.has(this.instances[i]!)) this.instances.splice(i, 1);
  }

  // The first direct instance of the assignment's grant, in the collection's order.
  #mirrorOf(a: ArmRoleAssignment): PimObject | undefined {
    return this.#direct.get(grantKey(a.properties))?.[0];
  }

  #addInstance(instance: PimObject): void {
    this.instances.push(instance);
    this.instanceIndex.add(instance, this.#next++);
    if (!isDirect(instance)) return;
    const key = grantKey(instance.properties);
    const same = this.#direct.get(key);
    if (same) same.push(instance);
    else this.#direct.set(key, [instance]);
  }
}

/** The grant an object is about: principal, role GUID and scope, as sameGrantAs compares them. */
function grantKey(p: { readonly principalId: string; readonly roleDefinitionId: string; readonly scope: string }): string {
  return `${p.principalId.toLowerCase()}|${guid(p.roleDefinitionId)}|${norm(p.scope)}`;
}

function isPimObject(value: unknown): value is PimObject {
  const o = value as Partial<PimObject> | null;
  const p = o?.properties as Record<string, unknown> | undefined;
  return typeof o?.id === "string" && typeof p?.scope === "string" && typeof p.principalId === "string" && typeof p.roleDefinitionId === "string";
}
