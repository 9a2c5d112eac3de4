import { readFile } from "node:fs/promises";
import { parseTenantSnapshot, type TenantSnapshot } from "../../shared/model/snapshot.js";
import { fixture } from "./testAzure.js";

/** The small tenant with its assignments repeated `copies` times (new names, same scopes): a larger what-if with known content. */
export async function repeatedSmallTenant(copies: number): Promise<TenantSnapshot> {
  const small = parseTenantSnapshot(JSON.parse(await readFile(fixture("tenants/small.json"), "utf8")));
  const roleAssignments = Array.from({ length: copies }, (_, k) =>
    small.roleAssignments.map((a) => {
      const name = `${a.name.slice(0, 24)}${String(k).padStart(12, "0")}`;
      const scope = a.properties.scope === "/" ? "" : a.properties.scope;
      return { ...a, name, id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}` };
    }),
  ).flat();
  return { ...small, roleAssignments };
}
