// KQL's scalar values and tables as the local evaluator holds them, and their conversions from
// snapshot rows and to the JSON Log Analytics and Resource Graph answer with.

/** Column types as Log Analytics reports them in `columns[].type`. */
export type ColumnType = "string" | "long" | "real" | "bool" | "datetime" | "timespan" | "dynamic";

/** A datetime (UTC milliseconds since the epoch). */
export class KDateTime {
  constructor(readonly ms: number) {}
}

/** A timespan in milliseconds. */
export class KTimespan {
  constructor(readonly ms: number) {}
}

/** A dynamic value: any JSON value. */
export class KDynamic {
  constructor(readonly value: unknown) {}
}

/** One scalar value; null is KQL's null (strings are never null: they are empty). */
export type KValue = null | string | number | boolean | KDateTime | KTimespan | KDynamic;

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

/** A tabular value: typed columns and positional rows. */
export interface Table {
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly KValue[])[];
}

/** A KQL error, classified as Log Analytics classifies its 400s. */
export class KqlError extends Error {
  constructor(
    readonly kind: "SyntaxError" | "SemanticError",
    message: string,
    readonly position?: number,
  ) {
    super(message);
    this.name = "KqlError";
  }
}

/** The "null" of a column type: empty for strings, null for the rest. */
export function emptyOf(type: ColumnType): KValue {
  return type === "string" ? "" : null;
}

/** A snapshot value (JSON) as a value of `type`; what cannot be read as that type is null. */
export function fromJson(value: unknown, type: ColumnType): KValue {
  if (value === undefined || value === null) return emptyOf(type);
  switch (type) {
    case "string":
      return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
    case "datetime": {
      const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
      return Number.isNaN(ms) ? null : new KDateTime(ms);
    }
    case "long":
    case "real":
      return typeof value === "number" ? value : null;
    case "bool":
      return typeof value === "boolean" ? value : null;
    case "timespan":
      return null;
    case "dynamic":
      return new KDynamic(value);
  }
}

/** The type a JSON value suggests, for columns no schema declares. */
export function typeOfJson(value: unknown): ColumnType {
  if (typeof value === "number") return Number.isInteger(value) ? "long" : "real";
  if (typeof value === "boolean") return "bool";
  if (value !== null && typeof value === "object") return "dynamic";
  return "string";
}

/** A table from snapshot rows: the declared columns first, then any other key the rows carry. */
export function tableFromRows(rows: readonly Readonly<Record<string, unknown>>[], declared: readonly Column[] = []): Table {
  const columns: Column[] = [...declared];
  const known = new Set(declared.map((c) => c.name));
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      if (known.has(key) || value === undefined || value === null) continue;
      known.add(key);
      columns.push({ name: key, type: typeOfJson(value) });
    }
  }
  return { columns, rows: rows.map((row) => columns.map((c) => fromJson(row[c.name], c.type))) };
}

/** A datetime as Log Analytics writes it: ISO 8601, UTC, fractions only when present. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/** A timespan as KQL prints it: [-][d.]hh:mm:ss[.fffffff]. */
export function formatTimespan(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  const days = Math.floor(rest / 86_400_000);
  rest -= days * 86_400_000;
  const pad = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(rest / 3_600_000);
  const m = Math.floor((rest % 3_600_000) / 60_000);
  const s = Math.floor((rest % 60_000) / 1000);
  const frac = rest % 1000;
  return `${sign}${days ? `${days}.` : ""}${pad(h)}:${pad(m)}:${pad(s)}${frac ? `.${String(frac * 10_000).padStart(7, "0")}` : ""}`;
}

/** A value as it travels in a Log Analytics answer's rows (dynamic as JSON text, as the service sends it). */
export function toWire(value: KValue): unknown {
  if (value instanceof KDateTime) return formatDateTime(value.ms);
  if (value instanceof KTimespan) return formatTimespan(value.ms);
  if (value instanceof KDynamic) return value.value === null || value.value === undefined ? null : JSON.stringify(value.value);
  return value;
}

/** A value as plain JSON (Resource Graph's objectArray answers carry dynamic values as objects). */
export function toPlain(value: KValue): unknown {
  if (value instanceof KDynamic) return value.value ?? null;
  return toWire(value);
}
