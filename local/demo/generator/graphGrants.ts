import { FIXED } from "./layout.js";
import { ago } from "./time.js";

// The Microsoft Graph application permissions grantguard's identity holds in the demo tenant, as
// `GET /servicePrincipals/{id}/appRoleAssignments` returns them: what infra/scripts/
// graph-permissions.sh grants in a real tenant, so `grantguard doctor` passes against npm start.
// Fixed, not drawn from the seeded stream: adding them changes nothing else in the tenant.

/** Microsoft Graph's service principal in the demo tenant (the resource of the grants). */
const MICROSOFT_GRAPH_SP = "0f3a7c2e-5b9d-4e1a-8c6f-2d4b6e8a0c13";

/** Application permissions by id (Microsoft Graph permissions reference). */
const PERMISSIONS = [
  ["df021288-bdef-4463-88db-98f22de89214", "q2Vq7V3oRk2zXh0b1jv5aA"], // User.Read.All
  ["9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "q2Vq7V3oRk2zXh0b1jv5aB"], // Application.Read.All
  ["98830695-27a2-44f7-8c18-0c3ebc9698f6", "q2Vq7V3oRk2zXh0b1jv5aC"], // GroupMember.Read.All
  ["b0afded3-3588-46d8-8b3d-9842eff778da", "q2Vq7V3oRk2zXh0b1jv5aD"], // AuditLog.Read.All
] as const;

/** grantguard's Graph app role assignments, in Graph's appRoleAssignment shape. */
export function graphGrants(): object[] {
  return PERMISSIONS.map(([appRoleId, id]) => ({
    id,
    deletedDateTime: null,
    appRoleId,
    createdDateTime: ago(120),
    principalDisplayName: "id-grantguard",
    principalId: FIXED.grantguard.id,
    principalType: "ServicePrincipal",
    resourceDisplayName: "Microsoft Graph",
    resourceId: MICROSOFT_GRAPH_SP,
  }));
}
