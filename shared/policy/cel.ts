import { Environment } from "@marcbachmann/cel-js";
import { FACT_CATALOGUE, FACT_VARIABLES } from "../facts/catalogue.js";
import { FACT_CLASSES, celTypeName } from "../facts/build.js";

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

/** A condition that failed to compile, with the 0-based offset into its text when CEL gave one. */
export interface CelCompileError {
  readonly message: string;
  readonly offset: number | undefined;
}

export type CompiledCondition =
  | { readonly status: "ok"; readonly evaluate: (context: Record<string, object>) => unknown; readonly reads: readonly string[] }
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

/** Type-checks and compiles one CEL condition against the fact catalogue; it must yield a bool. */
export function compileCondition(source: string): CompiledCondition {
  const checked = environment.check(source);
  if (!checked.valid) {
    const error = checked.error as { message: string; node?: { pos?: number }; pos?: number } | undefined;
    return { status: "error", error: { message: firstLine(error?.message ?? "invalid expression"), offset: error?.node?.pos ?? error?.pos } };
  }
  if (checked.type !== "bool") {
    return { status: "error", error: { message: `the condition must be a bool, it is ${String(checked.type)}`, offset: undefined } };
  }
  const compiled = environment.parse(source);
  const reads = new Set<string>();
  factPaths((compiled as unknown as { ast: unknown }).ast, reads);
  return { status: "ok", evaluate: (context) => compiled(context), reads: [...reads] };
}

function firstLine(message: string): string {
  return message.split("\n")[0]?.trim() ?? message;
}
