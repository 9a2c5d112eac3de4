import type { SeededRandom } from "./random.js";
import { TENANT_ID } from "./layout.js";
import { ago, agoBetween, ahead } from "./time.js";

// The directory the generator fills: principals in Microsoft Graph v1.0's shape, and what the
// generator remembers of each (kind, UPN, app id, credentials, home IP) for the assignments and
// logs made later.

/** What a principal is, as the generator tells them apart. */
export type Kind = "member" | "guest" | "disabled" | "group" | "app" | "systemMI" | "userMI";
/** What the generator remembers of a principal it made. */
export interface PrincipalInfo {
  id: string;
  kind: Kind;
  displayName: string;
  upn?: string;
  appId?: string;
  createdDateTime?: string;
  keyIds?: string[];
  homeIp?: string;
  resourceId?: string;
}

/** The directory being filled, and the ways principals enter it. */
export interface Directory {
  /** Every principal, in Graph's shape, in the order made. */
  readonly principals: object[];
  /** What the generator remembers of each principal, by id, in the order made. */
  readonly info: Map<string, PrincipalInfo>;
  /** An address from the documentation ranges (RFC 5737). */
  docIp(): string;
  /** Adds a member or guest user (a guest when `guestDomain` is given). */
  addUser(opts: UserOptions): PrincipalInfo;
  /** Adds an application's service principal with its secrets and certificate. */
  addAppSp(opts: AppOptions): PrincipalInfo;
  /** The principalType ARM records for a principal of the directory. */
  typeOf(id: string): string;
}

/** A user to add. */
export interface UserOptions {
  id?: string;
  given: string;
  surname: string;
  displayName?: string;
  upn?: string;
  guestDomain?: string;
  enabled?: boolean;
  createdDaysAgo?: number;
  jobTitle?: string;
}

/** An application service principal to add: `owner` is the tenant of a multi-tenant app. */
export interface AppOptions {
  name: string;
  owner?: string;
  secrets?: Array<{ endInDays: number; startDaysAgo: number }>;
  cert?: boolean;
}

/** An empty directory whose random choices draw from `random`. */
export function newDirectory(random: SeededRandom): Directory {
  const principals: object[] = [];
  const info = new Map<string, PrincipalInfo>();
  const usedUpns = new Set<string>();

  function docIp(): string {
    const prefix = random.pick(["192.0.2", "198.51.100", "203.0.113"]);
    return `${prefix}.${random.int(1, 249)}`;
  }

  function addUser(opts: UserOptions): PrincipalInfo {
    const id = opts.id ?? random.guid();
    const guest = opts.guestDomain !== undefined;
    const local = `${opts.given}.${opts.surname}`.toLowerCase().replace(/[^a-z.]/g, "");
    let upn = opts.upn;
    if (!upn) {
      upn = guest ? `${local}_${opts.guestDomain}#EXT#@contoso.onmicrosoft.com` : `${local}@contoso.com`;
      let n = 2;
      while (usedUpns.has(upn)) {
        upn = guest ? `${local}${n}_${opts.guestDomain}#EXT#@contoso.onmicrosoft.com` : `${local}${n}@contoso.com`;
        n++;
      }
    }
    usedUpns.add(upn);
    const enabled = opts.enabled ?? true;
    const created = ago(opts.createdDaysAgo ?? random.int(120, 2200) + random.next());
    const mail = guest ? upn.split("#EXT#")[0]!.replace(/_([^_]+)$/, "@$1") : upn;
    const displayName = opts.displayName ?? `${opts.given} ${opts.surname}`;
    principals.push({
      "@odata.type": "#microsoft.graph.user",
      id,
      displayName,
      givenName: opts.given,
      surname: opts.surname,
      userPrincipalName: upn,
      mail,
      jobTitle: opts.jobTitle ?? null,
      userType: guest ? "Guest" : "Member",
      accountEnabled: enabled,
      createdDateTime: created,
    });
    const kind: Kind = guest ? "guest" : enabled ? "member" : "disabled";
    const pi: PrincipalInfo = { id, kind, displayName, upn, createdDateTime: created, homeIp: docIp() };
    info.set(id, pi);
    return pi;
  }

  function addAppSp(opts: AppOptions): PrincipalInfo {
    const id = random.guid();
    const appId = random.guid();
    const keyIds: string[] = [];
    const passwordCredentials = (opts.secrets ?? []).map((s, i) => {
      const keyId = random.guid();
      keyIds.push(keyId);
      return {
        customKeyIdentifier: null,
        displayName: i === 0 ? "deploy-secret" : `rotated-secret-${i}`,
        endDateTime: s.endInDays >= 0 ? ahead(s.endInDays) : ago(-s.endInDays),
        hint: random.pick(["Xq~", "8Kd", "p3R", "Zt7", "mN0"]),
        keyId,
        secretText: null,
        startDateTime: ago(s.startDaysAgo),
      };
    });
    const keyCredentials = opts.cert
      ? [
          {
            customKeyIdentifier: null,
            displayName: `CN=${opts.name}`,
            endDateTime: ahead(random.int(60, 400)),
            key: null,
            keyId: random.guid(),
            startDateTime: agoBetween(random, 100, 500),
            type: "AsymmetricX509Cert",
            usage: "Verify",
          },
        ]
      : [];
    principals.push({
      "@odata.type": "#microsoft.graph.servicePrincipal",
      id,
      accountEnabled: true,
      appId,
      appDisplayName: opts.name,
      displayName: opts.name,
      appOwnerOrganizationId: opts.owner ?? TENANT_ID,
      servicePrincipalType: "Application",
      servicePrincipalNames: [appId],
      signInAudience: opts.owner ? "AzureADMultipleOrgs" : "AzureADMyOrg",
      alternativeNames: [],
      tags: [],
      passwordCredentials,
      keyCredentials,
    });
    const pi: PrincipalInfo = { id, kind: "app", displayName: opts.name, appId, keyIds, homeIp: docIp() };
    info.set(id, pi);
    return pi;
  }

  function typeOf(id: string): string {
    const p = info.get(id);
    if (!p) throw new Error(`unknown principal ${id}`);
    if (p.kind === "group") return "Group";
    if (p.kind === "app" || p.kind === "systemMI" || p.kind === "userMI") return "ServicePrincipal";
    return "User";
  }

  return { principals, info, docIp, addUser, addAppSp, typeOf };
}
