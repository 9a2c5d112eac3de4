import { GrantGuardError } from "../errors.js";
import type { RoleAssignment } from "../model/access.js";

/** The properties a role assignment is created with (what a backup keeps). */
export type RoleAssignmentProperties = Pick<RoleAssignment, "roleDefinitionId" | "principalId" | "principalType" | "condition" | "conditionVersion" | "description" | "delegatedManagedIdentityResourceId">;

/** Writes role assignments: grantguard's identity deletes; restore creates with the caller's. */
export interface RoleAssignmentWriter {
  /** Deletes by full id; "alreadyGone" when ARM had nothing to delete. Throttling is retried by the SDK (Retry-After). */
  deleteById(assignmentId: string): Promise<"deleted" | "alreadyGone">;
  /** Creates an assignment with this exact name and properties; "exists" when that name is already there. */
  create(scope: string, name: string, properties: RoleAssignmentProperties): Promise<"created" | "exists">;
}

/** ARM refused a write for good (403, 400, 409…): retrying the same request cannot help. */
export class RoleAssignmentWriteRefusedError extends GrantGuardError {
  constructor(
    message: string,
    readonly statusCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** ARM refused a write because of a conflict (409). */
export class RoleAssignmentConflictError extends RoleAssignmentWriteRefusedError {}
