import type { Permission } from "../model/azure.js";

/** Operations whose grant makes a role privileged, whatever the role is called. */
export const DELEGATION_OPERATIONS = {
  writeRoleAssignments: "Microsoft.Authorization/roleAssignments/write",
  writeRoleDefinitions: "Microsoft.Authorization/roleDefinitions/write",
  elevateAccess: "Microsoft.Authorization/elevateAccess/action",
} as const;

// An operation of no real provider: a role allows it only through a provider wildcard
// (`*`, `*/write`), which is what "can write resources of every provider" means.
const ANY_PROVIDER_WRITE = "Grantguard.AnyProvider/anyResource/write";

/** What a role's permissions let it do, computed from actions minus notActions (never from its name). */
export interface RolePrivilege {
  /** Some effective control-plane action is more than a read. */
  readonly canWrite: boolean;
  readonly canWriteRoleAssignments: boolean;
  readonly canWriteRoleDefinitions: boolean;
  readonly canElevateAccess: boolean;
  readonly canWriteAnyResource: boolean;
  readonly hasWildcardActions: boolean;
  readonly hasWildcardDataActions: boolean;
  readonly privileged: boolean;
  /** The privileged capabilities that hold: operation names, or "*" + "/write" for any-provider writes. */
  readonly privilegedActions: readonly string[];
}

const patternCache = new Map<string, RegExp>();

/** Compiles an Azure action pattern (`*` wildcards, case-insensitive) to a RegExp. */
function compile(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
      .join(".*");
    re = new RegExp(`^${body}$`, "i");
    patternCache.set(pattern, re);
  }
  return re;
}

/** True when some permission block grants `operation` in `allowKey` and does not remove it in `denyKey`. */
export function allowsOperation(
  permissions: readonly Permission[],
  operation: string,
  plane: "control" | "data" = "control",
): boolean {
  const [allowKey, denyKey] = plane === "control" ? (["actions", "notActions"] as const) : (["dataActions", "notDataActions"] as const);
  return permissions.some(
    (block) => block[allowKey].some((p) => compile(p).test(operation)) && !block[denyKey].some((p) => compile(p).test(operation)),
  );
}

/** Computes a role's privilege from its permission blocks. */
export function rolePrivilege(permissions: readonly Permission[]): RolePrivilege {
  const canWriteRoleAssignments = allowsOperation(permissions, DELEGATION_OPERATIONS.writeRoleAssignments);
  const canWriteRoleDefinitions = allowsOperation(permissions, DELEGATION_OPERATIONS.writeRoleDefinitions);
  const canElevateAccess = allowsOperation(permissions, DELEGATION_OPERATIONS.elevateAccess);
  const canWriteAnyResource = allowsOperation(permissions, ANY_PROVIDER_WRITE);
  const privilegedActions = [
    ...(canWriteRoleAssignments ? [DELEGATION_OPERATIONS.writeRoleAssignments] : []),
    ...(canWriteRoleDefinitions ? [DELEGATION_OPERATIONS.writeRoleDefinitions] : []),
    ...(canElevateAccess ? [DELEGATION_OPERATIONS.elevateAccess] : []),
    ...(canWriteAnyResource ? ["*/write"] : []),
  ];
  // A non-read action pattern, with its wildcards made concrete, that notActions leave standing.
  const canWrite = permissions.some((block) =>
    block.actions.some((action) => !/\/read$/i.test(action) && !block.notActions.some((n) => compile(n).test(action.replaceAll("*", "x")))),
  );
  return {
    canWrite,
    canWriteRoleAssignments,
    canWriteRoleDefinitions,
    canElevateAccess,
    canWriteAnyResource,
    hasWildcardActions: permissions.some((b) => b.actions.includes("*")),
    hasWildcardDataActions: permissions.some((b) => b.dataActions.some((a) => a === "*" || a.endsWith("/*"))),
    privileged: privilegedActions.length > 0,
    privilegedActions,
  };
}
