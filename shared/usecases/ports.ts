import type { RoleAssignment, RoleDefinition } from "../model/access.js";

// What the use cases read from Azure, declared here and implemented by the adapters in shared/azure.

/** Reads role assignments from ARM. */
export interface RoleAssignments {
  /** The assignment with this full id, or null when ARM answers 404 (already gone). */
  getById(assignmentId: string): Promise<RoleAssignment | null>;
}

/** Reads role definitions from ARM. */
export interface RoleDefinitions {
  /** The definition with this id, or null when ARM answers 404 (a deleted custom role). */
  getById(roleDefinitionId: string): Promise<RoleDefinition | null>;
}
