import type { SeededRandom } from "./random.js";
import type { Directory, PrincipalInfo } from "./directory.js";
import { FIXED, FOREIGN_TENANT_NORTHWIND, FOREIGN_TENANT_TAILSPIN } from "./layout.js";
import { agoBetween } from "./time.js";

// Who works at Contoso: the named people the demos follow, members, guests, disabled accounts,
// security groups, and the applications' service principals.

const FIRST = [
  "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Mason", "Isabella", "Lucas", "Mia", "Logan",
  "Amelia", "Elijah", "Harper", "James", "Evelyn", "Benjamin", "Abigail", "Henry", "Emily", "Daniel", "Ella",
  "Samuel", "Chloe", "David", "Grace", "Joseph", "Zoe", "Owen", "Nora", "Leo", "Hannah", "Ryan", "Lily",
  "Nathan", "Aria", "Isaac", "Layla", "Aaron", "Priya", "Arjun", "Mei", "Hiroshi", "Fatima", "Omar", "Sven",
  "Ingrid", "Mateo", "Lucia", "Kwame", "Amara", "Tomasz", "Zofia", "Dmitri", "Elena", "Raj", "Anika", "Kenji", "Yuna",
];
const LAST = [
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
  "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Lee", "Perez",
  "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
  "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
  "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Kim", "Okafor", "Novak",
  "Lindqvist", "Tanaka", "Kowalski", "Ivanova", "Haddad", "Mensah", "Schmidt", "Rossi",
];

/** Security groups: name and description. */
export const GROUP_DEFS: Array<[string, string]> = [
  ["sg-azure-platform-admins", "Platform engineering administrators"],
  ["sg-azure-readers", "Read-only access to Azure for auditors and architects"],
  ["sg-web-developers", "Web and API developers"],
  ["sg-data-engineers", "Data engineering team"],
  ["sg-secops", "Security operations"],
  ["sg-finops", "Cloud cost management"],
  ["sg-app-support", "Application support (L2)"],
  ["sg-network-team", "Network engineering"],
  ["sg-ml-researchers", "Machine learning research"],
  ["sg-qa-engineers", "Quality assurance"],
  ["sg-external-contractors", "External contractors with Azure access"],
  ["sg-sre-oncall", "Site reliability on-call rotation"],
];

/** The people of the tenant, and the groups and applications they work with. */
export type People = ReturnType<typeof populatePeople>;

/** Fills `directory` with the tenant's users, groups and application service principals. */
export function populatePeople(random: SeededRandom, directory: Directory) {
  // --- fixed and named users ---
  const alice = directory.addUser({ id: FIXED.alice, given: "Alice", surname: "Martin", upn: "alice@contoso.com", createdDaysAgo: 2011, jobTitle: "Cloud Platform Lead" });
  const bob = directory.addUser({ id: FIXED.bob, given: "Bob", surname: "Chen", upn: "bob@contoso.com", createdDaysAgo: 1630, jobTitle: "Software Engineer" });
  const priya = directory.addUser({ given: "Priya", surname: "Raman", createdDaysAgo: 1800, jobTitle: "Cloud Engineer" });
  const marcus = directory.addUser({ given: "Marcus", surname: "Webb", createdDaysAgo: 1500, jobTitle: "Cloud Engineer" });
  const sofia = directory.addUser({ given: "Sofia", surname: "Lindqvist", createdDaysAgo: 1320, jobTitle: "Security Engineer" });
  const daniel = directory.addUser({ given: "Daniel", surname: "Okafor", createdDaysAgo: 980, jobTitle: "Site Reliability Engineer" });
  const globalAdmin = directory.addUser({ given: "Grace", surname: "Holloway", createdDaysAgo: 2100, jobTitle: "IT Director" });
  const ADMINS = [alice, priya, marcus, sofia, daniel];

  const members: PrincipalInfo[] = [alice, bob, priya, marcus, sofia, daniel, globalAdmin];
  while (members.length < 120) {
    // a handful of recent joiners (younger than 90 days)
    const recent = members.length % 17 === 0;
    members.push(directory.addUser({ given: random.pick(FIRST), surname: random.pick(LAST), createdDaysAgo: recent ? random.int(5, 80) + random.next() : undefined }));
  }

  // --- guests ---
  const devContractor = directory.addUser({
    id: FIXED.devContractor,
    given: "Dev",
    surname: "Contractor",
    displayName: "Dev Contractor (Fabrikam)",
    upn: "dev.contractor_fabrikam.com#EXT#@contoso.onmicrosoft.com",
    guestDomain: "fabrikam.com",
    createdDaysAgo: 210,
  });
  const guests: PrincipalInfo[] = [devContractor];
  const GUEST_DOMAINS = ["fabrikam.com", "adatum.com", "woodgrovebank.com", "litwareinc.com", "northwindtraders.com"];
  while (guests.length < 15) {
    const domain = random.pick(GUEST_DOMAINS);
    const given = random.pick(FIRST);
    const surname = random.pick(LAST);
    const org = domain.split(".")[0]!.replace(/^./, (c) => c.toUpperCase());
    guests.push(directory.addUser({ given, surname, displayName: `${given} ${surname} (${org})`, guestDomain: domain, createdDaysAgo: random.int(30, 1100) + random.next() }));
  }

  // --- disabled members ---
  const formerAdmin = directory.addUser({
    id: FIXED.formerAdmin,
    given: "Former",
    surname: "Admin",
    displayName: "Former Admin",
    upn: "former.admin@contoso.com",
    enabled: false,
    createdDaysAgo: 1900,
    jobTitle: "Cloud Administrator",
  });
  const disabled: PrincipalInfo[] = [formerAdmin];
  while (disabled.length < 8) disabled.push(directory.addUser({ given: random.pick(FIRST), surname: random.pick(LAST), enabled: false, createdDaysAgo: random.int(400, 2000) + random.next() }));

  // --- groups ---
  const groups = new Map<string, PrincipalInfo>();
  for (const [name, description] of GROUP_DEFS) {
    const id = random.guid();
    const created = agoBetween(random, 200, 1900);
    directory.principals.push({
      "@odata.type": "#microsoft.graph.group",
      id,
      displayName: name,
      description,
      mailNickname: name,
      securityEnabled: true,
      mailEnabled: false,
      groupTypes: [],
      createdDateTime: created,
    });
    const pi: PrincipalInfo = { id, kind: "group", displayName: name, createdDateTime: created };
    directory.info.set(id, pi);
    groups.set(name, pi);
  }
  const G = (name: string) => groups.get(name)!;

  // --- application service principals ---
  const sp = {
    terraformPlatform: directory.addAppSp({ name: "sp-terraform-platform", secrets: [{ startDaysAgo: 300, endInDays: 65 }] }),
    ghActionsWeb: directory.addAppSp({ name: "sp-github-actions-web", secrets: [{ startDaysAgo: 500, endInDays: 230 }] }),
    ghActionsData: directory.addAppSp({ name: "sp-github-actions-data", secrets: [{ startDaysAgo: 200, endInDays: 530 }] }),
    adoRelease: directory.addAppSp({ name: "sp-azure-devops-release", cert: true }),
    costExport: directory.addAppSp({ name: "sp-cost-export", secrets: [{ startDaysAgo: 700, endInDays: -5 }, { startDaysAgo: 20, endInDays: 345 }] }),
    sentinelConnector: directory.addAppSp({ name: "sp-sentinel-connector", cert: true }),
    legacyEtl: directory.addAppSp({ name: "sp-legacy-etl", secrets: [{ startDaysAgo: 900, endInDays: -170 }] }),
    powerbiGateway: directory.addAppSp({ name: "sp-powerbi-gateway", secrets: [{ startDaysAgo: 400, endInDays: 330 }] }),
    dnsAutomation: directory.addAppSp({ name: "sp-dns-automation", secrets: [{ startDaysAgo: 150, endInDays: 580 }] }),
    certRenewal: directory.addAppSp({ name: "sp-cert-renewal", cert: true }),
    qaRunner: directory.addAppSp({ name: "sp-qa-test-runner", secrets: [{ startDaysAgo: 90, endInDays: 640 }] }),
    aksDevLegacy: directory.addAppSp({ name: "sp-aks-dev-legacy", secrets: [{ startDaysAgo: 1000, endInDays: -270 }] }),
    backupScripts: directory.addAppSp({ name: "sp-backup-scripts", secrets: [{ startDaysAgo: 60, endInDays: 305 }] }),
    northwind: directory.addAppSp({ name: "Northwind Cloud Monitoring", owner: FOREIGN_TENANT_NORTHWIND, secrets: [] }),
    tailspin: directory.addAppSp({ name: "Tailspin Backup Connector", owner: FOREIGN_TENANT_TAILSPIN, secrets: [] }),
  };

  return { alice, bob, priya, marcus, sofia, daniel, globalAdmin, formerAdmin, devContractor, ADMINS, members, guests, disabled, G, sp };
}
