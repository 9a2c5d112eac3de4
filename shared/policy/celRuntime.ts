/**
 * The run-time half of compiled CEL: the semantics of `@marcbachmann/cel-js` 8 for values whose type
 * is only known when a condition runs (dynamic dispatch, int overflow, equality across kinds, errors
 * absorbed by `&&`, `||` and the macros). Generated code calls these as `$.name`; the code generator
 * is `compile.ts`.
 */

/** The static or run-time kind of a CEL value. */
export type Kind = "string" | "bool" | "int" | "double" | "null" | "list" | "map" | "message" | "dyn";

/** Raised by compiled code where the interpreter raises an EvaluationError. */
class CelRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EvaluationError";
  }
}

const MAX_INT = 9223372036854775807n;
const MIN_INT = -9223372036854775808n;

/** Throws a CelRuntimeError without a stack trace: `&&`, `||` and `exists` absorb errors on hot paths, and a
 * JavaScript stack says nothing about where in the CEL expression the error arose. */
function fail(message: string): never {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const error = new CelRuntimeError(message);
  Error.stackTraceLimit = limit;
  throw error;
}

type RuntimeKind = Kind | "unsupported";

function runtimeKind(v: unknown): RuntimeKind {
  switch (typeof v) {
    case "string":
      return "string";
    case "bigint":
      return "int";
    case "number":
      return "double";
    case "boolean":
      return "bool";
    case "object": {
      if (v === null) return "null";
      const ctor: unknown = (v as { constructor?: unknown }).constructor;
      if (ctor === undefined || ctor === Object || ctor === Map) return "map";
      if (ctor === Array || ctor === Set) return "list";
      return "message";
    }
    default:
      return "unsupported";
  }
}

function isList(v: unknown): v is unknown[] | Set<unknown> {
  return typeof v === "object" && v !== null && (v.constructor === Array || v.constructor === Set);
}

function isMap(v: unknown): v is Record<string, unknown> | Map<unknown, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const ctor: unknown = v.constructor;
  return ctor === undefined || ctor === Object || ctor === Map;
}

function mismatch(what: string, type: string, v: unknown): never {
  return fail(`${what} is not of type '${type}', got '${runtimeKind(v)}'`);
}

function bound(v: unknown, what: string): void {
  if (v === undefined) fail(`No such key: ${what}`);
}

const vStr = (v: unknown, w: string): unknown => (typeof v === "string" ? v : (bound(v, w), mismatch(w, "string", v)));
const vBool = (v: unknown, w: string): unknown => (typeof v === "boolean" ? v : (bound(v, w), mismatch(w, "bool", v)));
const vInt = (v: unknown, w: string): unknown => (typeof v === "bigint" ? v : (bound(v, w), mismatch(w, "int", v)));
const vDbl = (v: unknown, w: string): unknown => (typeof v === "number" ? v : (bound(v, w), mismatch(w, "double", v)));
const vNull = (v: unknown, w: string): unknown => (v === null ? v : (bound(v, w), mismatch(w, "null", v)));
const vList = (v: unknown, w: string): unknown => (isList(v) ? v : (bound(v, w), mismatch(w, "list", v)));
const vMap = (v: unknown, w: string): unknown => (isMap(v) ? v : (bound(v, w), mismatch(w, "map", v)));
const vMsg = (v: unknown, w: string): unknown => (runtimeKind(v) === "message" ? v : (bound(v, w), mismatch(w, "message", v)));
const vDyn = (v: unknown, w: string): unknown => (runtimeKind(v) !== "unsupported" ? v : (bound(v, w), fail(`Unsupported type: ${typeof v}`)));

/** A context variable: undefined is "Unknown variable", like the interpreter's RootContext. */
function variable(v: unknown, name: string): unknown {
  if (v === undefined) fail(`Unknown variable: ${name}`);
  return v;
}

/** `.` on a dyn value, as the interpreter's dynamic fieldAccess. */
function dynField(o: unknown, key: string): unknown {
  const kind = runtimeKind(o);
  let v: unknown;
  if (kind === "map") {
    v = o instanceof Map ? o.get(key) : Object.hasOwn(o as object, key) ? (o as Record<string, unknown>)[key] : undefined;
  } else if (kind === "message") {
    v = (o as Record<string, unknown>)[key];
  }
  if (v === undefined) fail(`No such key: ${key}`);
  return vDyn(v, key);
}

function celEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  switch (typeof a) {
    case "bigint":
      return typeof b === "number" && a <= b && a >= b; // exact int/double equality (false for NaN)
    case "number":
      return typeof b === "bigint" && a <= b && a >= b;
    case "object": {
      if (typeof b !== "object" || a === null || b === null) return false;
      const ka = runtimeKind(a);
      if (ka !== runtimeKind(b)) return false;
      if (ka === "list") return listEquals(a as unknown[] | Set<unknown>, b as unknown[] | Set<unknown>);
      if (ka === "map") return mapEquals(a as Record<string, unknown> | Map<unknown, unknown>, b as Record<string, unknown> | Map<unknown, unknown>);
      return false;
    }
    default:
      return false;
  }
}

function listEquals(a: unknown[] | Set<unknown>, b: unknown[] | Set<unknown>): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!celEquals(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  const arr = Array.isArray(a) ? a : (b as unknown[]);
  const set = a instanceof Set ? a : (b as Set<unknown>);
  if (arr.length !== set.size) return false;
  for (const v of arr) if (!set.has(v)) return false;
  return true;
}

function mapEntries(m: Record<string, unknown> | Map<unknown, unknown>): [unknown, unknown][] {
  return m instanceof Map ? [...m] : Object.keys(m).map((k) => [k, m[k]]);
}

function mapEquals(a: Record<string, unknown> | Map<unknown, unknown>, b: Record<string, unknown> | Map<unknown, unknown>): boolean {
  const ea = mapEntries(a);
  const eb = new Map(mapEntries(b));
  if (ea.length !== eb.size) return false;
  for (const [k, v] of ea) if (!eb.has(k) || !celEquals(v, eb.get(k))) return false;
  return true;
}

/** The element kind the interpreter infers for a list from its first element (debugTypeDeep). */
function firstKind(v: unknown): RuntimeKind | undefined {
  if (Array.isArray(v)) return v.length ? runtimeKind(v[0]) : undefined;
  if (v instanceof Set) return v.size ? runtimeKind(v.values().next().value) : undefined;
  return undefined;
}

/** `==` where one side is dyn: lists whose first elements differ in type find no overload, so compare by identity. */
function eqDyn(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isList(a) && isList(b)) {
    const fa = firstKind(a);
    const fb = firstKind(b);
    if (fa !== undefined && fb !== undefined && fa !== fb) return false;
  }
  return celEquals(a, b);
}

function noOverload(op: string, a: unknown, b: unknown): never {
  return fail(`no such overload: ${runtimeKind(a)} ${op} ${runtimeKind(b)}`);
}

function comparable(op: string, a: unknown, b: unknown): void {
  const ta = typeof a;
  const tb = typeof b;
  if (ta === tb ? ta === "string" || ta === "bigint" || ta === "number" || ta === "boolean" : (ta === "bigint" && tb === "number") || (ta === "number" && tb === "bigint")) return;
  noOverload(op, a, b);
}

// The operands are checked by `comparable` to be two strings, two booleans, or ints/doubles in any mix.
type Ordered = string | number | bigint | boolean;
const lt = (a: unknown, b: unknown): boolean => (comparable("<", a, b), (a as Ordered) < (b as Ordered));
const le = (a: unknown, b: unknown): boolean => (comparable("<=", a, b), (a as Ordered) <= (b as Ordered));
const gt = (a: unknown, b: unknown): boolean => (comparable(">", a, b), (a as Ordered) > (b as Ordered));
const ge = (a: unknown, b: unknown): boolean => (comparable(">=", a, b), (a as Ordered) >= (b as Ordered));

function checkInt(v: bigint): bigint {
  if (v > MAX_INT || v < MIN_INT) fail(`integer overflow: ${v}`);
  return v;
}

const addI = (a: bigint, b: bigint): bigint => checkInt(a + b);
const subI = (a: bigint, b: bigint): bigint => checkInt(a - b);
const mulI = (a: bigint, b: bigint): bigint => checkInt(a * b);
const divI = (a: bigint, b: bigint): bigint => (b === 0n ? fail("division by zero") : a / b);
const modI = (a: bigint, b: bigint): bigint => (b === 0n ? fail("modulo by zero") : a % b);

function concat(a: unknown[] | Set<unknown>, b: unknown[] | Set<unknown>): unknown[] {
  return [...a, ...b];
}

function arith(op: string, a: unknown, b: unknown): unknown {
  const ta = typeof a;
  if (ta === typeof b) {
    if (ta === "bigint") {
      const x = a as bigint;
      const y = b as bigint;
      switch (op) {
        case "+":
          return addI(x, y);
        case "-":
          return subI(x, y);
        case "*":
          return mulI(x, y);
        case "/":
          return divI(x, y);
        default:
          return modI(x, y);
      }
    }
    if (ta === "number" && op !== "%") {
      const x = a as number;
      const y = b as number;
      return op === "+" ? x + y : op === "-" ? x - y : op === "*" ? x * y : x / y;
    }
    if (ta === "string" && op === "+") return (a as string) + (b as string);
  }
  if (op === "+" && isList(a) && isList(b)) return concat(a, b);
  return noOverload(op, a, b);
}

function not(v: unknown): boolean {
  return typeof v === "boolean" ? !v : fail(`no such overload: !${runtimeKind(v)}`);
}

function neg(v: unknown): unknown {
  if (typeof v === "bigint") return -v;
  if (typeof v === "number") return -v;
  return fail(`no such overload: -${runtimeKind(v)}`);
}

function cond(v: unknown): boolean {
  return typeof v === "boolean" ? v : fail(`Ternary condition must be bool, got '${runtimeKind(v)}'`);
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new CelRuntimeError(String(e));
}

/** `l && r` once l is known not to be false (l may be true, an Error, or a non-bool). */
function andRest(l: unknown, r: unknown): boolean {
  if (r === false) return false;
  if (r === true) {
    if (l === true) return true;
    throw l instanceof Error ? l : new CelRuntimeError(`Logical operator requires bool operands, got '${runtimeKind(l)}'`);
  }
  return fail(`Logical operator requires bool operands, got '${runtimeKind(r)}'`);
}

/** `l || r` once l is known not to be true. */
function orRest(l: unknown, r: unknown): boolean {
  if (r === true) return true;
  if (r === false) {
    if (l === false) return false;
    throw l instanceof Error ? l : new CelRuntimeError(`Logical operator requires bool operands, got '${runtimeKind(l)}'`);
  }
  return fail(`Logical operator requires bool operands, got '${runtimeKind(r)}'`);
}

function stringSize(s: string): bigint {
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point, as `for (const c of s)` counts.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    count++;
  }
  return BigInt(count);
}

function listSize(v: unknown[] | Set<unknown>): bigint {
  return BigInt(Array.isArray(v) ? v.length : v.size);
}

function mapSize(v: Record<string, unknown> | Map<unknown, unknown>): bigint {
  return BigInt(v instanceof Map ? v.size : Object.keys(v).length);
}

function size(v: unknown): bigint {
  if (typeof v === "string") return stringSize(v);
  if (isList(v)) return listSize(v);
  if (isMap(v)) return mapSize(v);
  return fail(`found no matching overload for 'size(${runtimeKind(v)})'`);
}

function str(v: unknown, method: string): string {
  return typeof v === "string" ? v : fail(`found no matching overload for '${runtimeKind(v)}.${method}(...)'`);
}

const regexCache = new Map<string, RegExp | null>();

function regex(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern);
    } catch {
      re = null;
    }
    if (regexCache.size < 1000) regexCache.set(pattern, re);
  }
  return re;
}

function matches(s: string, pattern: string): boolean {
  const re = regex(pattern);
  return re === null ? fail(`Invalid regular expression: ${pattern}`) : re.test(s);
}

function badRegex(pattern: string): never {
  return fail(`Invalid regular expression: ${pattern}`);
}

function inList(v: unknown, list: unknown[] | Set<unknown>): boolean {
  if (list instanceof Set && list.has(v)) return true;
  for (const item of list) if (celEquals(v, item)) return true;
  return false;
}

function inMap(k: unknown, m: Record<string, unknown> | Map<unknown, unknown>): boolean {
  if (m instanceof Map) return m.get(k) !== undefined;
  return typeof k === "string" && Object.hasOwn(m, k) ? m[k] !== undefined : false;
}

/** `in` with a dyn right operand. */
function inDyn(v: unknown, c: unknown): boolean {
  if (isList(c)) return inList(v, c);
  if (isMap(c)) return inMap(v, c);
  return noOverload("in", v, c);
}

/** The items a comprehension iterates, as the interpreter's toIterable. */
function items(c: unknown): readonly unknown[] {
  if (Array.isArray(c)) return c;
  if (c instanceof Set) return [...c];
  if (c instanceof Map) return [...c.keys()];
  if (c !== null && typeof c === "object") return Object.keys(c);
  return fail(`Expression of type '${runtimeKind(c)}' cannot be range of a comprehension (must be list, map, or dynamic).`);
}

function predicate(v: unknown): boolean {
  return typeof v === "boolean" ? v : fail(`predicate must return bool, got '${runtimeKind(v)}'`);
}

/** One step of `has(a.b.c)` on a non-message value: the field, or undefined when absent. */
function hasStep(o: unknown, key: string): unknown {
  const kind = runtimeKind(o);
  if (kind === "map") return o instanceof Map ? o.get(key) : Object.hasOwn(o as object, key) ? (o as Record<string, unknown>)[key] : undefined;
  if (kind === "message") return (o as Record<string, unknown>)[key];
  if (kind === "unsupported") fail(`Unsupported type: ${typeof o}`);
  return undefined;
}

function has(root: unknown, path: readonly string[]): boolean {
  let o = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    o = hasStep(o, key);
    if (o === undefined) {
      if (i < path.length - 1) fail(`No such key: ${key}`);
      return false;
    }
  }
  return true;
}

/** Every helper generated code may call, by name. */
export const HELPERS = {
  vStr, vBool, vInt, vDbl, vNull, vList, vMap, vMsg, vDyn, variable, dynField,
  celEquals, eqDyn, lt, le, gt, ge, addI, subI, mulI, divI, modI, concat, arith, not, neg, cond, asError, andRest, orRest,
  stringSize, listSize, mapSize, size, str, regex, matches, badRegex, inList, inMap, inDyn, items, predicate, has, fail,
};
