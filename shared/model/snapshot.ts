import { z } from "zod";
import { readFile } from "node:fs/promises";
import { armRoleAssignmentSchema, armRoleDefinitionSchema, graphDirectoryObjectSchema } from "./azure.js";
import { SnapshotError } from "../errors.js";

const logRow = z.looseObject({ TimeGenerated: z.string() });

/** The tenant snapshot: a tenant's access in the shapes Azure returns (see docs/tenant-snapshot). */
export const tenantSnapshotSchema = z.looseObject({
  tenantId: z.string().min(1),
  managementGroups: z
    .array(z.looseObject({ id: z.string(), name: z.string(), properties: z.looseObject({}).optional() }))
    .default([]),
  subscriptions: z
    .array(
      z.looseObject({
        id: z.string(),
        subscriptionId: z.string(),
        displayName: z.string().optional(),
        managementGroupId: z.string().optional(),
      }),
    )
    .default([]),
  roleDefinitions: z.array(armRoleDefinitionSchema).default([]),
  roleAssignments: z.array(armRoleAssignmentSchema).default([]),
  // Absent means "not exported" (PIM facts unknown); an empty array means "no PIM instances".
  roleAssignmentScheduleInstances: z.array(z.looseObject({})).optional(),
  // PIM's requests (AdminAssign, SelfActivate, …): what tells a PIM-made assignment from a direct
  // one whose instance is only ARM's mirror. Absent means "not exported" (unknown), as above.
  roleAssignmentScheduleRequests: z.array(z.looseObject({})).optional(),
  roleEligibilitySchedules: z.array(z.looseObject({})).optional(),
  principals: z.array(graphDirectoryObjectSchema).default([]),
  resources: z.array(z.looseObject({ id: z.string() })).default([]),
  logs: z.record(z.string(), z.array(logRow)).default({}),
});
export type TenantSnapshot = z.infer<typeof tenantSnapshotSchema>;

/** Validates parsed JSON as a tenant snapshot; the error names the first bad paths. */
export function parseTenantSnapshot(json: unknown, source = "tenant snapshot"): TenantSnapshot {
  const parsed = tenantSnapshotSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    throw new SnapshotError(`${source} is not a valid tenant snapshot: ${issues}`);
  }
  return parsed.data;
}

/** Reads and validates a tenant snapshot file. */
export async function readTenantSnapshot(file: string): Promise<TenantSnapshot> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new SnapshotError(`cannot read tenant snapshot ${file}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SnapshotError(`${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseTenantSnapshot(json, file);
}
