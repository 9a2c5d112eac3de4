import { Environment } from "@marcbachmann/cel-js";
import { FACT_CATALOGUE, FACT_VARIABLES } from "../facts/catalogue.js";
import { FACT_CLASSES, celTypeName } from "../facts/build.js";
import type { ParameterValue } from "./policy.js";
import { compileCelToJs } from "./compile.js";

/** Builds the CEL environment once: one declared type per fact variable, fields from the catalogue. */
function buildEnvironment(): Environment {
  let env = new Environment();
  for (const variable of FACT_VARIABLES) {
    const fields = Object.fromEntries(Object.entries(FACT_CATALOGUE[variable]).map(([name, spec]) => [name, spec.type]));
    env = env.registerType(celTypeName(variable), { ctor: FACT_CLASSES[variable], fields }).registerVariable(variable, celTypeName(variable));
  }
  return env;
}

const environment = buildEnvironment();

/** The CEL type of a parameter value: whole numbers are ints, others doubles. */
function parameterType(value: ParameterValue): string {
  if (Array.isArray(value)) return "list<string>";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "double";
  return typeof value === "string" ? "string" : "bool";
}

/** Builds the `params` object a condition reads: ints as bigint, as CEL expects. */
export function paramsObject(parameters: Readonly<Record<string, ParameterValue>>): object {
  const Params = class {};
  const params = new Params() as Record<string, unknown>;
  for (const [name, value] of Object.entries(parameters)) params[name] = typeof value === "number" && Number.isInteger(value) ? BigInt(value) : value;
  return params;
}


/** A condition that failed to compile, with the 0-based offset into its text when CEL gave one. */
export interface CelCompileError {
  readonly message: string;
  readonly offset: number | undefined;
}

export type CompiledCondition =
  | {
      readonly status: "ok";
      /** The fastest evaluator: compiled to JavaScript when the compiler covers the condition, else the interpreter. */
      readonly evaluate: (context: Record<string, object>) => unknown;
      /** cel-js's interpreter: the oracle the compiled function is tested against. */
      readonly interpret: (context: Record<string, object>) => unknown;
      readonly compiledToJs: boolean;
      readonly reads: readonly string[];
    }
  | { readonly status: "error"; readonly error: CelCompileError };

interface AstNode {
  op: string;
  args: unknown;
  pos?: number;
}

function isNode(value: unknown): value is AstNode {
  return typeof value === "object" && value !== null && "op" in value && "args" in value;
}

/** Collects `variable.field` paths over the fact variables, in order of appearance. */
function factPaths(ast: unknown, out: Set<string>): void {
  if (Array.isArray(ast)) {
    for (const item of ast) factPaths(item, out);
    return;
  }
  if (!isNode(ast)) return;
  if ((ast.op === "." || ast.op === ".?") && Array.isArray(ast.args)) {
    const [target, field] = ast.args as [unknown, unknown];
    if (isNode(target) && target.op === "id" && typeof target.args === "string" && typeof field === "string" && (FACT_VARIABLES as string[]).includes(target.args)) {
      out.add(`${target.args}.${field}`);
      return;
    }
  }
  factPaths(ast.args, out);
}

/** Type-checks and compiles one CEL condition against the fact catalogue (and its parameters); it must yield a bool. */
export function compileCondition(source: string, params: object = paramsObject({})): CompiledCondition {
  const fields = Object.fromEntries(Object.entries(params).map(([name, value]) => [name, parameterType(typeof value === "bigint" ? Number(value) : (value as ParameterValue))]));
  // Each policy's parameters get their own class, so CEL checks `params.x` against this policy's names and types.
  const ctor = params.constructor as new () => object;
  const env = environment.clone().registerType("Params", { ctor, fields }).registerVariable("params", "Params");
  const failure = (error: unknown): CompiledCondition => {
    const e = error as { message?: string; node?: { pos?: number }; pos?: number } | undefined;
    return { status: "error", error: { message: firstLine(e?.message ?? "invalid expression"), offset: e?.node?.pos ?? e?.pos } };
  };
  let parsed: ReturnType<typeof env.parse>;
  try {
    parsed = env.parse(source);
  } catch (error) {
    return failure(error);
  }
  // Checking the parsed AST (not the source again) annotates it with the types the compiler reads.
  const checked = parsed.check();
  if (!checked.valid) return failure(checked.error);
  if (checked.type !== "bool") {
    return { status: "error", error: { message: `the condition must be a bool, it is ${String(checked.type)}`, offset: undefined } };
  }
  const ast = (parsed as unknown as { ast: unknown }).ast;
  const reads = new Set<string>();
  factPaths(ast, reads);
  const interpret = (context: Record<string, object>) => parsed(context);
  const fast = compileCelToJs(ast);
  return { status: "ok", evaluate: fast ?? interpret, interpret, compiledToJs: fast !== undefined, reads: [...reads] };
}

function firstLine(message: string): string {
  return message.split("\n")[0]?.trim() ?? message;
}
