import { createRequire } from "node:module";

// The official Kusto.Language parser (`@kusto/language-service-next`), a Bridge.NET build that
// installs itself on globalThis. Loading costs ~0.2 s and the first parse ~1 s (JIT): it is
// loaded once, on the first query, never at import.

/** A node or token of Kusto.Language's syntax tree, as much of it as the evaluator reads. */
export interface SyntaxNode {
  readonly Kind: number;
  readonly ChildCount: number;
  readonly IsToken: boolean;
  /** A token's text (tokens only). */
  readonly Text?: string;
  /** A token's value text, e.g. a string literal without its quotes (tokens only). */
  readonly ValueText?: string;
  /** A name's or name reference's simple name. */
  readonly SimpleName?: string;
  /** A literal's value as the parser read it (strings come as JS strings). */
  readonly LiteralValue?: unknown;
  /** Offset of the node's text in the query, trivia excluded. */
  readonly TextStart: number;
  GetChild(index: number): SyntaxNode | null;
}

/** One diagnostic of the parser. */
export interface Diagnostic {
  readonly code: string;
  readonly message: string;
  readonly start: number;
  readonly length: number;
}

interface BridgeList<T> {
  readonly Count: number;
  getItem(index: number): T;
}
interface BridgeDiagnostic {
  readonly Code: string;
  readonly Message: string;
  readonly Start: number;
  readonly Length: number;
  readonly Severity: string;
}
interface KustoCodeApi {
  Parse(text: string): { readonly Syntax: SyntaxNode; GetDiagnostics(): BridgeList<BridgeDiagnostic> };
}

let kustoCode: KustoCodeApi | undefined;

function load(): KustoCodeApi {
  if (kustoCode) return kustoCode;
  const require = createRequire(import.meta.url);
  require("@kusto/language-service-next/bridge.min.js");
  require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
  const loaded = (globalThis as unknown as { Kusto?: { Language?: { KustoCode?: KustoCodeApi } } }).Kusto?.Language?.KustoCode;
  if (!loaded) throw new Error("the Kusto.Language parser did not load");
  kustoCode = loaded;
  return loaded;
}

/** Parses KQL with the official parser: the syntax tree and its error diagnostics. */
export function parseKql(text: string): { root: SyntaxNode; diagnostics: Diagnostic[] } {
  const code = load().Parse(text);
  const list = code.GetDiagnostics();
  const diagnostics: Diagnostic[] = [];
  for (let i = 0; i < list.Count; i += 1) {
    const d = list.getItem(i);
    if (d.Severity === "Error") diagnostics.push({ code: d.Code, message: d.Message, start: d.Start, length: d.Length });
  }
  return { root: code.Syntax, diagnostics };
}

/** The node's class name without its namespace, e.g. "PipeExpression". */
export function nodeType(node: SyntaxNode): string {
  // Generic classes carry their type arguments after a "$": "…Syntax.SeparatedElement$1$…Statement".
  const name = ((node.constructor as { $$name?: string }).$$name ?? "").split("$")[0] ?? "";
  return name.slice(name.lastIndexOf(".") + 1);
}

/** A named child (a Kusto.Language property such as `Left`, `Operator`, `Expressions`), or null. */
export function child(node: SyntaxNode, property: string): SyntaxNode | null {
  const value = (node as unknown as Record<string, unknown>)[property];
  return value === undefined || value === null ? null : (value as SyntaxNode);
}

/** A named child that the grammar guarantees. */
export function must(node: SyntaxNode, property: string): SyntaxNode {
  const value = child(node, property);
  if (!value) throw new Error(`${nodeType(node)} has no ${property}`);
  return value;
}

/** The elements of a SyntaxList (of SeparatedElements or plain nodes). */
export function elements(list: SyntaxNode | null): SyntaxNode[] {
  if (!list) return [];
  const out: SyntaxNode[] = [];
  for (let i = 0; i < list.ChildCount; i += 1) {
    const item = list.GetChild(i);
    if (!item) continue;
    out.push(nodeType(item).startsWith("SeparatedElement") ? must(item, "Element") : item);
  }
  return out;
}

/** The text of a node's tokens, joined as written (without leading trivia). */
export function textOf(node: SyntaxNode): string {
  if (node.IsToken) return node.Text ?? "";
  let out = "";
  for (let i = 0; i < node.ChildCount; i += 1) {
    const c = node.GetChild(i);
    if (c) out += textOf(c);
  }
  return out;
}

/** True when any node of the query is one of these operators (by class name, e.g. "TakeOperator"). */
export function usesOperator(root: SyntaxNode, types: ReadonlySet<string>): boolean {
  if (!root.IsToken && types.has(nodeType(root))) return true;
  for (let i = 0; i < root.ChildCount; i += 1) {
    const c = root.GetChild(i);
    if (c && usesOperator(c, types)) return true;
  }
  return false;
}
