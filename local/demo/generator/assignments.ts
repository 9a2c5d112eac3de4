import type { Directory, PrincipalInfo } from "./directory.js";
import { FIXED, mgScope, NO_ASSIGNMENTS, rgScope, ROOT_MG, ROOT_SCOPE, SUB_KEYS, SUBS, subOfScope, subScope, type SubKey } from "./layout.js";
import { GROUP_DEFS, type People } from "./people.js";
import type { SeededRandom } from "./random.js";
import { KV, SITE, ST, VM, type Resources } from "./resources.js";
import { ROLE, roleDefinitionIdFor } from "./roles.js";
import { agoBetween, ago, daysAgo } from "./time.js";

// The tenant's role assignments, at every level: the tenant root, management groups,
// subscriptions, resource groups (the bulk) and resources; privileged guests, disabled users,
// broad automation, and assignments whose principals were deleted.

/** What the generator remembers of an assignment it made (for PIM's records and the activity log). */
export interface AssignmentMeta {
  name: string;
  scope: string;
  roleGuid: string;
  principalId: string;
  principalType: string;
  createdOn: string;
  createdBy: string;
  sub: SubKey | null;
}

/** The role assignments in ARM's shape, what the generator remembers of each, the three PIM made, and who may hold roles. */
export interface Assignments {
  readonly roleAssignments: object[];
  readonly assignmentMeta: AssignmentMeta[];
  /** Marcus's activation, Daniel's time-bound and Sofia's permanent Owner of Production and Shared Services. */
  readonly pimOwners: AssignmentMeta[];
  /** Members that may hold roles. */
  readonly humanPool: PrincipalInfo[];
}

/** Makes the tenant's role assignments. */
export function assignRoles(random: SeededRandom, directory: Directory, people: People, resources: Resources): Assignments {
  const { alice, priya, marcus, sofia, daniel, globalAdmin, formerAdmin, ADMINS, members, guests, disabled, G, sp } = people;
  const { resourceIdsBySub, U, MI, res } = resources;
  const roleAssignments: object[] = [];
  const assignmentMeta: AssignmentMeta[] = [];
  const assignmentKeys = new Set<string>();

  /** Creation date: mostly spread over 3 years, ~16% in the last 120 days. Never before the principal existed. */
  function pickCreatedOn(principalId: string, opts?: { minDaysAgo?: number; maxDaysAgo?: number }): string {
    const p = directory.info.get(principalId);
    let max = opts?.maxDaysAgo ?? (random.chance(0.16) ? 120 : 1095);
    const min = opts?.minDaysAgo ?? 1;
    if (p?.createdDateTime) max = Math.min(max, daysAgo(p.createdDateTime) - 0.5);
    if (max <= min) max = min + 0.5;
    return agoBetween(random, min, max);
  }

  // Adds an assignment unless its principal must hold none or already holds the role there.
  function assign(opts: {
    scope: string;
    role: string;
    principal: string;
    principalType?: string;
    createdOn?: string;
    createdBy?: string;
    condition?: string;
    description?: string;
    minDaysAgo?: number;
    maxDaysAgo?: number;
  }): AssignmentMeta | null {
    if (NO_ASSIGNMENTS.has(opts.principal)) return null;
    const key = `${opts.scope.toLowerCase()}|${opts.role}|${opts.principal}`;
    if (assignmentKeys.has(key)) return null;
    assignmentKeys.add(key);
    const name = random.guid();
    const principalType = opts.principalType ?? directory.typeOf(opts.principal);
    const createdOn = opts.createdOn ?? pickCreatedOn(opts.principal, { minDaysAgo: opts.minDaysAgo, maxDaysAgo: opts.maxDaysAgo });
    const updated = random.chance(0.1) ? ago(daysAgo(createdOn) * random.next()) : createdOn;
    const createdBy = opts.createdBy ?? pickCreator(createdOn);
    const scopePrefix = opts.scope === "/" ? "" : opts.scope;
    roleAssignments.push({
      id: `${scopePrefix}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      type: "Microsoft.Authorization/roleAssignments",
      properties: {
        roleDefinitionId: roleDefinitionIdFor(opts.role, opts.scope),
        principalId: opts.principal,
        principalType,
        scope: opts.scope,
        condition: opts.condition ?? null,
        conditionVersion: opts.condition ? "2.0" : null,
        description: opts.description ?? null,
        createdOn,
        updatedOn: updated,
        createdBy,
        updatedBy: updated === createdOn ? createdBy : random.pick(ADMINS).id,
        delegatedManagedIdentityResourceId: null,
      },
    });
    const meta: AssignmentMeta = { name, scope: opts.scope, roleGuid: opts.role, principalId: opts.principal, principalType, createdOn, createdBy, sub: subOfScope(opts.scope) };
    assignmentMeta.push(meta);
    return meta;
  }

  /** Who made a grant: older grants were often made by the now-disabled former admin. */
  function pickCreator(createdOn: string): string {
    const days = daysAgo(createdOn);
    if (days > 400 && random.chance(0.3)) return formerAdmin.id;
    if (random.chance(0.08)) return sp.terraformPlatform.id;
    return random.pick(ADMINS).id;
  }

  // --- tenant root "/" ---
  assign({ scope: ROOT_SCOPE, role: ROLE.uaa, principal: globalAdmin.id, createdBy: globalAdmin.id, maxDaysAgo: 700, minDaysAgo: 400 }); // elevate-access leftover
  assign({ scope: ROOT_SCOPE, role: ROLE.reader, principal: G("sg-secops").id, createdBy: globalAdmin.id });

  // --- management groups ---
  assign({
    scope: mgScope(ROOT_MG),
    role: ROLE.reader,
    principal: FIXED.grantguard.id,
    createdBy: alice.id,
    description: "grantguard governance sweep",
    createdOn: ago(41.3),
  });
  assign({ scope: mgScope(ROOT_MG), role: ROLE.reader, principal: G("sg-azure-readers").id });
  assign({ scope: mgScope(ROOT_MG), role: ROLE.monitoringReader, principal: sp.sentinelConnector.id });
  assign({ scope: mgScope("contoso-platform"), role: ROLE.owner, principal: G("sg-azure-platform-admins").id });
  assign({ scope: mgScope("contoso-platform"), role: ROLE.contributor, principal: sp.terraformPlatform.id });
  assign({ scope: mgScope("contoso-landingzones"), role: ROLE.reader, principal: sp.northwind.id, description: "Vendor monitoring" });
  assign({ scope: mgScope("contoso-landingzones"), role: ROLE.rbacAdmin, principal: priya.id });
  assign({ scope: mgScope("contoso-landingzones"), role: ROLE.contributor, principal: U("deployPipeline").principalId });
  assign({ scope: mgScope("contoso-corp"), role: ROLE.reader, principal: G("sg-finops").id });
  assign({ scope: mgScope("contoso-online"), role: ROLE.reader, principal: G("sg-qa-engineers").id });
  assign({ scope: mgScope("contoso-online"), role: ROLE.contributor, principal: marcus.id });
  const guestPriv = guests.filter((g) => g.id !== FIXED.devContractor);
  assign({ scope: mgScope("contoso-corp"), role: ROLE.owner, principal: guestPriv[0]!.id }); // privileged guest high up

  // --- subscription scope: owners ---
  const disabledPriv = disabled.filter((d) => d.id !== FIXED.formerAdmin);
  const pimOwners: AssignmentMeta[] = [];
  // Production: 5 owners
  assign({ scope: subScope("prod"), role: ROLE.owner, principal: alice.id, createdBy: globalAdmin.id, createdOn: ago(1012.4) });
  assign({ scope: subScope("prod"), role: ROLE.owner, principal: priya.id });
  assign({ scope: subScope("prod"), role: ROLE.owner, principal: G("sg-azure-platform-admins").id });
  pimOwners.push(assign({ scope: subScope("prod"), role: ROLE.owner, principal: marcus.id, createdOn: ago(0.15), createdBy: marcus.id })!); // activated via PIM
  pimOwners.push(assign({ scope: subScope("prod"), role: ROLE.owner, principal: daniel.id, createdOn: ago(62.5) })!); // PIM time-bound assignment
  // Staging: 2 owners (one disabled user)
  assign({ scope: subScope("stg"), role: ROLE.owner, principal: marcus.id });
  assign({ scope: subScope("stg"), role: ROLE.owner, principal: disabledPriv[0]!.id });
  // Development: 3 owners (one guest)
  assign({ scope: subScope("dev"), role: ROLE.owner, principal: daniel.id });
  assign({ scope: subScope("dev"), role: ROLE.owner, principal: guestPriv[1]!.id });
  assign({ scope: subScope("dev"), role: ROLE.owner, principal: members[20]!.id });
  // Shared Services: 3 owners (one SP, one PIM-managed)
  assign({ scope: subScope("shared"), role: ROLE.owner, principal: sp.terraformPlatform.id });
  pimOwners.push(assign({ scope: subScope("shared"), role: ROLE.owner, principal: sofia.id, createdOn: ago(150.2) })!);
  assign({ scope: subScope("shared"), role: ROLE.owner, principal: alice.id, createdBy: globalAdmin.id });

  // --- subscription scope: privileged access administrators ---
  const UAA_CONDITION =
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {ba92f5b4-2d11-453d-a403-e96b0029c9fe}))";
  assign({ scope: subScope("stg"), role: ROLE.uaa, principal: members[30]!.id, condition: UAA_CONDITION, description: "May only grant Storage Blob Data Contributor" });
  assign({ scope: subScope("prod"), role: ROLE.uaa, principal: disabledPriv[1]!.id }); // UAA without condition, held by a disabled user
  assign({ scope: subScope("shared"), role: ROLE.rbacAdmin, principal: G("sg-azure-platform-admins").id });
  assign({ scope: subScope("shared"), role: ROLE.accessDelegator, principal: U("deployPipeline").principalId });
  assign({ scope: subScope("shared"), role: ROLE.accessDelegator, principal: members[35]!.id });
  assign({ scope: subScope("prod"), role: ROLE.platformOperator, principal: G("sg-sre-oncall").id });
  assign({ scope: subScope("prod"), role: ROLE.platformOperator, principal: members[40]!.id });

  // --- subscription scope: automation identities with Contributor ---
  assign({ scope: subScope("prod"), role: ROLE.contributor, principal: U("sharedApps").principalId, description: "Shared app identity" });
  assign({ scope: subScope("prod"), role: ROLE.contributor, principal: sp.ghActionsWeb.id });
  assign({ scope: subScope("prod"), role: ROLE.contributor, principal: MI("vm-app-prod-01").id });
  assign({ scope: subScope("stg"), role: ROLE.contributor, principal: sp.adoRelease.id });
  assign({ scope: subScope("stg"), role: ROLE.contributor, principal: U("deployPipeline").principalId });
  assign({ scope: subScope("dev"), role: ROLE.contributor, principal: U("deployPipeline").principalId });
  assign({ scope: subScope("dev"), role: ROLE.contributor, principal: sp.legacyEtl.id });
  assign({ scope: subScope("dev"), role: ROLE.contributor, principal: sp.aksDevLegacy.id });
  assign({ scope: subScope("dev"), role: ROLE.contributor, principal: sp.qaRunner.id });
  assign({ scope: subScope("shared"), role: ROLE.contributor, principal: MI("vm-buildagent-01").id });
  assign({ scope: subScope("shared"), role: ROLE.contributor, principal: U("backupAutomation").principalId });
  assign({ scope: subScope("prod"), role: ROLE.reader, principal: sp.costExport.id });
  assign({ scope: subScope("stg"), role: ROLE.reader, principal: sp.costExport.id });
  assign({ scope: subScope("dev"), role: ROLE.reader, principal: sp.costExport.id });
  assign({ scope: subScope("shared"), role: ROLE.reader, principal: sp.costExport.id });
  assign({ scope: subScope("prod"), role: ROLE.reader, principal: sp.powerbiGateway.id });

  // --- subscription scope: privileged guests and disabled users ---
  assign({ scope: subScope("stg"), role: ROLE.contributor, principal: guestPriv[2]!.id });
  assign({ scope: subScope("prod"), role: ROLE.contributor, principal: guestPriv[3]!.id });
  assign({ scope: subScope("dev"), role: ROLE.contributor, principal: disabledPriv[2]!.id });
  assign({ scope: subScope("shared"), role: ROLE.contributor, principal: disabledPriv[3]!.id });

  // --- subscription scope: broad human access ---
  for (const k of SUB_KEYS) {
    assign({ scope: subScope(k), role: ROLE.reader, principal: G("sg-azure-readers").id });
    assign({ scope: subScope(k), role: ROLE.monitoringReader, principal: G("sg-sre-oncall").id });
    assign({ scope: subScope(k), role: ROLE.reader, principal: G("sg-secops").id });
    assign({ scope: subScope(k), role: ROLE.contributor, principal: G("sg-azure-platform-admins").id });
  }
  assign({ scope: subScope("dev"), role: ROLE.contributor, principal: G("sg-web-developers").id });
  assign({ scope: subScope("dev"), role: ROLE.contributor, principal: G("sg-data-engineers").id });
  assign({ scope: subScope("stg"), role: ROLE.reader, principal: G("sg-web-developers").id });
  const humanPool = members.filter((m) => !NO_ASSIGNMENTS.has(m.id));
  for (let i = 0; i < 26; i++) {
    const k = random.pick(SUB_KEYS);
    const role = random.weighted<string>([
      [ROLE.reader, 6],
      [ROLE.contributor, k === "dev" ? 5 : 2],
      [ROLE.monitoringReader, 2],
    ]);
    assign({ scope: subScope(k), role, principal: random.pick(humanPool).id });
  }

  // --- resource group scope: team access (the bulk) ---
  function rgRoles(rg: string, k: SubKey): Array<readonly [string, number]> {
    const roles: Array<[string, number]> = [
      [ROLE.reader, 34],
      [ROLE.contributor, 24],
      [ROLE.monitoringReader, 5],
    ];
    if (rg.includes("data") || rg.includes("ml")) roles.push([ROLE.blobReader, 14], [ROLE.blobContributor, 10], [ROLE.kvSecretsUser, 3]);
    if (rg.includes("web") || rg.includes("app")) roles.push([ROLE.websiteContributor, 10], [ROLE.kvSecretsUser, 4]);
    if (rg.includes("keyvault") || rg.includes("grantguard")) roles.push([ROLE.kvSecretsOfficer, 5], [ROLE.kvReader, 6], [ROLE.kvAdmin, 2]);
    if (k === "prod") roles.push([ROLE.supportReader, 6]);
    if (k === "stg") roles.push([ROLE.supportReaderLegacy, 4]);
    if (k === "prod" && rg.includes("data")) roles.push([ROLE.dataSteward, 5]);
    if (k === "prod" && rg.includes("app")) roles.push([ROLE.platformOperator, 3]);
    roles.push([ROLE.owner, 1.2]);
    return roles;
  }
  const TEAM_FOR_RG: Array<[RegExp, string[]]> = [
    [/web|app/, ["sg-web-developers", "sg-app-support", "sg-qa-engineers"]],
    [/data|ml/, ["sg-data-engineers", "sg-ml-researchers"]],
    [/network/, ["sg-network-team"]],
    [/monitoring/, ["sg-sre-oncall", "sg-finops"]],
    [/sandbox/, ["sg-web-developers", "sg-external-contractors"]],
    [/devops|identity|keyvault|grantguard/, ["sg-azure-platform-admins", "sg-secops"]],
  ];
  const guestPool = guests.filter((g) => g.id !== FIXED.devContractor);
  const disabledPool = disabled.filter((d) => d.id !== FIXED.formerAdmin);
  for (const k of SUB_KEYS) {
    for (const rg of SUBS[k].rgs) {
      const scope = rgScope(k, rg);
      const teamGroups = TEAM_FOR_RG.filter(([re]) => re.test(rg)).flatMap(([, gs]) => gs);
      const n = k === "shared" ? random.int(9, 12) : random.int(12, 16);
      for (let i = 0; i < n; i++) {
        const who = random.weighted<string>([
          ["member", 70],
          ["group", 18],
          ["guest", 5],
          ["disabled", 3],
          ["app", 4],
        ]);
        let principal: string;
        if (who === "group") principal = teamGroups.length > 0 && random.chance(0.8) ? G(random.pick(teamGroups)).id : G(random.pick(GROUP_DEFS)[0]).id;
        else if (who === "guest") principal = random.pick(guestPool).id;
        else if (who === "disabled") principal = random.pick(disabledPool).id;
        else if (who === "app") principal = random.pick([sp.ghActionsData, sp.dnsAutomation, sp.certRenewal, sp.backupScripts, sp.qaRunner, sp.tailspin]).id;
        else principal = random.pick(humanPool).id;
        assign({ scope, role: random.weighted(rgRoles(rg, k)), principal });
      }
    }
  }
  // A few pointed resource-group grants
  assign({ scope: rgScope("prod", "rg-data-prod"), role: ROLE.contributor, principal: sp.tailspin.id, description: "Backup vendor" });
  assign({ scope: rgScope("prod", "rg-data-prod"), role: ROLE.dataSteward, principal: G("sg-data-engineers").id });
  assign({ scope: rgScope("prod", "rg-network-prod"), role: ROLE.contributor, principal: sp.dnsAutomation.id });
  assign({ scope: rgScope("shared", "rg-network-hub"), role: ROLE.contributor, principal: G("sg-network-team").id });
  assign({ scope: rgScope("shared", "rg-grantguard"), role: ROLE.contributor, principal: alice.id, createdBy: alice.id, createdOn: ago(42.1) });
  assign({ scope: rgScope("dev", "rg-app-dev"), role: ROLE.contributor, principal: U("ordersDev").principalId });
  assign({ scope: rgScope("stg", "rg-web-stg"), role: ROLE.websiteContributor, principal: sp.adoRelease.id });

  // --- resource scope: workload identities and data access ---
  assign({ scope: res("prod", "stcontosodataprod01"), role: ROLE.blobContributor, principal: MI("app-contoso-api-prod").id });
  assign({ scope: res("prod", "stcontosodataprod01"), role: ROLE.blobContributor, principal: U("dataIngest").principalId });
  assign({ scope: res("prod", "stcontosoarchprod01"), role: ROLE.blobReader, principal: MI("vm-sql-prod-01").id });
  assign({ scope: res("prod", "stcontosowebprod01"), role: ROLE.blobReader, principal: MI("app-contoso-web-prod").id });
  assign({ scope: res("prod", "kv-contoso-data-prod"), role: ROLE.kvSecretsUser, principal: MI("vm-sql-prod-01").id });
  assign({ scope: res("prod", "kv-contoso-app-prod"), role: ROLE.kvSecretsUser, principal: MI("app-contoso-web-prod").id });
  assign({ scope: res("prod", "kv-contoso-app-prod"), role: ROLE.kvSecretsUser, principal: MI("app-contoso-api-prod").id });
  assign({ scope: res("prod", "kv-contoso-app-prod"), role: ROLE.kvSecretsUser, principal: U("sharedApps").principalId });
  assign({ scope: res("prod", "kv-contoso-app-prod"), role: ROLE.kvSecretsUser, principal: MI("vm-app-prod-02").id });
  assign({ scope: res("stg", "stcontosodatastg01"), role: ROLE.blobContributor, principal: MI("func-orders-stg").id });
  assign({ scope: res("stg", "kv-contoso-stg"), role: ROLE.kvSecretsUser, principal: MI("func-orders-stg").id });
  assign({ scope: res("stg", "kv-contoso-stg"), role: ROLE.kvSecretsUser, principal: MI("vm-app-stg-01").id });
  assign({ scope: res("dev", "stcontosodatadev01"), role: ROLE.blobContributor, principal: MI("func-orders-dev").id });
  assign({ scope: res("dev", "kv-contoso-dev"), role: ROLE.kvSecretsUser, principal: MI("func-orders-dev").id });
  assign({ scope: res("dev", "stcontosomldev01"), role: ROLE.blobOwner, principal: MI("vm-sandbox-dev-01").id });
  assign({ scope: res("shared", "kv-contoso-shared"), role: ROLE.kvSecretsUser, principal: U("deployPipeline").principalId });
  assign({ scope: res("shared", "kv-contoso-shared"), role: ROLE.kvSecretsUser, principal: U("backupAutomation").principalId });
  assign({ scope: res("shared", "kv-contoso-shared"), role: ROLE.kvAdmin, principal: sofia.id });
  assign({ scope: res("prod", "stcontosodataprod01"), role: ROLE.blobReader, principal: sp.powerbiGateway.id });
  assign({ scope: res("prod", "stcontosoarchprod01"), role: ROLE.blobContributor, principal: sp.tailspin.id });
  assign({ scope: res("prod", "stcontosodataprod01"), role: ROLE.blobContributor, principal: sp.ghActionsData.id });
  const storageAndVaults = SUB_KEYS.flatMap((k) => resourceIdsBySub[k].filter((r) => r.type === ST || r.type === KV || r.type === SITE || r.type === VM).map((r) => ({ k, ...r })));
  for (let i = 0; i < 36; i++) {
    const r = random.pick(storageAndVaults);
    const role =
      r.type === ST
        ? random.weighted<string>([[ROLE.blobReader, 5], [ROLE.blobContributor, 3], [ROLE.reader, 2]])
        : r.type === KV
          ? random.weighted<string>([[ROLE.kvSecretsUser, 4], [ROLE.kvReader, 3], [ROLE.kvSecretsOfficer, 2], [ROLE.kvAdmin, 1]])
          : r.type === SITE
            ? random.weighted<string>([[ROLE.websiteContributor, 5], [ROLE.reader, 3]])
            : random.weighted<string>([[ROLE.reader, 3], [ROLE.contributor, 2]]);
    const principal = random.chance(0.8) ? random.pick(humanPool).id : G(random.pick(GROUP_DEFS)[0]).id;
    assign({ scope: r.id, role, principal });
  }

  // --- orphaned assignments: principals deleted from the directory ---
  const deletedPrincipals: Array<{ id: string; type: string; scope: string; role: string }> = [
    { id: random.guid(), type: "User", scope: subScope("prod"), role: ROLE.contributor },
    { id: random.guid(), type: "User", scope: rgScope("stg", "rg-data-stg"), role: ROLE.reader },
    { id: random.guid(), type: "ServicePrincipal", scope: subScope("dev"), role: ROLE.contributor },
    { id: random.guid(), type: "ServicePrincipal", scope: res("prod", "kv-contoso-data-prod"), role: ROLE.kvSecretsUser },
    { id: random.guid(), type: "User", scope: rgScope("shared", "rg-devops-shared"), role: ROLE.owner },
  ];
  for (const d of deletedPrincipals) {
    assign({ scope: d.scope, role: d.role, principal: d.id, principalType: d.type, createdOn: agoBetween(random, 300, 1000), createdBy: random.pick([formerAdmin.id, priya.id]) });
  }

  return { roleAssignments, assignmentMeta, pimOwners, humanPool };
}
