/**
 * Compiles a type-checked cel-js AST to a plain JavaScript function, so hot policy conditions do not pay
 * for the tree-walking interpreter. The interpreter stays the oracle: every construct here mirrors what
 * `@marcbachmann/cel-js` 8 does at run time (dynamic dispatch on `dyn` values, error absorption in `&&`/`||`
 * and in the `exists`/`all` macros, field-type validation on typed messages), and anything this file is not
 * sure about makes `compileCelToJs` return undefined so the caller keeps the interpreter.
 *
 * The AST must have been type-checked by the environment (`parsed.check()` or one interpreter run), because
 * the compiler reads the `checkedType` cel-js leaves on each node to know field types and to pick fast paths.
 *
 * Safety: literals are emitted with JSON.stringify (or as hoisted constants), field and variable names only
 * as JSON-quoted property keys, and generated local names come from this file, never from the expression.
 */

/** What the type checker leaves on a node (cel-js internal TypeDeclaration; only the fields we read). */
interface CheckedType {
  readonly kind: string;
  readonly name: string;
  readonly valueType?: CheckedType;
  readonly keyType?: CheckedType;
}

interface Node {
  readonly op: string;
  readonly args: unknown;
  readonly checkedType?: CheckedType;
}

class Unsupported extends Error {}

/** Raised by compiled code where the interpreter raises an EvaluationError. */
export class CelRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EvaluationError";
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PRIMITIVES = new Set(["string", "bool", "int", "double", "null"]);

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as { op?: unknown }).op === "string" && "args" in value;
}

function node(value: unknown): Node {
  if (!isNode(value)) throw new Unsupported("not an AST node");
  return value;
}

function nodes(value: unknown): Node[] {
  if (!Array.isArray(value)) throw new Unsupported("expected a node list");
  return value.map(node);
}

function pair(value: unknown): [Node, Node] {
  const [left, right] = nodes(value);
  if (!left || !right || (value as unknown[]).length !== 2) throw new Unsupported("expected two operands");
  return [left, right];
}

function typeOf(n: Node): CheckedType {
  const type = n.checkedType;
  if (!type || typeof type.kind !== "string" || typeof type.name !== "string") throw new Unsupported("AST is not type-checked");
  return type;
}

type Kind = "string" | "bool" | "int" | "double" | "null" | "list" | "map" | "message" | "dyn";

/** The static kind of a checked type; throws Unsupported for kinds this compiler does not model. */
function kindOfType(type: CheckedType): Kind {
  switch (type.kind) {
    case "primitive":
      if (PRIMITIVES.has(type.name)) return type.name as Kind;
      throw new Unsupported(`type ${type.name}`);
    case "list":
    case "map":
    case "message":
    case "dyn":
      return type.kind;
    case "param":
      return "dyn";
    default:
      throw new Unsupported(`type ${type.name}`);
  }
}

function kindOf(n: Node): Kind {
  return kindOfType(typeOf(n));
}

/** The type a value must have once bound to this declared type (variable, field, iteration variable). */
function validator(type: CheckedType): string {
  const kind = kindOfType(type);
  if (kind === "message") {
    if (type.name === "CelNamespace") throw new Unsupported("cel namespace");
    return "vMsg";
  }
  return ({ string: "vStr", bool: "vBool", int: "vInt", double: "vDbl", null: "vNull", list: "vList", map: "vMap", dyn: "vDyn" } as const)[kind];
}

/* ------------------------------------------------------------------------------------------------ */
/* Run-time helpers: the semantics of cel-js for values whose type is only known at run time.        */
/* ------------------------------------------------------------------------------------------------ */

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

const HELPERS = {
  vStr, vBool, vInt, vDbl, vNull, vList, vMap, vMsg, vDyn, variable, dynField,
  celEquals, eqDyn, lt, le, gt, ge, addI, subI, mulI, divI, modI, concat, arith, not, neg, cond, asError, andRest, orRest,
  stringSize, listSize, mapSize, size, str, regex, matches, badRegex, inList, inMap, inDyn, items, predicate, has, fail,
};

/* ------------------------------------------------------------------------------------------------ */
/* Code generation.                                                                                   */
/* ------------------------------------------------------------------------------------------------ */

/** A generated JavaScript expression with the static kind of its value. */
interface Code {
  readonly js: string;
  readonly kind: Kind;
}

class Generator {
  readonly hoisted: string[] = [];
  #next = 0;

  name(prefix: string): string {
    return `${prefix}${this.#next++}`;
  }

  /** Hoists a constant built once at compile time; returns its local name. */
  constant(js: string): string {
    const name = this.name("K");
    this.hoisted.push(`const ${name} = ${js};`);
    return name;
  }

  /**
   * Hoists a function over the context and the iteration variables in scope; returns a call to it.
   * Used where the generated code needs statements (try/catch, loops).
   */
  fn(scope: Scope, body: (params: Scope) => string): string {
    const name = this.name("F");
    const params = ["c", ...scope.values()];
    this.hoisted.push(`function ${name}(${params.join(", ")}) {\n${body(scope)}\n}`);
    return `${name}(${params.join(", ")})`;
  }
}

/** CEL iteration variable name → generated JavaScript local holding its value. */
type Scope = ReadonlyMap<string, string>;

function literal(value: unknown): Code {
  switch (typeof value) {
    case "string":
      return { js: JSON.stringify(value), kind: "string" };
    case "boolean":
      return { js: value ? "true" : "false", kind: "bool" };
    case "bigint":
      return { js: `${value.toString()}n`, kind: "int" };
    case "number":
      if (!Number.isFinite(value) || Object.is(value, -0)) throw new Unsupported("non-finite double literal");
      return { js: `(${JSON.stringify(value)})`, kind: "double" };
    case "object":
      if (value === null) return { js: "null", kind: "null" };
      throw new Unsupported("bytes or uint literal");
    default:
      throw new Unsupported("literal");
  }
}

/** `[...]` made only of string/bool/null/int literals: its values, for hoisting. */
function literalList(n: Node): unknown[] | undefined {
  if (n.op !== "list" || !Array.isArray(n.args)) return undefined;
  const values: unknown[] = [];
  for (const element of nodes(n.args)) {
    if (element.op !== "value") return undefined;
    const v = element.args;
    if (!(typeof v === "string" || typeof v === "boolean" || typeof v === "bigint" || v === null)) return undefined;
    values.push(v);
  }
  return values;
}

function valueJs(v: unknown): string {
  return literal(v).js;
}

class Compiler {
  readonly gen = new Generator();

  expr(n: Node, scope: Scope): Code {
    switch (n.op) {
      case "value":
        return literal(n.args);
      case "id":
        return this.identifier(n, scope);
      case ".":
        return this.field(n, scope);
      case "list":
        return { js: `[${nodes(n.args).map((e) => this.expr(e, scope).js).join(", ")}]`, kind: "list" };
      case "?:": {
        const [c, a, b] = nodes(n.args);
        if (!c || !a || !b) throw new Unsupported("ternary");
        return { js: `(cond(${this.expr(c, scope).js}) ? ${this.expr(a, scope).js} : ${this.expr(b, scope).js})`, kind: kindOf(n) };
      }
      case "&&":
      case "||":
        return this.logical(n, scope);
      case "!_": {
        const arg = this.expr(node(n.args), scope);
        return { js: arg.kind === "bool" ? `!${arg.js}` : `not(${arg.js})`, kind: "bool" };
      }
      case "-_": {
        const arg = this.expr(node(n.args), scope);
        return { js: arg.kind === "int" || arg.kind === "double" ? `(-${arg.js})` : `neg(${arg.js})`, kind: kindOf(n) };
      }
      case "==":
      case "!=":
        return this.equality(n, scope);
      case "<":
      case "<=":
      case ">":
      case ">=":
        return this.relational(n, scope);
      case "+":
      case "-":
      case "*":
      case "/":
      case "%":
        return this.arithmetic(n, scope);
      case "in":
        return this.membership(n, scope);
      case "call":
        return this.call(n, scope);
      case "rcall":
        return this.methodCall(n, scope);
      default:
        throw new Unsupported(`operator ${n.op}`);
    }
  }

  identifier(n: Node, scope: Scope): Code {
    const name = n.args;
    if (typeof name !== "string") throw new Unsupported("identifier");
    const local = scope.get(name);
    if (local !== undefined) return { js: local, kind: kindOf(n) };
    const type = typeOf(n);
    const key = JSON.stringify(name);
    return { js: `${validator(type)}(variable(c[${key}], ${key}), ${JSON.stringify(`Variable '${name}'`)})`, kind: kindOfType(type) };
  }

  field(n: Node, scope: Scope): Code {
    const [target, key] = n.args as [unknown, unknown];
    if (typeof key !== "string") throw new Unsupported("field name");
    const object = this.expr(node(target), scope);
    const quoted = JSON.stringify(key);
    if (object.kind === "message") {
      const type = typeOf(n);
      if (kindOfType(type) === "message") throw new Unsupported("nested message field");
      // A constant key read inline stays monomorphic per call site (a shared helper would not).
      return { js: `${validator(type)}(${object.js}[${quoted}], ${quoted})`, kind: kindOfType(type) };
    }
    if (object.kind === "map" || object.kind === "dyn") return { js: `dynField(${object.js}, ${quoted})`, kind: kindOf(n) };
    throw new Unsupported(`field access on ${object.kind}`);
  }

  logical(n: Node, scope: Scope): Code {
    const [left, right] = pair(n.args);
    const isAnd = n.op === "&&";
    const absorbing = isAnd ? "false" : "true";
    const call = this.gen.fn(scope, (inner) => {
      const l = this.expr(left, inner).js;
      const r = this.expr(right, inner).js;
      return [
        `  let l;`,
        `  try { l = ${l}; } catch (e) { l = asError(e); }`,
        `  if (l === ${absorbing}) return ${absorbing};`,
        `  const r = ${r};`,
        `  return l === ${isAnd ? "true" : "false"} && typeof r === "boolean" ? r : ${isAnd ? "andRest" : "orRest"}(l, r);`,
      ].join("\n");
    });
    return { js: call, kind: "bool" };
  }

  equality(n: Node, scope: Scope): Code {
    const [left, right] = pair(n.args);
    const a = this.expr(left, scope);
    const b = this.expr(right, scope);
    const negate = n.op === "!=";
    if (a.kind === b.kind && PRIMITIVES.has(a.kind)) return { js: `(${a.js} ${negate ? "!==" : "==="} ${b.js})`, kind: "bool" };
    const hoistedList = (side: Node): string | undefined => {
      const values = literalList(side);
      return values ? this.gen.constant(`Object.freeze([${values.map(valueJs).join(", ")}])`) : undefined;
    };
    const aj = hoistedList(left) ?? a.js;
    const bj = hoistedList(right) ?? b.js;
    const dynamic = typeOf(left).name.includes("dyn") || typeOf(right).name.includes("dyn");
    const js = `${dynamic ? "eqDyn" : "celEquals"}(${aj}, ${bj})`;
    return { js: negate ? `!${js}` : js, kind: "bool" };
  }

  relational(n: Node, scope: Scope): Code {
    const [left, right] = pair(n.args);
    const a = this.expr(left, scope);
    const b = this.expr(right, scope);
    const numeric = (k: Kind) => k === "int" || k === "double";
    if ((a.kind === b.kind && (a.kind === "string" || a.kind === "bool" || numeric(a.kind))) || (numeric(a.kind) && numeric(b.kind))) {
      return { js: `(${a.js} ${n.op} ${b.js})`, kind: "bool" };
    }
    if (a.kind !== "dyn" && b.kind !== "dyn") throw new Unsupported(`${a.kind} ${n.op} ${b.kind}`);
    const helper = ({ "<": "lt", "<=": "le", ">": "gt", ">=": "ge" } as Record<string, string>)[n.op];
    return { js: `${helper}(${a.js}, ${b.js})`, kind: "bool" };
  }

  arithmetic(n: Node, scope: Scope): Code {
    const [left, right] = pair(n.args);
    const a = this.expr(left, scope);
    const b = this.expr(right, scope);
    const op = n.op;
    if (a.kind === "int" && b.kind === "int") {
      const helper = ({ "+": "addI", "-": "subI", "*": "mulI", "/": "divI", "%": "modI" } as Record<string, string>)[op];
      return { js: `${helper}(${a.js}, ${b.js})`, kind: "int" };
    }
    if (a.kind === "double" && b.kind === "double" && op !== "%") return { js: `(${a.js} ${op} ${b.js})`, kind: "double" };
    if (a.kind === "string" && b.kind === "string" && op === "+") return { js: `(${a.js} + ${b.js})`, kind: "string" };
    if (a.kind === "list" && b.kind === "list" && op === "+" && !typeOf(n).name.includes("dyn")) return { js: `concat(${a.js}, ${b.js})`, kind: "list" };
    const okKinds = new Set<Kind>(["int", "double", "string", "list", "dyn"]);
    if (!okKinds.has(a.kind) || !okKinds.has(b.kind)) throw new Unsupported(`${a.kind} ${op} ${b.kind}`);
    return { js: `arith(${JSON.stringify(op)}, ${a.js}, ${b.js})`, kind: kindOf(n) };
  }

  membership(n: Node, scope: Scope): Code {
    const [left, right] = pair(n.args);
    const a = this.expr(left, scope);
    const values = literalList(right);
    if (values) {
      // Strings, booleans and null are equal in CEL exactly when they are ===, so a Set answers `in`;
      // ints need CEL's int/double equality when the left side may be a double.
      const exact = values.every((v) => typeof v !== "bigint") || a.kind === "int";
      if (exact) {
        const set = this.gen.constant(`new Set([${values.map(valueJs).join(", ")}])`);
        return { js: `${set}.has(${a.js})`, kind: "bool" };
      }
      const list = this.gen.constant(`Object.freeze([${values.map(valueJs).join(", ")}])`);
      return { js: `inList(${a.js}, ${list})`, kind: "bool" };
    }
    const b = this.expr(right, scope);
    if (b.kind === "list") return { js: `inList(${a.js}, ${b.js})`, kind: "bool" };
    if (b.kind === "map") return { js: `inMap(${a.js}, ${b.js})`, kind: "bool" };
    if (b.kind === "dyn") return { js: `inDyn(${a.js}, ${b.js})`, kind: "bool" };
    throw new Unsupported(`in ${b.kind}`);
  }

  call(n: Node, scope: Scope): Code {
    const [name, rawArgs] = n.args as [unknown, unknown];
    const args = nodes(rawArgs);
    if (name === "has" && args.length === 1) return this.hasMacro(node(args[0]), scope);
    if (name === "size" && args.length === 1) return this.size(this.expr(node(args[0]), scope));
    throw new Unsupported(`function ${String(name)}`);
  }

  size(arg: Code): Code {
    const helper = ({ string: "stringSize", list: "listSize", map: "mapSize", dyn: "size" } as Partial<Record<Kind, string>>)[arg.kind];
    if (!helper) throw new Unsupported(`size(${arg.kind})`);
    return { js: `${helper}(${arg.js})`, kind: "int" };
  }

  hasMacro(arg: Node, scope: Scope): Code {
    const path: string[] = [];
    let current = arg;
    if (current.op !== ".") throw new Unsupported("has() argument");
    while (current.op === ".") {
      const [target, key] = current.args as [unknown, unknown];
      if (typeof key !== "string") throw new Unsupported("has() field");
      path.unshift(key);
      current = node(target);
    }
    if (current.op !== "id") throw new Unsupported("has() root");
    const root = this.identifier(current, scope);
    // On a typed message has() validates field types the compiler cannot see: keep the interpreter.
    if (root.kind !== "map" && root.kind !== "dyn") throw new Unsupported(`has() on ${root.kind}`);
    const keys = this.gen.constant(`Object.freeze(${JSON.stringify(path)})`);
    return { js: `has(${root.js}, ${keys})`, kind: "bool" };
  }

  methodCall(n: Node, scope: Scope): Code {
    const [name, rawReceiver, rawArgs] = n.args as [unknown, unknown, unknown];
    const receiverNode = node(rawReceiver);
    const args = nodes(rawArgs);
    switch (name) {
      case "exists":
      case "all":
      case "exists_one":
      case "filter":
      case "map":
        return this.comprehension(name, receiverNode, args, scope);
      default:
    }
    const receiver = this.expr(receiverNode, scope);
    if (name === "size" && args.length === 0) return this.size(receiver);
    const stringReceiver = (method: string) => (receiver.kind === "string" ? receiver.js : receiver.kind === "dyn" ? `str(${receiver.js}, ${JSON.stringify(method)})` : undefined);
    switch (name) {
      case "lowerAscii":
      case "upperAscii": {
        const s = stringReceiver(name);
        if (!s || args.length !== 0) break;
        return { js: `${s}.${name === "lowerAscii" ? "toLowerCase" : "toUpperCase"}()`, kind: "string" };
      }
      case "startsWith":
      case "endsWith":
      case "contains":
      case "matches": {
        const s = stringReceiver(name);
        const argNode = args[0];
        if (!s || args.length !== 1 || !argNode) break;
        if (name === "matches" && argNode.op === "value" && typeof argNode.args === "string") {
          const re = this.gen.constant(`regex(${JSON.stringify(argNode.args)})`);
          return { js: `(${re} === null ? badRegex(${JSON.stringify(argNode.args)}) : ${re}.test(${s}))`, kind: "bool" };
        }
        const arg = this.expr(argNode, scope);
        const a = arg.kind === "string" ? arg.js : arg.kind === "dyn" ? `str(${arg.js}, ${JSON.stringify(name)})` : undefined;
        if (!a) break;
        const method = ({ startsWith: "startsWith", endsWith: "endsWith", contains: "includes" } as Record<string, string>)[name];
        return { js: method ? `${s}.${method}(${a})` : `matches(${s}, ${a})`, kind: "bool" };
      }
      default:
    }
    throw new Unsupported(`method ${String(name)}`);
  }

  comprehension(name: string, receiverNode: Node, args: Node[], scope: Scope): Code {
    const iterVarNode = args[0];
    if (!iterVarNode || iterVarNode.op !== "id" || typeof iterVarNode.args !== "string") throw new Unsupported("macro variable");
    const iterVar = iterVarNode.args;
    const expected = name === "map" ? [2, 3] : [2];
    if (!expected.includes(args.length)) throw new Unsupported(`${name} arity`);
    const iterableType = typeOf(receiverNode);
    const iterableKind = kindOfType(iterableType);
    const elementType = iterableKind === "list" ? iterableType.valueType : iterableKind === "map" ? iterableType.keyType : iterableKind === "dyn" ? iterableType : undefined;
    if (!elementType) throw new Unsupported(`range over ${iterableKind}`);
    const check = validator(elementType);
    const iterable = this.expr(receiverNode, scope);
    const local = this.gen.name("v");
    const inner = new Map(scope).set(iterVar, local);
    const [first, second] = [args[1], args[2]];
    if (!first) throw new Unsupported("macro body");
    const call = this.gen.fn(scope, () => {
      const head = [
        `  const xs = items(${iterable.js});`,
        `  const n = xs.length;`,
      ];
      const bind = `    const ${local} = ${check}(xs[i], "iteration variable");`;
      const pred = (p: Node) => this.expr(p, inner).js;
      switch (name) {
        case "all":
        case "exists": {
          const stop = name === "all" ? "false" : "true";
          return [
            ...head,
            `  let err;`,
            `  for (let i = 0; i < n; i++) {`,
            bind,
            `    let p;`,
            `    try { p = predicate(${pred(first)}); } catch (e) { if (err === undefined) err = asError(e); continue; }`,
            `    if (p === ${stop}) return ${stop};`,
            `  }`,
            `  if (err !== undefined) throw err;`,
            `  return ${name === "all" ? "true" : "false"};`,
          ].join("\n");
        }
        case "exists_one":
          return [...head, `  let count = 0;`, `  for (let i = 0; i < n; i++) {`, bind, `    if (predicate(${pred(first)})) count++;`, `  }`, `  return count === 1;`].join("\n");
        case "filter":
          return [...head, `  const out = [];`, `  for (let i = 0; i < n; i++) {`, bind, `    if (predicate(${pred(first)})) out.push(${local});`, `  }`, `  return out;`].join("\n");
        default: {
          const body = second ? `    if (predicate(${pred(first)})) out.push(${pred(second)});` : `    out.push(${pred(first)});`;
          return [...head, `  const out = [];`, `  for (let i = 0; i < n; i++) {`, bind, body, `  }`, `  return out;`].join("\n");
        }
      }
    });
    const kind: Kind = name === "map" || name === "filter" ? "list" : "bool";
    return { js: call, kind };
  }
}

export type CompiledCel = (context: Record<string, object>) => unknown;

/** Compiles a cel-js AST to a JavaScript function over the variables; undefined when the AST uses a construct this compiler does not cover (the caller keeps the interpreter). */
export function compileCelToJs(ast: unknown): CompiledCel | undefined {
  return compileCelToJsSource(ast)?.fn;
}

/** As compileCelToJs, with the generated source (for tests and debugging). */
export function compileCelToJsSource(ast: unknown): { fn: CompiledCel; source: string } | undefined {
  let source: string;
  try {
    const root = node(ast);
    typeOf(root);
    const compiler = new Compiler();
    const body = compiler.expr(root, new Map()).js;
    const helpers = Object.keys(HELPERS).filter((name) => IDENTIFIER.test(name));
    source = [
      `"use strict";`,
      `const { ${helpers.join(", ")} } = $;`,
      ...compiler.gen.hoisted,
      `return function compiledCel(c) {`,
      `  return ${body};`,
      `};`,
    ].join("\n");
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
  const factory = new Function("$", source) as (helpers: typeof HELPERS) => CompiledCel;
  return { fn: factory(HELPERS), source };
}
