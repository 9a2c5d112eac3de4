// Canonical JSON after RFC 8785 (JSON Canonicalization Scheme): object members sorted by the
// UTF-16 code units of their names, no whitespace, strings and numbers serialized as ECMAScript's
// JSON.stringify does (which is what RFC 8785 specifies). The trail's records hold only strings,
// integers, booleans, null, arrays and objects, so this small subset is the whole scheme for them;
// what JCS cannot represent (NaN, Infinity, undefined, lone surrogates, anything not plain JSON)
// is refused rather than guessed at, so two parties never hash different bytes for one record.

/** A JSON value as the trail stores it. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function text(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) throw new TypeError(`canonical JSON: ${path} holds a lone surrogate (not I-JSON, RFC 7493)`);
  return JSON.stringify(value);
}

function serialize(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return text(value, path);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${path} is ${value}, which JSON cannot hold`);
      // ECMAScript's Number-to-String is RFC 8785's number format (and -0 serializes as 0).
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((item, i) => serialize(item, `${path}[${i}]`)).join(",")}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new TypeError(`canonical JSON: ${path} is not a plain object`);
      // The default sort compares UTF-16 code units, exactly RFC 8785's member order.
      const names = Object.keys(value).sort();
      const members = names.map((name) => `${text(name, path)}:${serialize((value as Record<string, unknown>)[name], `${path}.${name}`)}`);
      return `{${members.join(",")}}`;
    }
    default:
      throw new TypeError(`canonical JSON: ${path} is a ${typeof value}, which JSON cannot hold`);
  }
}

/** The RFC 8785 canonical form of a JSON value; throws TypeError for anything JSON cannot hold exactly. */
export function canonicalJson(value: unknown): string {
  return serialize(value, "$");
}
