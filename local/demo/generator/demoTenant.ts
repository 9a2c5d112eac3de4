import { assignRoles } from "./assignments.js";
import { newDirectory } from "./directory.js";
import { graphGrants } from "./graphGrants.js";
import { LAYOUT_IDS, managementGroups, subscriptions, TENANT_ID } from "./layout.js";
import { generateLogs } from "./logs.js";
import { populatePeople } from "./people.js";
import { pimRecords } from "./pim.js";
import { SeededRandom } from "./random.js";
import { buildResources } from "./resources.js";
import { builtInRoleDefinitions, customRoleDefinitions, ROLE } from "./roles.js";

/** The seed of the demo tenant: another seed, another (equally plausible) tenant. */
const SEED = 0x67a4d2c1;

/** The demo tenant snapshot, in the tenant snapshot format (local/demo/tenant.json). */
export interface DemoTenant {
  readonly tenantId: string;
  readonly managementGroups: readonly object[];
  readonly subscriptions: readonly object[];
  readonly roleDefinitions: readonly object[];
  readonly roleAssignments: readonly object[];
  readonly roleAssignmentScheduleInstances: readonly object[];
  readonly roleAssignmentScheduleRequests: readonly object[];
  readonly roleEligibilitySchedules: readonly object[];
  readonly principals: readonly object[];
  readonly resources: readonly object[];
  readonly logs: Readonly<Record<string, readonly object[]>>;
  /** Microsoft Graph app roles granted to service principals (grantguard's own). */
  readonly appRoleAssignments: readonly object[];
}

/**
 * Generates the demo tenant, the same one every time: one seeded random stream drives every
 * choice and every date counts from a fixed reference time. The stages run in a fixed order
 * (people, resources, assignments, PIM, logs), each drawing from the stream in turn.
 */
export function generateDemoTenant(): DemoTenant {
  const random = new SeededRandom(SEED);
  random.reserve(...LAYOUT_IDS, ...Object.values(ROLE));
  const directory = newDirectory(random);
  const people = populatePeople(random, directory);
  const resources = buildResources(random, directory);
  const assignments = assignRoles(random, directory, people, resources);
  const pim = pimRecords(random, directory, people, assignments);
  const logs = generateLogs(random, directory, people, assignments);
  // Custom roles come last: their authors are people of the directory.
  const customRoles = customRoleDefinitions({ formerAdmin: people.formerAdmin.id, priya: people.priya.id, marcus: people.marcus.id });
  return {
    tenantId: TENANT_ID,
    managementGroups: structuredClone(managementGroups),
    subscriptions: structuredClone(subscriptions),
    roleDefinitions: [...structuredClone(builtInRoleDefinitions), ...customRoles],
    roleAssignments: assignments.roleAssignments,
    roleAssignmentScheduleInstances: pim.roleAssignmentScheduleInstances,
    roleAssignmentScheduleRequests: pim.roleAssignmentScheduleRequests,
    roleEligibilitySchedules: pim.roleEligibilitySchedules,
    principals: directory.principals,
    resources: resources.resources,
    logs: {
      SigninLogs: logs.SigninLogs,
      AADNonInteractiveUserSignInLogs: [],
      AADServicePrincipalSignInLogs: logs.AADServicePrincipalSignInLogs,
      AADManagedIdentitySignInLogs: logs.AADManagedIdentitySignInLogs,
      AzureActivity: logs.AzureActivity,
    },
    appRoleAssignments: graphGrants(),
  };
}
