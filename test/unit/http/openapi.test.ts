import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { functionRegistrations } from "../../../functions/index.js";
import { EXPORT_COLUMNS } from "../../../shared/http/export.js";
import { findingSchema } from "../../../shared/model/finding.js";

// The API's description is served as it is written: it must not drift from the routes and shapes the code has.

const doc = JSON.parse(await readFile(new URL("../../../docs/openapi.json", import.meta.url), "utf8")) as {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: { ExportRow: { required: string[] }; Finding: { properties: Record<string, unknown> } } };
};

describe("docs/openapi.json", () => {
  it("describes every HTTP function's route and method, and nothing else", () => {
    const described = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    const served = functionRegistrations.flatMap((r) => (r.trigger === "http" ? r.methods.map((m) => `${m} /${r.route}`) : []));
    expect(described.sort()).toEqual(served.sort());
  });

  it("lists the export's columns in the order the export writes them, and every field of a finding", () => {
    expect(doc.components.schemas.ExportRow.required).toEqual([...EXPORT_COLUMNS]);
    expect(Object.keys(doc.components.schemas.Finding.properties).sort()).toEqual(Object.keys(findingSchema.shape).sort());
  });
});
