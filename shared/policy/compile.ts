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

import { HELPERS, type Kind } from "./celRuntime.js";

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
