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
  // Required even when empty: without them every assignment would be judged with no role at all.
  roleDefinitions: z.array(armRoleDefinitionSchema),
  roleAssignments: z.array(armRoleAssignmentSchema),
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

/** The sections a snapshot cannot do without, even empty: what would be silently missing otherwise. */
const REQUIRED_SECTIONS = ["roleDefinitions", "roleAssignments"] as const;

/** Validates parsed JSON as a tenant snapshot; the error names missing sections, else the first bad paths. */
export function parseTenantSnapshot(json: unknown, source = "tenant snapshot"): TenantSnapshot {
  if (typeof json === "object" && json !== null && !Array.isArray(json)) {
    const missing = REQUIRED_SECTIONS.filter((section) => !Object.hasOwn(json, section));
    if (missing.length) {
      const sections = missing.length === 1 ? `the ${missing[0]} section is` : `the ${missing.join(" and ")} sections are`;
      throw new SnapshotError(`${source} is not a valid tenant snapshot: ${sections} missing (a snapshot lists the tenant's role definitions and role assignments, [] when there are none)`);
    }
  }
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
