import type { TenantSnapshot } from "../shared/model/snapshot.js";
import type { AzureSimulator } from "./simulator/server.js";
import { securityAdminOf } from "./commandLine.js";
import { GRANTGUARD_API_CLIENT_ID } from "./localAzure.js";

/** A demo user of the local sign-in: who, and the grantguard app roles they hold. */
export interface DemoUser {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly roles: readonly string[];
}

/** The three demo users of the findings page: an auditor, a security admin, and someone with no grantguard role. */
export interface DemoUsers {
  readonly auditor: DemoUser;
  readonly securityAdmin: DemoUser;
  readonly noRole: DemoUser;
}

/**
 * Picks the demo users from a tenant snapshot: the security admin is the one the command line acts
 * as (an enabled member who may write role assignments); the auditor and the user without a role are
 * the first other enabled users, members before guests. Null when the tenant has too few users.
 */
export function demoUsersOf(snapshot: TenantSnapshot): DemoUsers | null {
  const admin = securityAdminOf(snapshot);
  const users = snapshot.principals.flatMap((p) => (p["@odata.type"] === "#microsoft.graph.user" && p.accountEnabled !== false && p.userPrincipalName && p.id.toLowerCase() !== admin?.id.toLowerCase() ? [{ id: p.id, userPrincipalName: p.userPrincipalName, guest: p.userType === "Guest" }] : []));
  const ordered = [...users.filter((u) => !u.guest), ...users.filter((u) => u.guest)];
  const [auditor, noRole] = ordered;
  if (!admin || !auditor || !noRole) return null;
  return {
    auditor: { id: auditor.id, userPrincipalName: auditor.userPrincipalName, roles: ["GrantGuard.Auditor"] },
    securityAdmin: { id: admin.id, userPrincipalName: admin.userPrincipalName, roles: ["GrantGuard.SecurityAdmin"] },
    noRole: { id: noRole.id, userPrincipalName: noRole.userPrincipalName, roles: [] },
  };
}

/**
 * Sets up the local Entra ID for the findings page served at `pageUrl`: grantguard's API
 * registration as a single-page application with that redirect URI, and the demo users' app roles.
 * Returns the demo users and an access token for each (an hour, as Entra ID issues them).
 */
export function setUpPageSignIn(simulator: AzureSimulator, snapshot: TenantSnapshot, pageUrl: string): { readonly users: DemoUsers; readonly tokens: { readonly auditor: string; readonly securityAdmin: string; readonly noRole: string } } | null {
  const users = demoUsersOf(snapshot);
  if (!users) return null;
  simulator.entra.registerSpa(GRANTGUARD_API_CLIENT_ID, pageUrl);
  for (const user of [users.auditor, users.securityAdmin, users.noRole]) simulator.entra.assignAppRoles(GRANTGUARD_API_CLIENT_ID, user.id, user.roles);
  const token = (user: DemoUser) => simulator.entra.issueUserToken({ userId: user.id, audience: GRANTGUARD_API_CLIENT_ID, roles: user.roles });
  return { users, tokens: { auditor: token(users.auditor), securityAdmin: token(users.securityAdmin), noRole: token(users.noRole) } };
}
