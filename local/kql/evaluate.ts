import { child, elements, must, nodeType, parseKql, textOf, type SyntaxNode } from "./syntax.js";
import { emptyOf, formatDateTime, KDateTime, KDynamic, KqlError, KTimespan, type Column, type ColumnType, type KValue, type Table } from "./values.js";

// A KQL evaluator over Kusto.Language's syntax tree, for the operators and functions the
// product's queries use. Expressions compile once per operator to closures over positional
// rows; anything outside the implemented set is a SemanticError, as Log Analytics answers a
// query it cannot run. The semantics follow the Kusto query language reference
// (learn.microsoft.com/kusto/query): strings are never null (empty instead), comparisons with
// null are null, `where` keeps only rows whose condition is true.

/** What a query can read: tables by name, the clock. */
export interface QuerySource {
  /** The table of that name, or undefined when the workspace has none. */
  table(name: string): Table | undefined;
  /** Now, for now() and ago(). */
  readonly nowMs: number;
}

type Binding = { readonly kind: "scalar"; readonly value: KValue; readonly type: ColumnType } | { readonly kind: "table"; readonly table: Table };

interface Scope {
  readonly source: QuerySource;
  readonly lets: Map<string, Binding>;
}

interface Compiled {
  readonly type: ColumnType;
  readonly eval: (row: readonly KValue[]) => KValue;
}

/** Parses and runs a query; the result of its last expression statement. Throws KqlError. */
export function evaluateQuery(text: string, source: QuerySource): Table {
  const { root, diagnostics } = parseKql(text);
  const first = diagnostics[0];
  if (first) throw new KqlError("SyntaxError", `${first.message} (${first.code})`, first.start);
  const scope: Scope = { source, lets: new Map() };
  let result: Table | null = null;
  for (const statement of elements(child(root, "Statements"))) {
    const type = nodeType(statement);
    if (type === "LetStatement") {
      const name = must(must(statement, "Name"), "Name").SimpleName ?? "";
      const expression = must(statement, "Expression");
      scope.lets.set(name, isTabular(expression, scope) ? { kind: "table", table: tabular(expression, scope) } : constant(expression, scope));
    } else if (type === "ExpressionStatement") {
      result = tabular(must(statement, "Expression"), scope);
    } else {
      throw unsupported(statement, `the statement '${textOf(statement).slice(0, 40)}'`);
    }
  }
  if (!result) throw new KqlError("SemanticError", "The query has no tabular expression statement.");
  return result;
}

function unsupported(node: SyntaxNode, what: string): KqlError {
  return new KqlError("SemanticError", `${what} is not supported by this Log Analytics workspace's query engine.`, node.TextStart);
}

// ---- tabular ------------------------------------------------------------------------------

const TABULAR_NODES = new Set(["PipeExpression", "UnionOperator", "DataTableExpression"]);

function isTabular(node: SyntaxNode, scope: Scope): boolean {
  const type = nodeType(node);
  if (TABULAR_NODES.has(type)) return true;
  if (type === "ParenthesizedExpression") return isTabular(must(node, "Expression"), scope);
  if (type === "NameReference") {
    const name = node.SimpleName ?? "";
    const bound = scope.lets.get(name);
    return bound ? bound.kind === "table" : scope.source.table(name) !== undefined;
  }
  return false;
}

function tabular(node: SyntaxNode, scope: Scope): Table {
  switch (nodeType(node)) {
    case "NameReference": {
      const name = node.SimpleName ?? "";
      const bound = scope.lets.get(name);
      if (bound?.kind === "table") return bound.table;
      const table = scope.source.table(name);
      if (!table) throw new KqlError("SemanticError", `'${name}' operator: Failed to resolve table or column expression named '${name}'`, node.TextStart);
      return table;
    }
    case "ParenthesizedExpression":
      return tabular(must(node, "Expression"), scope);
    case "PipeExpression":
      return applyOperator(tabular(must(node, "Expression"), scope), must(node, "Operator"), scope);
    case "UnionOperator":
      return union(null, node, scope);
    default:
      throw unsupported(node, `the tabular expression '${textOf(node).slice(0, 40)}'`);
  }
}

function applyOperator(input: Table, op: SyntaxNode, scope: Scope): Table {
  switch (nodeType(op)) {
    case "FilterOperator": {
      const condition = compile(must(op, "Condition"), input.columns, scope);
      return { columns: input.columns, rows: input.rows.filter((row) => condition.eval(row) === true) };
    }
    case "ProjectOperator":
      return project(input, elements(child(op, "Expressions")), scope, false);
    case "ExtendOperator":
      return project(input, elements(child(op, "Expressions")), scope, true);
    case "ProjectAwayOperator": {
      const away = new Set(elements(child(op, "Expressions")).map((e) => columnName(e)));
      const keep = input.columns.map((c, i) => [c, i] as const).filter(([c]) => !away.has(c.name));
      return { columns: keep.map(([c]) => c), rows: input.rows.map((row) => keep.map(([, i]) => row[i] ?? null)) };
    }
    case "TakeOperator": {
      const count = constant(must(op, "Expression"), scope);
      if (typeof count.value !== "number") throw new KqlError("SemanticError", "take expects a long", op.TextStart);
      return { columns: input.columns, rows: input.rows.slice(0, Math.max(0, count.value)) };
    }
    case "SortOperator":
      return sort(input, elements(child(op, "Expressions")), scope);
    case "SummarizeOperator":
      return summarize(input, op, scope);
    case "JoinOperator":
      return join(input, op, scope);
    case "UnionOperator":
      return union(input, op, scope);
    case "CountOperator":
      return { columns: [{ name: "Count", type: "long" }], rows: [[input.rows.length]] };
    case "DistinctOperator": {
      const projected = project(input, elements(child(op, "Expressions")), scope, false);
      const seen = new Set<string>();
      return { columns: projected.columns, rows: projected.rows.filter((row) => (seen.has(keyOf(row)) ? false : (seen.add(keyOf(row)), true))) };
    }
    default:
      throw unsupported(op, `the operator '${textOf(op).split(/\s/)[0] ?? ""}'`);
  }
}

function columnName(node: SyntaxNode): string {
  if (nodeType(node) !== "NameReference") throw unsupported(node, `the column expression '${textOf(node)}'`);
  return node.SimpleName ?? "";
}

/** The name KQL gives an unnamed expression's column: a column keeps its name, a path its last member. */
function defaultName(node: SyntaxNode, index: number): string {
  const type = nodeType(node);
  if (type === "NameReference") return node.SimpleName ?? `Column${index}`;
  if (type === "BracketedExpression") return String(constantString(must(node, "Expression")));
  return `Column${index}`;
}

function constantString(node: SyntaxNode): string {
  return typeof node.LiteralValue === "string" ? node.LiteralValue : textOf(node);
}

function project(input: Table, expressions: SyntaxNode[], scope: Scope, extend: boolean): Table {
  const outputs: { name: string; compiled: Compiled }[] = [];
  let unnamed = 0;
  for (const expression of expressions) {
    if (nodeType(expression) === "SimpleNamedExpression") {
      outputs.push({ name: must(must(expression, "Name"), "Name").SimpleName ?? "", compiled: compile(must(expression, "Expression"), input.columns, scope) });
    } else {
      unnamed += 1;
      outputs.push({ name: defaultName(expression, unnamed), compiled: compile(expression, input.columns, scope) });
    }
  }
  const columns: Column[] = extend ? [...input.columns] : [];
  const slots: number[] = [];
  for (const out of outputs) {
    const existing = columns.findIndex((c) => c.name === out.name);
    const column = { name: out.name, type: out.compiled.type };
    if (existing >= 0) {
      columns[existing] = column;
      slots.push(existing);
    } else {
      slots.push(columns.push(column) - 1);
    }
  }
  const width = columns.length;
  const rows = input.rows.map((row) => {
    const next: KValue[] = extend ? row.slice() : new Array<KValue>(width).fill(null);
    if (extend) next.length = width;
    for (let i = 0; i < outputs.length; i += 1) next[slots[i]!] = outputs[i]!.compiled.eval(row);
    return next;
  });
  return { columns, rows };
}

function union(input: Table | null, op: SyntaxNode, scope: Scope): Table {
  let withSource: string | null = null;
  for (const parameter of elements(child(op, "Parameters"))) {
    const name = must(must(parameter, "Name"), "Name").SimpleName ?? textOf(must(parameter, "Name"));
    if (name !== "withsource") throw unsupported(parameter, `the union parameter '${name}'`);
    withSource = textOf(must(parameter, "Expression"));
  }
  const parts: { name: string; table: Table }[] = input ? [{ name: "", table: input }] : [];
  for (const expression of elements(child(op, "Expressions"))) {
    parts.push({ name: nodeType(expression) === "NameReference" ? (expression.SimpleName ?? "") : `union_arg${parts.length}`, table: tabular(expression, scope) });
  }
  // kind=outer (the default): every column of every leg, by name and type.
  const columns: Column[] = withSource ? [{ name: withSource, type: "string" }] : [];
  const index = new Map<string, number>();
  for (const { table } of parts) {
    for (const column of table.columns) {
      if (index.has(column.name)) continue;
      index.set(column.name, columns.push(column) - 1);
    }
  }
  const rows: KValue[][] = [];
  for (const { name, table } of parts) {
    const map = table.columns.map((c) => index.get(c.name)!);
    const template = columns.map((c) => emptyOf(c.type));
    if (withSource) template[0] = name;
    for (const row of table.rows) {
      const next = template.slice();
      for (let i = 0; i < map.length; i += 1) next[map[i]!] = row[i] ?? null;
      rows.push(next);
    }
  }
  return { columns, rows };
}

function sort(input: Table, expressions: SyntaxNode[], scope: Scope): Table {
  const keys = expressions.map((expression) => {
    const inner = nodeType(expression) === "OrderedExpression" ? must(expression, "Expression") : expression;
    const ordering = nodeType(expression) === "OrderedExpression" ? child(expression, "Ordering") : null;
    const direction = ordering ? textOf(ordering).toLowerCase() : "";
    const descending = !direction.startsWith("asc");
    // Kusto's default: nulls first ascending, last descending.
    const nullsFirst = direction.includes("nullsfirst") ? true : direction.includes("nullslast") ? false : !descending;
    return { compiled: compile(inner, input.columns, scope), descending, nullsFirst };
  });
  const decorated = input.rows.map((row) => ({ row, values: keys.map((k) => k.compiled.eval(row)) }));
  decorated.sort((a, b) => {
    for (let i = 0; i < keys.length; i += 1) {
      const { descending, nullsFirst } = keys[i]!;
      const x = a.values[i] ?? null;
      const y = b.values[i] ?? null;
      if (x === null || y === null) {
        if (x === y) continue;
        return (x === null) === nullsFirst ? -1 : 1;
      }
      const c = order(x, y);
      if (c !== 0) return descending ? -c : c;
    }
    return 0;
  });
  return { columns: input.columns, rows: decorated.map((d) => d.row) };
}

// ---- summarize ----------------------------------------------------------------------------

interface Aggregate {
  readonly columns: Column[];
  create(): { add(row: readonly KValue[]): void; result(): KValue[] };
}

function summarize(input: Table, op: SyntaxNode, scope: Scope): Table {
  if (elements(child(op, "Parameters")).length) throw unsupported(op, "summarize's parameters");
  const byClause = child(op, "ByClause");
  const byExpressions = byClause ? elements(child(byClause, "Expressions")) : [];
  const by = byExpressions.map((expression, i) => {
    if (nodeType(expression) === "SimpleNamedExpression") return { name: must(must(expression, "Name"), "Name").SimpleName ?? "", compiled: compile(must(expression, "Expression"), input.columns, scope) };
    const compiled = compile(expression, input.columns, scope);
    // bin(Column, size) keeps the column's name.
    const firstArgument = nodeType(expression) === "FunctionCallExpression" ? elements(child(must(expression, "ArgumentList"), "Expressions"))[0] : undefined;
    const name = firstArgument && nodeType(firstArgument) === "NameReference" ? (firstArgument.SimpleName ?? "") : defaultName(expression, i + 1);
    return { name, compiled };
  });
  const byNames = new Set(by.map((b) => b.name));
  const aggregates = elements(child(op, "Aggregates")).map((expression) => aggregate(expression, input, byNames, scope));
  const groups = new Map<string, { key: KValue[]; states: ReturnType<Aggregate["create"]>[] }>();
  for (const row of input.rows) {
    const key = by.map((b) => b.compiled.eval(row));
    const id = keyOf(key);
    let group = groups.get(id);
    if (!group) {
      group = { key, states: aggregates.map((a) => a.create()) };
      groups.set(id, group);
    }
    for (const state of group.states) state.add(row);
  }
  // A summarize with no by clause answers one row even over no input.
  if (by.length === 0 && groups.size === 0) groups.set("", { key: [], states: aggregates.map((a) => a.create()) });
  const columns: Column[] = [...by.map((b) => ({ name: b.name, type: b.compiled.type })), ...aggregates.flatMap((a) => a.columns)];
  const rows = [...groups.values()].map((g) => [...g.key, ...g.states.flatMap((s) => s.result())]);
  return { columns, rows };
}

function aggregate(expression: SyntaxNode, input: Table, byNames: ReadonlySet<string>, scope: Scope): Aggregate {
  let name: string | null = null;
  let call = expression;
  if (nodeType(expression) === "SimpleNamedExpression") {
    name = must(must(expression, "Name"), "Name").SimpleName ?? "";
    call = must(expression, "Expression");
  }
  if (nodeType(call) !== "FunctionCallExpression") throw unsupported(call, `the aggregation '${textOf(call)}'`);
  const fn = (must(call, "Name").SimpleName ?? "").toLowerCase();
  const args = elements(child(must(call, "ArgumentList"), "Expressions"));
  const argName = (i: number) => (args[i] && nodeType(args[i]!) === "NameReference" ? (args[i]!.SimpleName ?? "") : "");
  const one = (type: ColumnType, init: () => { add(v: KValue, row: readonly KValue[]): void; result(): KValue }, suffix: string): Aggregate => {
    const arg = args[0] ? compile(args[0], input.columns, scope) : null;
    return {
      columns: [{ name: name ?? `${fn}_${suffix}`, type }],
      create() {
        const state = init();
        return { add: (row) => state.add(arg ? arg.eval(row) : null, row), result: () => [state.result()] };
      },
    };
  };
  switch (fn) {
    case "count":
      return one("long", () => { let n = 0; return { add: () => void (n += 1), result: () => n }; }, "");
    case "countif": {
      const predicate = compile(args[0] ?? call, input.columns, scope);
      return one("long", () => { let n = 0; return { add: (_v, row) => void (predicate.eval(row) === true && (n += 1)), result: () => n }; }, "");
    }
    case "dcount":
      return one("long", () => { const seen = new Set<string>(); return { add: (v) => void (v !== null && seen.add(keyOf([v]))), result: () => seen.size }; }, argName(0));
    case "sum": {
      const type = args[0] ? compile(args[0], input.columns, scope).type : "long";
      return one(type, () => { let total = 0; return { add: (v) => void (typeof v === "number" && (total += v)), result: () => total }; }, argName(0));
    }
    case "max":
    case "min": {
      const type = args[0] ? compile(args[0], input.columns, scope).type : "long";
      const sign = fn === "max" ? 1 : -1;
      return one(type, () => { let best: KValue = null; return { add: (v) => void (v !== null && v !== "" && (best === null || sign * order(v, best) > 0) && (best = v)), result: () => best ?? emptyOf(type) }; }, argName(0));
    }
    case "make_set":
      return one("dynamic", () => { const seen = new Map<string, unknown>(); return { add: (v) => void (v !== null && !seen.has(keyOf([v])) && seen.set(keyOf([v]), plain(v))), result: () => new KDynamic([...seen.values()]) }; }, argName(0));
    case "take_any":
    case "any": {
      const type = args[0] ? compile(args[0], input.columns, scope).type : "string";
      return one(type, () => { let first: KValue | undefined; return { add: (v) => void (first === undefined && (first = v)), result: () => first ?? emptyOf(type) }; }, argName(0));
    }
    case "arg_max":
    case "arg_min":
      return argExtreme(fn === "arg_max" ? 1 : -1, args, input, byNames, scope, call);
    default:
      throw new KqlError("SemanticError", `Failed to resolve aggregate function named '${fn}'`, call.TextStart);
  }
}

function argExtreme(sign: number, args: SyntaxNode[], input: Table, byNames: ReadonlySet<string>, scope: Scope, call: SyntaxNode): Aggregate {
  const [target, ...rest] = args;
  if (!target || rest.length === 0) throw new KqlError("SemanticError", "arg_max/arg_min expect an expression and the columns to return", call.TextStart);
  const compiledTarget = compile(target, input.columns, scope);
  const targetName = nodeType(target) === "NameReference" ? (target.SimpleName ?? "") : "max_";
  const picks: { name: string; index: number; type: ColumnType }[] = [];
  for (const arg of rest) {
    if (nodeType(arg) === "StarExpression") {
      input.columns.forEach((c, index) => {
        if (!byNames.has(c.name) && c.name !== targetName) picks.push({ name: c.name, index, type: c.type });
      });
    } else {
      const name = columnName(arg);
      const index = input.columns.findIndex((c) => c.name === name);
      if (index < 0) throw new KqlError("SemanticError", `Failed to resolve scalar expression named '${name}'`, arg.TextStart);
      if (name !== targetName) picks.push({ name, index, type: input.columns[index]!.type });
    }
  }
  return {
    columns: [{ name: targetName, type: compiledTarget.type }, ...picks.map((p) => ({ name: p.name, type: p.type }))],
    create() {
      let best: KValue = null;
      let bestRow: readonly KValue[] | null = null;
      return {
        add(row) {
          const v = compiledTarget.eval(row);
          if (v === null) return;
          if (best === null || sign * order(v, best) > 0) {
            best = v;
            bestRow = row;
          }
        },
        result: () => [best, ...picks.map((p) => (bestRow ? (bestRow[p.index] ?? null) : emptyOf(p.type)))],
      };
    },
  };
}

// ---- join ---------------------------------------------------------------------------------

const JOIN_KINDS = new Set(["innerunique", "inner", "leftouter", "leftanti", "anti", "leftantisemi", "rightanti", "rightantisemi", "leftsemi", "rightsemi"]);

function join(left: Table, op: SyntaxNode, scope: Scope): Table {
  let kind = "innerunique";
  for (const parameter of elements(child(op, "Parameters"))) {
    const name = textOf(must(parameter, "Name"));
    const value = textOf(must(parameter, "Expression")).toLowerCase();
    if (name !== "kind" || !JOIN_KINDS.has(value)) throw unsupported(parameter, `join ${name}=${value}`);
    kind = value === "anti" || value === "leftantisemi" ? "leftanti" : value === "rightantisemi" ? "rightanti" : value;
  }
  const right = tabular(must(op, "Expression"), scope);
  const condition = must(op, "ConditionClause");
  if (nodeType(condition) !== "JoinOnClause") throw unsupported(condition, "join … where");
  const pairs = elements(child(condition, "Expressions")).map((e) => joinKey(e, left, right));
  const leftKey = (row: readonly KValue[]) => keyOf(pairs.map(([l]) => row[l] ?? null));
  const rightKey = (row: readonly KValue[]) => keyOf(pairs.map(([, r]) => row[r] ?? null));
  const hasNull = (row: readonly KValue[], side: 0 | 1) => pairs.some((p) => (row[p[side]] ?? null) === null);
  if (kind === "leftanti" || kind === "leftsemi") {
    const keys = new Set(right.rows.filter((r) => !hasNull(r, 1)).map(rightKey));
    const keep = kind === "leftsemi";
    return { columns: left.columns, rows: left.rows.filter((r) => (!hasNull(r, 0) && keys.has(leftKey(r))) === keep) };
  }
  if (kind === "rightanti" || kind === "rightsemi") {
    const keys = new Set(left.rows.filter((r) => !hasNull(r, 0)).map(leftKey));
    const keep = kind === "rightsemi";
    return { columns: right.columns, rows: right.rows.filter((r) => (!hasNull(r, 1) && keys.has(rightKey(r))) === keep) };
  }
  // innerunique keeps one left row per key (Kusto's default join flavour).
  let leftRows = left.rows;
  if (kind === "innerunique") {
    const seen = new Set<string>();
    leftRows = left.rows.filter((r) => (seen.has(leftKey(r)) ? false : (seen.add(leftKey(r)), true)));
  }
  const byKey = new Map<string, (readonly KValue[])[]>();
  for (const r of right.rows) {
    if (hasNull(r, 1)) continue;
    const k = rightKey(r);
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  const names = new Set(left.columns.map((c) => c.name));
  const rightColumns = right.columns.map((c) => {
    let name = c.name;
    for (let n = 1; names.has(name); n += 1) name = `${c.name}${n}`;
    names.add(name);
    return { name, type: c.type };
  });
  const rows: KValue[][] = [];
  for (const l of leftRows) {
    const matches = hasNull(l, 0) ? undefined : byKey.get(leftKey(l));
    if (matches) for (const r of matches) rows.push([...l, ...r]);
    else if (kind === "leftouter") rows.push([...l, ...right.columns.map((c) => emptyOf(c.type))]);
  }
  return { columns: [...left.columns, ...rightColumns], rows };
}

/** A join condition's column pair: `Column` (same name both sides) or `$left.a == $right.b`. */
function joinKey(expression: SyntaxNode, left: Table, right: Table): [number, number] {
  const find = (table: Table, name: string) => {
    const index = table.columns.findIndex((c) => c.name === name);
    if (index < 0) throw new KqlError("SemanticError", `join: Failed to resolve column named '${name}'`, expression.TextStart);
    return index;
  };
  if (nodeType(expression) === "NameReference") return [find(left, expression.SimpleName ?? ""), find(right, expression.SimpleName ?? "")];
  if (nodeType(expression) === "BinaryExpression" && textOf(must(expression, "Operator")) === "==") {
    const side = (node: SyntaxNode) => {
      if (nodeType(node) !== "PathExpression") throw unsupported(node, `the join key '${textOf(node)}'`);
      return { table: must(node, "Expression").SimpleName ?? "", column: must(node, "Selector").SimpleName ?? "" };
    };
    const a = side(must(expression, "Left"));
    const b = side(must(expression, "Right"));
    const l = a.table === "$left" ? a : b;
    const r = a.table === "$left" ? b : a;
    if (l.table !== "$left" || r.table !== "$right") throw unsupported(expression, `the join key '${textOf(expression)}'`);
    return [find(left, l.column), find(right, r.column)];
  }
  throw unsupported(expression, `the join key '${textOf(expression)}'`);
}

// ---- scalars ------------------------------------------------------------------------------

function constant(node: SyntaxNode, scope: Scope): Binding & { kind: "scalar" } {
  const compiled = compile(node, [], scope);
  return { kind: "scalar", value: compiled.eval([]), type: compiled.type };
}

const UNITS: Record<string, number> = { d: 86_400_000, day: 86_400_000, days: 86_400_000, h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000, m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, s: 1000, sec: 1000, second: 1000, seconds: 1000, ms: 1, millisecond: 1, milliseconds: 1, tick: 0.0001, ticks: 0.0001 };

function timespanOf(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)([a-z]+)$/i.exec(text.trim());
  if (!match) return null;
  const unit = UNITS[match[2]!.toLowerCase()];
  return unit === undefined ? null : Number(match[1]) * unit;
}

function literal(node: SyntaxNode): Compiled {
  const text = textOf(node).trim();
  const value = (type: ColumnType, v: KValue): Compiled => ({ type, eval: () => v });
  if (typeof node.LiteralValue === "string") return value("string", node.LiteralValue);
  if (text === "true" || text === "false") return value("bool", text === "true");
  if (/^-?\d+$/.test(text)) return value("long", Number(text));
  if (/^-?\d*\.\d+(e[+-]?\d+)?$/i.test(text) || /^-?\d+e[+-]?\d+$/i.test(text)) return value("real", Number(text));
  const wrapped = /^([a-z]+)\((.*)\)$/is.exec(text);
  if (wrapped) {
    const [, kind, inner] = wrapped as unknown as [string, string, string];
    const k = kind.toLowerCase();
    if (k === "datetime" || k === "date") {
      const trimmed = inner.trim();
      if (trimmed === "null") return value("datetime", null);
      let iso = trimmed.replace(" ", "T");
      if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += "T00:00:00Z";
      else if (!/(Z|[+-]\d\d:?\d\d)$/i.test(iso)) iso += "Z";
      const ms = Date.parse(iso);
      if (Number.isNaN(ms)) throw new KqlError("SyntaxError", `Invalid datetime literal: '${text}'`, node.TextStart);
      return value("datetime", new KDateTime(ms));
    }
    if (k === "time" || k === "timespan") {
      const ms = inner.trim() === "null" ? null : timespanOf(inner);
      if (ms === null && inner.trim() !== "null") throw new KqlError("SyntaxError", `Invalid timespan literal: '${text}'`, node.TextStart);
      return value("timespan", ms === null ? null : new KTimespan(ms));
    }
    if ((k === "long" || k === "int" || k === "real" || k === "double") && /^-?[\d.]+$|^null$/.test(inner.trim())) {
      return value(k === "long" || k === "int" ? "long" : "real", inner.trim() === "null" ? null : Number(inner));
    }
    if (k === "dynamic" && inner.trim() === "null") return value("dynamic", null);
  }
  const span = timespanOf(text);
  if (span !== null) return value("timespan", new KTimespan(span));
  throw unsupported(node, `the literal '${text}'`);
}

function compile(node: SyntaxNode, columns: readonly Column[], scope: Scope): Compiled {
  switch (nodeType(node)) {
    case "LiteralExpression":
      return literal(node);
    case "NameReference": {
      const name = node.SimpleName ?? "";
      const index = columns.findIndex((c) => c.name === name);
      if (index >= 0) return { type: columns[index]!.type, eval: (row) => row[index] ?? null };
      const bound = scope.lets.get(name);
      if (bound?.kind === "scalar") return { type: bound.type, eval: () => bound.value };
      throw new KqlError("SemanticError", `Failed to resolve scalar expression named '${name}'`, node.TextStart);
    }
    case "BracketedExpression":
      return compile(must(node, "Expression"), columns, scope);
    case "ParenthesizedExpression":
      return compile(must(node, "Expression"), columns, scope);
    case "PrefixUnaryExpression": {
      const operand = compile(must(node, "Expression"), columns, scope);
      const op = textOf(must(node, "Operator"));
      if (op !== "-") throw unsupported(node, `the operator '${op}'`);
      return { type: operand.type, eval: (row) => negate(operand.eval(row)) };
    }
    case "BinaryExpression":
      return binary(node, columns, scope);
    case "InExpression":
      return inList(node, columns, scope);
    case "FunctionCallExpression":
      return call(node, columns, scope);
    case "PathExpression": {
      const base = compile(must(node, "Expression"), columns, scope);
      const selector = must(node, "Selector");
      const member = nodeType(selector) === "BracketedExpression" ? constantString(must(selector, "Expression")) : (selector.SimpleName ?? textOf(selector));
      return { type: "dynamic", eval: (row) => member_(base.eval(row), member) };
    }
    case "ElementExpression": {
      const base = compile(must(node, "Expression"), columns, scope);
      const selector = compile(must(node, "Selector"), columns, scope);
      return { type: "dynamic", eval: (row) => member_(base.eval(row), selector.eval(row)) };
    }
    default:
      throw unsupported(node, `the expression '${textOf(node).slice(0, 40)}'`);
  }
}

function negate(v: KValue): KValue {
  if (typeof v === "number") return -v;
  if (v instanceof KTimespan) return new KTimespan(-v.ms);
  return null;
}

function member_(base: KValue, key: KValue): KValue {
  if (!(base instanceof KDynamic) || base.value === null || typeof base.value !== "object") return null;
  const value = Array.isArray(base.value) ? (typeof key === "number" ? base.value[key < 0 ? base.value.length + key : key] : undefined) : (base.value as Record<string, unknown>)[String(plain(key))];
  return value === undefined ? null : new KDynamic(value);
}

/** A dynamic holding a scalar reads as that scalar in comparisons and string functions. */
function unwrap(v: KValue): KValue {
  if (!(v instanceof KDynamic)) return v;
  const inner = v.value;
  if (inner === null || inner === undefined) return null;
  if (typeof inner === "string" || typeof inner === "number" || typeof inner === "boolean") return inner;
  return v;
}

function plain(v: KValue): unknown {
  if (v instanceof KDynamic) return v.value;
  if (v instanceof KDateTime) return formatDateTime(v.ms);
  if (v instanceof KTimespan) return v.ms;
  return v;
}

/** A string as KQL's string functions see a value: tostring(). */
function str(v: KValue): string {
  const u = unwrap(v);
  if (u === null) return "";
  if (typeof u === "string") return u;
  if (u instanceof KDateTime) return formatDateTime(u.ms);
  if (u instanceof KDynamic) return JSON.stringify(u.value);
  if (u instanceof KTimespan) return String(u.ms);
  return String(u);
}

/** A stable key for grouping and joining: equal values of one type give equal keys. */
function keyOf(values: readonly KValue[]): string {
  // One string or number (a group by one column, an `in` list) keys without JSON; other keys
  // start with "[", so the forms never collide.
  if (values.length === 1) {
    const v = values[0];
    if (typeof v === "string") return `s${v}`;
    if (typeof v === "number") return `n${v}`;
  }
  return JSON.stringify(values.map((v) => (v instanceof KDateTime ? `d:${v.ms}` : v instanceof KTimespan ? `t:${v.ms}` : v instanceof KDynamic ? `j:${JSON.stringify(v.value)}` : v)));
}

function order(a: KValue, b: KValue): number {
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  const x = unwrap(a);
  const y = unwrap(b);
  if (x instanceof KDateTime && y instanceof KDateTime) return x.ms - y.ms;
  if (x instanceof KTimespan && y instanceof KTimespan) return x.ms - y.ms;
  if (typeof x === "number" && typeof y === "number") return x - y;
  if (typeof x === "boolean" && typeof y === "boolean") return Number(x) - Number(y);
  const sx = str(x);
  const sy = str(y);
  return sx < sy ? -1 : sx > sy ? 1 : 0;
}

function equal(a: KValue, b: KValue): boolean | null {
  const x = unwrap(a);
  const y = unwrap(b);
  if (x === null || y === null) return null;
  if (typeof x === "string" || typeof y === "string") return str(x) === str(y);
  return order(x, y) === 0;
}

/** Whether `needle` occurs in `haystack` as whole terms (Kusto's `has`: terms are runs of letters and digits). */
function hasTerm(haystack: string, needle: string): boolean {
  const h = haystack.toLowerCase();
  const n = needle.toLowerCase();
  if (n === "") return true;
  const isWord = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);
  for (let at = h.indexOf(n); at >= 0; at = h.indexOf(n, at + 1)) {
    if (!(isWord(n[0]) && isWord(h[at - 1])) && !(isWord(n[n.length - 1]) && isWord(h[at + n.length]))) return true;
  }
  return false;
}

const STRING_OPERATORS: Record<string, (a: string, b: string) => boolean> = {
  "=~": (a, b) => a.toLowerCase() === b.toLowerCase(),
  "!~": (a, b) => a.toLowerCase() !== b.toLowerCase(),
  has: hasTerm,
  "!has": (a, b) => !hasTerm(a, b),
  contains: (a, b) => a.toLowerCase().includes(b.toLowerCase()),
  "!contains": (a, b) => !a.toLowerCase().includes(b.toLowerCase()),
  contains_cs: (a, b) => a.includes(b),
  startswith: (a, b) => a.toLowerCase().startsWith(b.toLowerCase()),
  "!startswith": (a, b) => !a.toLowerCase().startsWith(b.toLowerCase()),
  startswith_cs: (a, b) => a.startsWith(b),
  endswith: (a, b) => a.toLowerCase().endsWith(b.toLowerCase()),
  "!endswith": (a, b) => !a.toLowerCase().endsWith(b.toLowerCase()),
};

function binary(node: SyntaxNode, columns: readonly Column[], scope: Scope): Compiled {
  const op = textOf(must(node, "Operator")).toLowerCase();
  const left = compile(must(node, "Left"), columns, scope);
  const right = compile(must(node, "Right"), columns, scope);
  const l = left.eval;
  const r = right.eval;
  const bool = (f: (row: readonly KValue[]) => KValue): Compiled => ({ type: "bool", eval: f });
  switch (op) {
    case "and":
      return bool((row) => {
        const a = l(row);
        if (a === false) return false;
        const b = r(row);
        if (b === false) return false;
        return a === true && b === true ? true : null;
      });
    case "or":
      return bool((row) => {
        const a = l(row);
        if (a === true) return true;
        const b = r(row);
        if (b === true) return true;
        return a === false && b === false ? false : null;
      });
    case "==":
      return bool((row) => equal(l(row), r(row)));
    case "!=":
    case "<>":
      return bool((row) => {
        const e = equal(l(row), r(row));
        return e === null ? null : !e;
      });
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const test = op === "<" ? (c: number) => c < 0 : op === "<=" ? (c: number) => c <= 0 : op === ">" ? (c: number) => c > 0 : (c: number) => c >= 0;
      return bool((row) => {
        const a = unwrap(l(row));
        const b = unwrap(r(row));
        if (a === null || b === null) return null;
        return test(order(a, b));
      });
    }
    case "+":
    case "-":
    case "*":
    case "/":
      return arithmetic(op, left, right);
    default: {
      const f = STRING_OPERATORS[op];
      if (!f) throw unsupported(node, `the operator '${op}'`);
      return bool((row) => f(str(l(row)), str(r(row))));
    }
  }
}

function arithmetic(op: string, left: Compiled, right: Compiled): Compiled {
  const type: ColumnType =
    left.type === "datetime" && right.type === "datetime" && op === "-" ? "timespan" : left.type === "datetime" || right.type === "datetime" ? "datetime" : left.type === "timespan" || right.type === "timespan" ? "timespan" : left.type === "real" || right.type === "real" || op === "/" ? "real" : "long";
  return {
    type,
    eval(row) {
      const a = unwrap(left.eval(row));
      const b = unwrap(right.eval(row));
      if (a === null || b === null) return null;
      const n = (v: KValue) => (v instanceof KDateTime || v instanceof KTimespan ? v.ms : typeof v === "number" ? v : Number.NaN);
      const x = n(a);
      const y = n(b);
      const result = op === "+" ? x + y : op === "-" ? x - y : op === "*" ? x * y : x / y;
      if (Number.isNaN(result)) return null;
      if (type === "datetime") return new KDateTime(result);
      if (type === "timespan") return new KTimespan(result);
      return type === "long" ? Math.trunc(result) : result;
    },
  };
}

function inList(node: SyntaxNode, columns: readonly Column[], scope: Scope): Compiled {
  const op = textOf(must(node, "Operator")).toLowerCase();
  const left = compile(must(node, "Left"), columns, scope);
  const list = must(node, "Right");
  const items = nodeType(list) === "ExpressionList" ? elements(child(list, "Expressions")) : [list];
  const caseless = op.endsWith("~");
  const values: KValue[] = [];
  for (const item of items) {
    if (isTabular(item, scope)) for (const row of tabular(item, scope).rows) values.push(row[0] ?? null);
    else values.push(constant(item, scope).value);
  }
  const set = new Set(values.map((v) => (caseless ? str(v).toLowerCase() : keyOf([unwrap(v)]))));
  const negated = op.startsWith("!");
  return {
    type: "bool",
    eval(row) {
      const v = unwrap(left.eval(row));
      if (v === null) return negated;
      const found = set.has(caseless ? str(v).toLowerCase() : typeof v === "string" ? keyOf([v]) : keyOf([v]));
      return negated ? !found : found;
    },
  };
}

function toDateTime(v: KValue): KValue {
  const u = unwrap(v);
  if (u instanceof KDateTime) return u;
  if (typeof u === "string") {
    const ms = Date.parse(u);
    return Number.isNaN(ms) ? null : new KDateTime(ms);
  }
  return null;
}

function parseJson(v: KValue): KValue {
  if (v instanceof KDynamic) return v;
  if (typeof v !== "string") return v === null ? null : new KDynamic(plain(v));
  try {
    return new KDynamic(JSON.parse(v) as unknown);
  } catch {
    return new KDynamic(v);
  }
}

function call(node: SyntaxNode, columns: readonly Column[], scope: Scope): Compiled {
  const name = (must(node, "Name").SimpleName ?? "").toLowerCase();
  const args = elements(child(must(node, "ArgumentList"), "Expressions")).map((a) => compile(a, columns, scope));
  const arity = (min: number, max = min) => {
    if (args.length < min || args.length > max) throw new KqlError("SemanticError", `The function '${name}' expects ${min === max ? min : `${min} to ${max}`} argument(s).`, node.TextStart);
  };
  const a0 = args[0]?.eval ?? (() => null);
  const a1 = args[1]?.eval ?? (() => null);
  const a2 = args[2]?.eval ?? (() => null);
  const fn = (type: ColumnType, f: (row: readonly KValue[]) => KValue): Compiled => ({ type, eval: f });
  const now = scope.source.nowMs;
  switch (name) {
    case "now":
      arity(0, 1);
      return fn("datetime", (row) => {
        const offset = unwrap(a0(row));
        return new KDateTime(now + (offset instanceof KTimespan ? offset.ms : 0));
      });
    case "ago":
      arity(1);
      return fn("datetime", (row) => {
        const span = unwrap(a0(row));
        return span instanceof KTimespan ? new KDateTime(now - span.ms) : null;
      });
    case "todatetime":
      arity(1);
      return fn("datetime", (row) => toDateTime(a0(row)));
    case "tostring":
      arity(1);
      return fn("string", (row) => str(a0(row)));
    case "tolower":
      arity(1);
      return fn("string", (row) => str(a0(row)).toLowerCase());
    case "toupper":
      arity(1);
      return fn("string", (row) => str(a0(row)).toUpperCase());
    case "tolong":
    case "toint":
      arity(1);
      return fn("long", (row) => {
        const u = unwrap(a0(row));
        const n = typeof u === "number" ? u : typeof u === "string" && u.trim() !== "" ? Number(u) : Number.NaN;
        return Number.isNaN(n) ? null : Math.trunc(n);
      });
    case "isempty":
      arity(1);
      return fn("bool", (row) => {
        const u = unwrap(a0(row));
        return u === null || u === "";
      });
    case "isnotempty":
      arity(1);
      return fn("bool", (row) => {
        const u = unwrap(a0(row));
        return !(u === null || u === "");
      });
    case "isnull":
      arity(1);
      return fn("bool", (row) => unwrap(a0(row)) === null);
    case "isnotnull":
      arity(1);
      return fn("bool", (row) => unwrap(a0(row)) !== null);
    case "not":
      arity(1);
      return fn("bool", (row) => {
        const v = a0(row);
        return v === null ? null : v !== true;
      });
    case "parse_json":
    case "todynamic":
      arity(1);
      return fn("dynamic", (row) => parseJson(a0(row)));
    case "iff":
    case "iif":
      arity(3);
      return fn(args[1]!.type, (row) => (a0(row) === true ? a1(row) : a2(row)));
    case "coalesce": {
      arity(2, 64);
      const type = args[0]!.type;
      return fn(type, (row) => {
        for (const a of args) {
          const v = a.eval(row);
          if (v !== null && v !== "") return v;
        }
        return emptyOf(type);
      });
    }
    case "strcat":
      arity(1, 64);
      return fn("string", (row) => args.map((a) => str(a.eval(row))).join(""));
    case "bin":
    case "floor":
      arity(2);
      return fn(args[0]!.type, (row) => {
        const v = unwrap(a0(row));
        const size = unwrap(a1(row));
        const step = size instanceof KTimespan ? size.ms : typeof size === "number" ? size : 0;
        if (v === null || step <= 0) return null;
        if (v instanceof KDateTime) return new KDateTime(Math.floor(v.ms / step) * step);
        if (v instanceof KTimespan) return new KTimespan(Math.floor(v.ms / step) * step);
        return typeof v === "number" ? Math.floor(v / step) * step : null;
      });
    default:
      throw new KqlError("SemanticError", `Failed to resolve scalar expression named '${name}'`, node.TextStart);
  }
}
