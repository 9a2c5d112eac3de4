import type { Assignments } from "./assignments.js";
import type { Directory, PrincipalInfo } from "./directory.js";
import { APP, ARM_RESOURCE, FIXED, KV_RESOURCE, managementGroupDefs, STORAGE_RESOURCE, SUB_KEYS, SUBS, subScope, TENANT_ID, type SubKey } from "./layout.js";
import type { People } from "./people.js";
import type { SeededRandom } from "./random.js";
import { ROLE, roleDefinitionIdFor } from "./roles.js";
import { agoBetween, daysAgo } from "./time.js";

// Log Analytics rows with its column names: interactive sign-ins of users, sign-ins of
// applications and managed identities, and AzureActivity for recent role-assignment writes,
// each table sorted by time.

const FAIL_CODES = ["50126", "50074", "53003"];

/** The Log Analytics tables of the tenant. */
export interface Logs {
  readonly SigninLogs: object[];
  readonly AADServicePrincipalSignInLogs: object[];
  readonly AADManagedIdentitySignInLogs: object[];
  readonly AzureActivity: object[];
}

/** Makes the tenant's sign-in and activity logs. */
export function generateLogs(random: SeededRandom, directory: Directory, people: People, assignments: Assignments): Logs {
  const { alice, bob, globalAdmin, formerAdmin, ADMINS, members, guests, disabled, sp } = people;
  const { assignmentMeta, humanPool } = assignments;
  const SigninLogs: object[] = [];
  const AADServicePrincipalSignInLogs: object[] = [];
  const AADManagedIdentitySignInLogs: object[] = [];
  const AzureActivity: object[] = [];

  function userSignIns(p: PrincipalInfo, guestUser: boolean): void {
    // Activity profile: active / stale (nothing in the last 90 days) / never seen in the window.
    let profile: "active" | "stale" | "none";
    if (p.id === FIXED.formerAdmin) profile = "stale";
    else if (p.kind === "disabled") profile = random.chance(0.5) ? "stale" : "none";
    else if (p.id === alice.id || p.id === bob.id || p.id === FIXED.devContractor || ADMINS.includes(p)) profile = "active";
    else profile = random.weighted<"active" | "stale" | "none">([
      ["active", 76],
      ["stale", 14],
      ["none", 10],
    ]);
    if (profile === "none") return;
    const createdAgo = p.createdDateTime ? daysAgo(p.createdDateTime) : 1000;
    const windowMax = Math.min(120, createdAgo);
    const minAgo = profile === "stale" ? 91 : 0.05;
    if (windowMax <= minAgo) return;
    const count = profile === "stale" ? random.int(1, 3) : random.int(3, ADMINS.includes(p) ? 14 : 9);
    for (let i = 0; i < count; i++) {
      const app = random.weighted<{ id: string; name: string }>([
        [APP.azurePortal, 6],
        [APP.azureCli, 3],
        [APP.azurePowerShell, 1],
      ]);
      const failed = random.chance(0.05);
      SigninLogs.push({
        TimeGenerated: agoBetween(random, minAgo, windowMax),
        UserId: p.id,
        UserPrincipalName: p.upn,
        UserDisplayName: p.displayName,
        UserType: guestUser ? "Guest" : "Member",
        AppId: app.id,
        AppDisplayName: app.name,
        ResourceIdentity: ARM_RESOURCE.id,
        ResourceDisplayName: ARM_RESOURCE.name,
        ResultType: failed ? random.pick(FAIL_CODES) : "0",
        IPAddress: random.chance(0.85) ? p.homeIp : directory.docIp(),
        CorrelationId: random.guid(),
      });
    }
  }
  for (const m of members) userSignIns(m, false);
  for (const g of guests) userSignIns(g, true);
  for (const d of disabled) userSignIns(d, false);

  const appSps = Object.values(sp);
  for (const s of appSps) {
    const profile =
      s === sp.legacyEtl || s === sp.aksDevLegacy ? "none" : s === sp.qaRunner ? "stale" : "active";
    if (profile === "none") continue;
    const n = profile === "stale" ? 2 : random.int(4, 10);
    const keyId = s.keyIds && s.keyIds.length > 0 ? s.keyIds[s.keyIds.length - 1]! : null;
    for (let i = 0; i < n; i++) {
      AADServicePrincipalSignInLogs.push({
        TimeGenerated: profile === "stale" ? agoBetween(random, 95, 120) : agoBetween(random, 0.05, 90),
        ServicePrincipalId: s.id,
        ServicePrincipalName: s.displayName,
        AppId: s.appId,
        ResourceIdentity: ARM_RESOURCE.id,
        ResourceDisplayName: ARM_RESOURCE.name,
        ResultType: random.chance(0.04) ? "7000215" : "0",
        ServicePrincipalCredentialKeyId: keyId,
        FederatedCredentialId: null,
        IPAddress: s.homeIp,
        CorrelationId: random.guid(),
      });
    }
  }

  const miPrincipals = [...directory.info.values()].filter((p) => p.kind === "systemMI" || p.kind === "userMI");
  for (const m of miPrincipals) {
    const idle = m.displayName === "id-orders-dev" || m.displayName === "vm-sandbox-dev-01" || m.displayName === "id-backup-automation";
    if (idle) continue;
    const isGrantguard = m.id === FIXED.grantguard.id;
    const n = isGrantguard ? 30 : random.int(3, 9);
    for (let i = 0; i < n; i++) {
      const target = isGrantguard ? ARM_RESOURCE : random.pick([ARM_RESOURCE, KV_RESOURCE, STORAGE_RESOURCE]);
      AADManagedIdentitySignInLogs.push({
        TimeGenerated: isGrantguard ? agoBetween(random, 0.01, 41) : agoBetween(random, 0.05, 120),
        ServicePrincipalId: m.id,
        ServicePrincipalName: m.displayName,
        AppId: m.appId,
        ResourceIdentity: target.id,
        ResourceDisplayName: target.name,
        ResultType: "0",
        CorrelationId: random.guid(),
      });
    }
  }

  // AzureActivity: Start/Success pairs for recent role assignment writes.
  const CALLER_IP = new Map<string, string>();
  for (const a of ADMINS) CALLER_IP.set(a.id, a.homeIp!);
  CALLER_IP.set(globalAdmin.id, globalAdmin.homeIp!);
  CALLER_IP.set(formerAdmin.id, formerAdmin.homeIp!);
  /** Management group names from the tenant root down to `name`. */
  function mgChain(name: string): string[] {
    const chain: string[] = [];
    let cur: string | null = name;
    while (cur !== null) {
      chain.unshift(cur);
      cur = managementGroupDefs.find((m) => m.name === cur)!.parent;
    }
    return chain;
  }
  function callerOf(id: string): string {
    const p = directory.info.get(id);
    return p?.upn ?? id;
  }
  function activityPair(opts: {
    scope: string;
    assignmentName: string;
    roleGuid: string;
    principalId: string;
    principalType: string;
    callerId: string;
    time: string;
    status: "Success" | "Failed";
    ip: string;
    sub: string | null;
  }): void {
    const correlationId = random.guid();
    const scopePrefix = opts.scope === "/" ? "" : opts.scope;
    const resourceId = `${scopePrefix}/providers/Microsoft.Authorization/roleAssignments/${opts.assignmentName}`;
    const roleDefinitionId = roleDefinitionIdFor(opts.roleGuid, opts.scope);
    const requestbody = JSON.stringify({
      Id: opts.assignmentName,
      Properties: {
        PrincipalId: opts.principalId,
        PrincipalType: opts.principalType,
        RoleDefinitionId: roleDefinitionId,
        Scope: opts.scope,
        Condition: null,
        ConditionVersion: null,
      },
    });
    const caller = callerOf(opts.callerId);
    const hierarchy = opts.sub ? [...mgChain(SUBS[opts.sub as SubKey].mg), SUBS[opts.sub as SubKey].id].join("/") : TENANT_ID;
    const base = {
      OperationNameValue: "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
      OperationName: "Create role assignment",
      CategoryValue: "Administrative",
      Caller: caller,
      CallerIpAddress: opts.ip,
      CorrelationId: correlationId,
      _ResourceId: resourceId.toLowerCase(),
      SubscriptionId: opts.sub ? SUBS[opts.sub as SubKey].id : "",
      ResourceProviderValue: "MICROSOFT.AUTHORIZATION",
      Level: "Informational",
    };
    const startMs = Date.parse(opts.time);
    AzureActivity.push({
      TimeGenerated: new Date(startMs).toISOString(),
      ...base,
      ActivityStatusValue: "Start",
      ActivitySubstatusValue: "",
      Properties_d: {
        eventCategory: "Administrative",
        entity: resourceId,
        message: "Microsoft.Authorization/roleAssignments/write",
        hierarchy,
        requestbody,
      },
    });
    AzureActivity.push({
      TimeGenerated: new Date(startMs + random.int(800, 4000)).toISOString(),
      ...base,
      ActivityStatusValue: opts.status,
      ActivitySubstatusValue: opts.status === "Success" ? "Created" : "Forbidden",
      Properties_d:
        opts.status === "Success"
          ? {
              eventCategory: "Administrative",
              entity: resourceId,
              message: "Microsoft.Authorization/roleAssignments/write",
              hierarchy,
              statusCode: "Created",
              serviceRequestId: random.guid(),
              responseBody: JSON.stringify({
                properties: {
                  roleDefinitionId,
                  principalId: opts.principalId,
                  principalType: opts.principalType,
                  scope: opts.scope,
                  condition: null,
                  conditionVersion: null,
                  createdOn: new Date(startMs + 500).toISOString(),
                  updatedOn: new Date(startMs + 500).toISOString(),
                  createdBy: null,
                  updatedBy: opts.callerId,
                  delegatedManagedIdentityResourceId: null,
                  description: null,
                },
                id: resourceId,
                type: "Microsoft.Authorization/roleAssignments",
                name: opts.assignmentName,
              }),
            }
          : {
              eventCategory: "Administrative",
              entity: resourceId,
              message: "Microsoft.Authorization/roleAssignments/write",
              hierarchy,
              statusCode: "Forbidden",
              serviceRequestId: random.guid(),
            },
    });
  }

  const recent = assignmentMeta
    .filter((m) => daysAgo(m.createdOn) <= 90)
    .sort((a, b) => Date.parse(b.createdOn) - Date.parse(a.createdOn))
    .slice(0, 47);
  for (const m of recent) {
    const t = new Date(Date.parse(m.createdOn) - 600).toISOString();
    activityPair({
      scope: m.scope,
      assignmentName: m.name,
      roleGuid: m.roleGuid,
      principalId: m.principalId,
      principalType: m.principalType,
      callerId: m.createdBy,
      time: t,
      status: "Success",
      ip: CALLER_IP.get(m.createdBy) ?? directory.info.get(m.createdBy)?.homeIp ?? directory.docIp(),
      sub: m.sub,
    });
  }
  // Three denied attempts (no assignment was created).
  for (let i = 0; i < 3; i++) {
    const caller = random.pick(humanPool.slice(20, 60));
    const k = random.pick(SUB_KEYS);
    activityPair({
      scope: subScope(k),
      assignmentName: random.guid(),
      roleGuid: ROLE.owner,
      principalId: caller.id,
      principalType: "User",
      callerId: caller.id,
      time: agoBetween(random, 1, 60),
      status: "Failed",
      ip: directory.docIp(),
      sub: k,
    });
  }
  AzureActivity.sort((a, b) => Date.parse((a as { TimeGenerated: string }).TimeGenerated) - Date.parse((b as { TimeGenerated: string }).TimeGenerated));

  const byTime = (a: object, b: object) => Date.parse((a as { TimeGenerated: string }).TimeGenerated) - Date.parse((b as { TimeGenerated: string }).TimeGenerated);
  SigninLogs.sort(byTime);
  AADServicePrincipalSignInLogs.sort(byTime);
  AADManagedIdentitySignInLogs.sort(byTime);

  return { SigninLogs, AADServicePrincipalSignInLogs, AADManagedIdentitySignInLogs, AzureActivity };
}
