import { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { RoleAssignment as SdkRoleAssignment, RoleDefinition as SdkRoleDefinition } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/identity";
import type { RoleAssignment, RoleDefinition } from "../model/access.js";
import { isTransient, statusOf } from "../errors.js";
import type { RoleAssignments, RoleDefinitions } from "../facts/sources.js";
import { RoleAssignmentConflictError, RoleAssignmentWriteRefusedError, type RoleAssignmentProperties, type RoleAssignmentWriter } from "../response/writer.js";

const ARM_SCOPE = "https://management.azure.com/.default";

/** Role-assignment writes through `@azure/arm-authorization`. */
export class ArmRoleAssignmentWriter implements RoleAssignmentWriter {
  constructor(private readonly client: AuthorizationManagementClient) {}

  async deleteById(assignmentId: string): Promise<"deleted" | "alreadyGone"> {
    try {
      const deleted = await this.client.roleAssignments.deleteById(assignmentId);
      return deleted?.id ? "deleted" : "alreadyGone";
    } catch (error) {
      if (statusOf(error) === 404) return "alreadyGone";
      throw refused(error, `ARM refused to delete ${assignmentId}`);
    }
  }

  async create(scope: string, name: string, p: RoleAssignmentProperties): Promise<"created" | "exists"> {
    const existing = await nullIfNotFound(() => this.client.roleAssignments.get(scope, name));
    if (existing) return "exists";
    try {
      await this.client.roleAssignments.create(scope, name, {
        roleDefinitionId: p.roleDefinitionId,
        principalId: p.principalId,
        principalType: p.principalType,
        ...(p.condition ? { condition: p.condition, conditionVersion: p.conditionVersion ?? "2.0" } : {}),
        ...(p.description ? { description: p.description } : {}),
        ...(p.delegatedManagedIdentityResourceId ? { delegatedManagedIdentityResourceId: p.delegatedManagedIdentityResourceId } : {}),
      });
      return "created";
    } catch (error) {
      throw refused(error, `ARM refused to create ${name} at ${scope}`);
    }
  }
}

/** A final refusal as a typed error the response can record; a transient failure is rethrown as it is (the caller retries). */
function refused(error: unknown, what: string): unknown {
  const status = statusOf(error);
  if (isTransient(error) || status === null) return error;
  const message = `${what}: HTTP ${status}: ${error instanceof Error ? error.message : String(error)}`;
  return status === 409 ? new RoleAssignmentConflictError(message, status, { cause: error }) : new RoleAssignmentWriteRefusedError(message, status, { cause: error });
}

/** Builds the ARM authorization client for an endpoint (the real ARM, or the local simulator). */
export function createAuthorizationClient(credential: TokenCredential, endpoint: string): AuthorizationManagementClient {
  // The subscription id is only used by subscription-level operations we do not call.
  return new AuthorizationManagementClient(credential, "00000000-0000-0000-0000-000000000000", {
    endpoint,
    credentialScopes: [ARM_SCOPE],
  });
}

/** The call's result, or null when ARM answers 404; every other error propagates. */
async function nullIfNotFound<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}

function iso(value: Date | undefined): string | null {
  return value ? value.toISOString() : null;
}

/** Converts the SDK's role assignment to the flat model. */
export function roleAssignmentFromSdk(a: SdkRoleAssignment): RoleAssignment {
  return {
    id: a.id ?? "",
    name: a.name ?? "",
    scope: a.scope ?? "/",
    roleDefinitionId: a.roleDefinitionId ?? "",
    principalId: a.principalId ?? "",
    principalType: a.principalType ?? "User",
    condition: a.condition ?? null,
    conditionVersion: a.conditionVersion ?? null,
    description: a.description ?? null,
    createdOn: iso(a.createdOn),
    updatedOn: iso(a.updatedOn),
    createdBy: a.createdBy ?? null,
    updatedBy: a.updatedBy ?? null,
    delegatedManagedIdentityResourceId: a.delegatedManagedIdentityResourceId ?? null,
  };
}

/** Converts the SDK's role definition to the flat model. */
export function roleDefinitionFromSdk(d: SdkRoleDefinition): RoleDefinition {
  return {
    id: d.id ?? "",
    name: d.name ?? "",
    roleName: d.roleName ?? "",
    roleType: d.roleType ?? "BuiltInRole",
    description: d.description ?? null,
    permissions: (d.permissions ?? []).map((p) => ({
      actions: p.actions ?? [],
      notActions: p.notActions ?? [],
      dataActions: p.dataActions ?? [],
      notDataActions: p.notDataActions ?? [],
    })),
    assignableScopes: d.assignableScopes ?? [],
  };
}

/** Role assignments through `@azure/arm-authorization`. */
export class ArmRoleAssignments implements RoleAssignments {
  constructor(private readonly client: AuthorizationManagementClient) {}

  async getById(assignmentId: string): Promise<RoleAssignment | null> {
    const found = await nullIfNotFound(() => this.client.roleAssignments.getById(assignmentId));
    return found && roleAssignmentFromSdk(found);
  }
}

/** Role definitions through `@azure/arm-authorization`. */
export class ArmRoleDefinitions implements RoleDefinitions {
  constructor(private readonly client: AuthorizationManagementClient) {}

  async getById(roleDefinitionId: string): Promise<RoleDefinition | null> {
    const found = await nullIfNotFound(() => this.client.roleDefinitions.getById(roleDefinitionId));
    return found && roleDefinitionFromSdk(found);
  }
}

/**
 * Caches role definitions by GUID (a built-in role has one GUID at every scope) for `ttlMs`,
 * and shares one in-flight request between concurrent callers. Failures are not cached.
 */
export class CachedRoleDefinitions implements RoleDefinitions {
  readonly #entries = new Map<string, { expiresAt: number; value: Promise<RoleDefinition | null> }>();

  constructor(
    private readonly inner: RoleDefinitions,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  getById(roleDefinitionId: string): Promise<RoleDefinition | null> {
    const key = roleDefinitionId.toLowerCase().replace(/^.*\/roledefinitions\//, "");
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > this.now()) return hit.value;
    const value = this.inner.getById(roleDefinitionId);
    this.#entries.set(key, { expiresAt: this.now() + this.ttlMs, value });
    value.catch(() => this.#entries.delete(key));
    return value;
  }
}
