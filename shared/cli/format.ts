/** Renders rows as a plain-text table with a header and aligned columns. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const plainNumbers = (_: string, v: unknown) => (typeof v === "bigint" ? Number(v) : v);

/** JSON with CEL ints (bigint) as plain numbers. */
export function json(value: unknown): string {
  return JSON.stringify(value, plainNumbers, 2);
}

/** JSON of a value nested `depth` levels deep in a pretty-printed document (each level two spaces). */
export function nestedJson(value: unknown, depth: number): string {
  return JSON.stringify(value, plainNumbers, 2).replace(/\n/g, `\n${"  ".repeat(depth)}`);
}

/** A count with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}
