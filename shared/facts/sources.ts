import type { Principal, RoleAssignment, RoleDefinition } from "../model/access.js";

// Where the facts of one assignment come from, declared here and implemented by the adapters in
// shared/azure (ARM, Microsoft Graph) and by in-memory fakes in tests. Tenant-wide facts: context.ts.

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

/** Reads directory objects (users, groups, service principals) from Microsoft Graph. */
export interface Principals {
  /** The object with this id, or null when Graph does not know it (deleted, or not replicated yet). */
  getById(id: string): Promise<Principal | null>;
  /** The objects Graph knows among these ids (absent ones are deleted), in chunks of 1,000. */
  listByIds(ids: readonly string[]): Promise<Principal[]>;
}
