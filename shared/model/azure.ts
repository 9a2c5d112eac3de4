import { z } from "zod";

// Objects exactly as Azure's REST APIs return them. Unknown properties are kept (looseObject):
// the tenant snapshot format promises that files written by other tools still load.

const nullableString = z.string().nullish().transform((v) => v ?? null);

/** ARM Microsoft.Authorization/roleAssignments (api-version 2022-04-01). */
export const armRoleAssignmentSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().min(1),
  type: z.string().optional(),
  properties: z.looseObject({
    roleDefinitionId: z.string().min(1),
    principalId: z.string().min(1),
    principalType: z.string().default("User"),
    scope: z.string().min(1),
    condition: nullableString,
    conditionVersion: nullableString,
    description: nullableString,
    createdOn: nullableString,
    updatedOn: nullableString,
    createdBy: nullableString,
    updatedBy: nullableString,
    delegatedManagedIdentityResourceId: nullableString,
  }),
});
export type ArmRoleAssignment = z.infer<typeof armRoleAssignmentSchema>;

const permissionSchema = z.looseObject({
  actions: z.array(z.string()).default([]),
  notActions: z.array(z.string()).default([]),
  dataActions: z.array(z.string()).default([]),
  notDataActions: z.array(z.string()).default([]),
});
export type Permission = z.infer<typeof permissionSchema>;

/** ARM Microsoft.Authorization/roleDefinitions. */
export const armRoleDefinitionSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().min(1),
  type: z.string().optional(),
  properties: z.looseObject({
    roleName: z.string().min(1),
    type: z.string().default("BuiltInRole"),
    description: nullableString,
    permissions: z.array(permissionSchema).default([]),
    assignableScopes: z.array(z.string()).default([]),
  }),
});
export type ArmRoleDefinition = z.infer<typeof armRoleDefinitionSchema>;

/** Microsoft Graph v1.0 directory objects (user, group, servicePrincipal) with their @odata.type. */
export const graphUserSchema = z.looseObject({
  "@odata.type": z.literal("#microsoft.graph.user"),
  id: z.string().min(1),
  displayName: nullableString,
  userPrincipalName: nullableString,
  userType: nullableString,
  accountEnabled: z.boolean().nullish().transform((v) => v ?? null),
  createdDateTime: nullableString,
});
export const graphGroupSchema = z.looseObject({
  "@odata.type": z.literal("#microsoft.graph.group"),
  id: z.string().min(1),
  displayName: nullableString,
  securityEnabled: z.boolean().nullish().transform((v) => v ?? null),
  mailEnabled: z.boolean().nullish().transform((v) => v ?? null),
});
export const graphServicePrincipalSchema = z.looseObject({
  "@odata.type": z.literal("#microsoft.graph.servicePrincipal"),
  id: z.string().min(1),
  appId: nullableString,
  displayName: nullableString,
  servicePrincipalType: nullableString,
  appOwnerOrganizationId: nullableString,
  alternativeNames: z.array(z.string()).default([]),
  passwordCredentials: z.array(z.looseObject({ keyId: z.string().optional(), endDateTime: z.string().nullish() })).default([]),
  keyCredentials: z.array(z.looseObject({})).default([]),
  accountEnabled: z.boolean().nullish().transform((v) => v ?? null),
});
export const graphDirectoryObjectSchema = z.discriminatedUnion("@odata.type", [
  graphUserSchema,
  graphGroupSchema,
  graphServicePrincipalSchema,
]);
export type GraphDirectoryObject = z.infer<typeof graphDirectoryObjectSchema>;
