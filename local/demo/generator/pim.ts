import type { AssignmentMeta, Assignments } from "./assignments.js";
import type { Directory } from "./directory.js";
import { mgScope, ROOT_MG, subScope } from "./layout.js";
import type { People } from "./people.js";
import type { SeededRandom } from "./random.js";
import { ROLE, roleDefinitionIdFor } from "./roles.js";
import { ago, ahead } from "./time.js";

// PIM's records in ARM's shape: eligibility schedules, the requests PIM was given, and the
// schedule instance ARM lists for every active assignment (a mirror for one made directly).

const prefixOf = (scope: string) => (scope === "/" ? "" : scope);

/** PIM's records of the tenant. */
export interface PimRecords {
  readonly roleEligibilitySchedules: object[];
  readonly roleAssignmentScheduleInstances: object[];
  readonly roleAssignmentScheduleRequests: object[];
}

/** Makes PIM's eligibilities, the requests behind the three PIM-made Owners, and an instance for every assignment. */
export function pimRecords(random: SeededRandom, directory: Directory, people: People, assignments: Assignments): PimRecords {
  const { priya, marcus, sofia, daniel, G } = people;
  const { assignmentMeta, pimOwners } = assignments;
  const roleEligibilitySchedules: object[] = [];
  const roleAssignmentScheduleInstances: object[] = [];
  const roleAssignmentScheduleRequests: object[] = [];

  function eligibility(principalId: string, scope: string, roleGuid: string, startDaysAgo: number, endInDays: number | null): string {
    const name = random.guid();
    const id = `${scope}/providers/Microsoft.Authorization/roleEligibilitySchedules/${name}`;
    roleEligibilitySchedules.push({
      id,
      name,
      type: "Microsoft.Authorization/roleEligibilitySchedules",
      properties: {
        scope,
        roleDefinitionId: roleDefinitionIdFor(roleGuid, scope),
        principalId,
        principalType: directory.typeOf(principalId),
        roleEligibilityScheduleRequestId: `${scope}/providers/Microsoft.Authorization/roleEligibilityScheduleRequests/${random.guid()}`,
        memberType: "Direct",
        status: "Provisioned",
        startDateTime: ago(startDaysAgo),
        endDateTime: endInDays === null ? null : ahead(endInDays),
        condition: null,
        conditionVersion: null,
        createdOn: ago(startDaysAgo),
        updatedOn: ago(startDaysAgo),
      },
    });
    return id;
  }

  /** The instance ARM lists for an active assignment; a mirror (no schedule of PIM's) for a direct one. */
  function instanceOf(meta: AssignmentMeta, scheduleId: string, assignmentType: "Assigned" | "Activated", endDateTime: string | null, linkedEligibilityId: string | null): object {
    return {
      id: `${prefixOf(meta.scope)}/providers/Microsoft.Authorization/roleAssignmentScheduleInstances/${meta.name}`,
      name: meta.name,
      type: "Microsoft.Authorization/roleAssignmentScheduleInstances",
      properties: {
        scope: meta.scope,
        roleDefinitionId: roleDefinitionIdFor(meta.roleGuid, meta.scope),
        principalId: meta.principalId,
        principalType: meta.principalType,
        roleAssignmentScheduleId: scheduleId,
        originRoleAssignmentId: `${prefixOf(meta.scope)}/providers/Microsoft.Authorization/roleAssignments/${meta.name}`,
        status: "Provisioned",
        startDateTime: meta.createdOn,
        endDateTime,
        ...(linkedEligibilityId
          ? { linkedRoleEligibilityScheduleId: linkedEligibilityId, linkedRoleEligibilityScheduleInstanceId: linkedEligibilityId.replace("roleEligibilitySchedules", "roleEligibilityScheduleInstances") }
          : {}),
        assignmentType,
        memberType: "Direct",
        condition: null,
        conditionVersion: null,
        createdOn: meta.createdOn,
      },
    };
  }

  /** An assignment PIM made: the request it was given (SelfActivate or AdminAssign) and the instance it made. */
  function pimMade(meta: AssignmentMeta, requestType: "AdminAssign" | "SelfActivate", endDateTime: string | null, linkedEligibilityId: string | null, requestorId: string): void {
    const scheduleId = `${prefixOf(meta.scope)}/providers/Microsoft.Authorization/roleAssignmentSchedules/${random.guid()}`;
    const requestName = random.guid();
    roleAssignmentScheduleRequests.push({
      id: `${prefixOf(meta.scope)}/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/${requestName}`,
      name: requestName,
      type: "Microsoft.Authorization/roleAssignmentScheduleRequests",
      properties: {
        scope: meta.scope,
        roleDefinitionId: roleDefinitionIdFor(meta.roleGuid, meta.scope),
        principalId: meta.principalId,
        principalType: meta.principalType,
        requestType,
        status: "Provisioned",
        approvalId: null,
        targetRoleAssignmentScheduleId: scheduleId,
        targetRoleAssignmentScheduleInstanceId: null,
        scheduleInfo: {
          startDateTime: meta.createdOn,
          expiration: endDateTime === null ? { type: "NoExpiration", endDateTime: null, duration: null } : { type: "AfterDateTime", endDateTime, duration: null },
        },
        linkedRoleEligibilityScheduleId: linkedEligibilityId,
        justification: requestType === "SelfActivate" ? "Production change CHG-2211" : "Standing owner approved by the CISO",
        ticketInfo: { ticketNumber: null, ticketSystem: null },
        condition: null,
        conditionVersion: null,
        createdOn: meta.createdOn,
        requestorId,
      },
    });
    roleAssignmentScheduleInstances.push(instanceOf(meta, scheduleId, requestType === "SelfActivate" ? "Activated" : "Assigned", endDateTime, linkedEligibilityId));
  }

  const [pimMarcus, pimDaniel, pimSofia] = pimOwners as [AssignmentMeta, AssignmentMeta, AssignmentMeta];
  const marcusElig = eligibility(marcus.id, subScope("prod"), ROLE.owner, 240, 125);
  pimMade(pimMarcus, "SelfActivate", new Date(Date.parse(pimMarcus.createdOn) + 8 * 3600_000).toISOString(), marcusElig, marcus.id);
  pimMade(pimDaniel, "AdminAssign", ahead(120), null, priya.id);
  // A permanent active assignment made in PIM: its instance looks exactly like a direct
  // assignment's mirror; only PIM's request says PIM made it.
  pimMade(pimSofia, "AdminAssign", null, null, priya.id);
  eligibility(priya.id, subScope("shared"), ROLE.owner, 300, 65);
  eligibility(daniel.id, subScope("stg"), ROLE.owner, 180, 185);
  eligibility(G("sg-sre-oncall").id, subScope("prod"), ROLE.contributor, 400, null);
  eligibility(sofia.id, mgScope(ROOT_MG), ROLE.uaa, 90, 275);

  // ARM lists a mirror instance for every assignment made directly (no PIM request behind it):
  // Assigned, Direct, no end, no linked eligibility, its schedule named after the assignment.
  const pimMadeNames = new Set(pimOwners.map((m) => m.name));
  for (const meta of assignmentMeta) {
    if (pimMadeNames.has(meta.name)) continue;
    roleAssignmentScheduleInstances.push(instanceOf(meta, `${prefixOf(meta.scope)}/providers/Microsoft.Authorization/roleAssignmentSchedules/${meta.name}`, "Assigned", null, null));
  }

  return { roleEligibilitySchedules, roleAssignmentScheduleInstances, roleAssignmentScheduleRequests };
}
