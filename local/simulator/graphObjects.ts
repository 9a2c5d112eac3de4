import type { GraphDirectoryObject } from "../../shared/model/azure.js";

// How Microsoft Graph v1.0 shapes a directory object in a response (see README.md "Graph"):
// without $select, only the type's default property set; with $select, exactly the properties
// named. Sources: microsoft-graph-docs-contrib api-reference/v1.0/api/user-get.md (the user default
// set), resources/user.md, resources/group.md and resources/serviceprincipal.md ("Returned by
// default" / "Returned only on $select").

type GraphType = "user" | "group" | "servicePrincipal";

/** The user properties v1.0 returns by default (user-get.md). */
const USER_DEFAULT = ["businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName"];

/** Properties of the type that Graph returns only when $select names them. */
const SELECT_ONLY: Record<Exclude<GraphType, "user">, readonly string[]> = {
  group: ["allowExternalSenders", "assignedLabels", "assignedLicenses", "autoSubscribeNewMembers", "hasMembersWithLicenseErrors", "hideFromAddressLists", "hideFromOutlookClients", "isSubscribedByMail", "licenseProcessingState", "membershipRuleProcessingStatus", "unseenConversationsCount", "unseenCount", "unseenMessagesCount"],
  servicePrincipal: ["customSecurityAttributes"],
};

/** Every property a type declares that this simulator knows of: what $select may name. */
const DECLARED: Record<GraphType, ReadonlySet<string>> = {
  user: new Set([
    ...USER_DEFAULT,
    "aboutMe", "accountEnabled", "ageGroup", "assignedLicenses", "assignedPlans", "birthday", "city", "companyName", "consentProvidedForMinor", "country", "createdDateTime", "creationType",
    "customSecurityAttributes", "deletedDateTime", "department", "employeeHireDate", "employeeId", "employeeLeaveDateTime", "employeeType", "externalUserState", "externalUserStateChangeDateTime",
    "faxNumber", "hireDate", "identities", "imAddresses", "interests", "isResourceAccount", "lastPasswordChangeDateTime", "legalAgeGroupClassification", "mailNickname", "mySite",
    "onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesExtensionAttributes", "onPremisesImmutableId", "onPremisesLastSyncDateTime", "onPremisesProvisioningErrors",
    "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "onPremisesUserPrincipalName", "otherMails", "passwordPolicies", "passwordProfile", "pastProjects",
    "postalCode", "preferredDataLocation", "preferredName", "provisionedPlans", "proxyAddresses", "responsibilities", "schools", "securityIdentifier", "showInAddressList",
    "signInActivity", "signInSessionsValidFromDateTime", "skills", "state", "streetAddress", "usageLocation", "userType",
  ]),
  group: new Set([
    ...SELECT_ONLY.group,
    "classification", "createdByAppId", "createdDateTime", "deletedDateTime", "description", "displayName", "expirationDateTime", "groupTypes", "id", "isAssignableToRole", "infoCatalogs", "mail",
    "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState", "onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesNetBiosName",
    "onPremisesProvisioningErrors", "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "preferredDataLocation", "preferredLanguage", "proxyAddresses",
    "renewedDateTime", "resourceBehaviorOptions", "resourceProvisioningOptions", "securityEnabled", "securityIdentifier", "theme", "visibility",
  ]),
  servicePrincipal: new Set([
    ...SELECT_ONLY.servicePrincipal,
    "accountEnabled", "addIns", "alternativeNames", "appDescription", "appDisplayName", "appId", "applicationTemplateId", "appOwnerOrganizationId", "appRoleAssignmentRequired", "appRoles",
    "deletedDateTime", "description", "disabledByMicrosoftStatus", "displayName", "homepage", "id", "info", "keyCredentials", "loginUrl", "logoutUrl", "notes", "notificationEmailAddresses",
    "oauth2PermissionScopes", "passwordCredentials", "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint", "replyUrls", "resourceSpecificApplicationPermissions",
    "samlSingleSignOnSettings", "servicePrincipalNames", "servicePrincipalType", "signInAudience", "tags", "tokenEncryptionKeyId", "verifiedPublisher",
  ]),
};

/** The Graph type name of a stored object ("user", "group", "servicePrincipal"). */
export function graphTypeOf(o: GraphDirectoryObject): GraphType {
  return o["@odata.type"].replace("#microsoft.graph.", "") as GraphType;
}

/** True when some directory object type declares this property (what a directoryObject-typed read may $select). */
export function declaredByAnyType(property: string): boolean {
  return Object.values(DECLARED).some((names) => names.has(property));
}

/** True when the type declares this property (or the stored object carries it, for extensions). */
export function declaredBy(type: GraphType, property: string, stored?: GraphDirectoryObject): boolean {
  return DECLARED[type].has(property) || (stored !== undefined && property in stored);
}

/**
 * The object as Graph returns it: the default set (no `select`), or exactly the selected
 * properties the object's type declares. `@odata.type` is kept where the declared type of the
 * collection is a base type (directoryObjects), as in directoryobject-get.md's example.
 */
export function shapeObject(o: GraphDirectoryObject, select: readonly string[] | null, options: { readonly withType: boolean }): Record<string, unknown> {
  const type = graphTypeOf(o);
  const wanted = select ?? defaultSet(type, o);
  const out: Record<string, unknown> = options.withType ? { "@odata.type": o["@odata.type"] } : {};
  for (const name of wanted) {
    if (!declaredBy(type, name, o)) continue;
    const value = (o as Record<string, unknown>)[name];
    out[name] = value === undefined ? null : structuredClone(value);
  }
  return out;
}

function defaultSet(type: GraphType, o: GraphDirectoryObject): string[] {
  if (type === "user") return USER_DEFAULT;
  const selectOnly = new Set(SELECT_ONLY[type]);
  return [...new Set([...DECLARED[type], ...Object.keys(o)])].filter((name) => name !== "@odata.type" && !selectOnly.has(name));
}

/** Parses `$select` (comma-separated names); null when absent. An empty name is a 400 in Graph. */
export function parseSelect(raw: string | null): string[] | null | { error: string } {
  if (raw === null) return null;
  const names = raw.split(",").map((s) => s.trim());
  if (names.some((n) => n === "")) return { error: `Syntax error: character ',' is not valid at position ${raw.indexOf(",,") >= 0 ? raw.indexOf(",,") + 1 : raw.length} in '${raw}'.` };
  return names;
}
