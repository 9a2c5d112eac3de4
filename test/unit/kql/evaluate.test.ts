import { describe, expect, it } from "vitest";
import { evaluateQuery } from "../../../local/kql/evaluate.js";
import { KDateTime, KDynamic, KqlError, tableFromRows, toWire, type Column, type Table } from "../../../local/kql/values.js";

const NOW = Date.parse("2026-11-22T12:00:00Z");
const SIGNIN_COLUMNS: Column[] = [
  { name: "TimeGenerated", type: "datetime" },
  { name: "UserId", type: "string" },
  { name: "ResultType", type: "string" },
];

function run(query: string, tables: Record<string, Table>): unknown[][] {
  const result = evaluateQuery(query, { table: (name) => tables[name], nowMs: NOW });
  return result.rows.map((row) => row.map(toWire));
}

function columns(query: string, tables: Record<string, Table>): string[] {
  return evaluateQuery(query, { table: (name) => tables[name], nowMs: NOW }).columns.map((c) => `${c.name}:${c.type}`);
}

const signins = tableFromRows(
  [
    { TimeGenerated: "2026-11-20T08:00:00Z", UserId: "A", ResultType: "0" },
    { TimeGenerated: "2026-11-21T08:00:00Z", UserId: "A", ResultType: "50126" },
    { TimeGenerated: "2026-11-10T08:00:00Z", UserId: "a", ResultType: "0" },
    { TimeGenerated: "2026-01-01T00:00:00Z", UserId: "B", ResultType: "0" },
    { UserId: "C", ResultType: "0" },
  ],
  SIGNIN_COLUMNS,
);

describe("the KQL evaluator", () => {
  it("filters with ago() relative to the clock and keeps only rows whose condition is true (null datetimes drop out)", () => {
    expect(run("T | where TimeGenerated > ago(30d) | project UserId", { T: signins })).toEqual([["A"], ["A"], ["a"]]);
    expect(run("T | where TimeGenerated <= ago(30d) | project UserId", { T: signins })).toEqual([["B"]]);
  });

  it("compares strings case-sensitively with == and case-insensitively with =~ and in~", () => {
    expect(run('T | where UserId == "a" | project UserId', { T: signins })).toEqual([["a"]]);
    expect(run('T | where UserId =~ "a" | project UserId', { T: signins })).toEqual([["A"], ["A"], ["a"]]);
    expect(run('T | where UserId in~ ("b", "c") | project UserId', { T: signins })).toEqual([["B"], ["C"]]);
    expect(run('T | where UserId !in ("A", "a") | project UserId', { T: signins })).toEqual([["B"], ["C"]]);
  });

  it("groups with summarize by, one row per distinct key, and names default columns as Kusto does", () => {
    const query = 'T | where ResultType == "0" | summarize max(TimeGenerated), count() by tolower(UserId) | order by Column1 asc';
    expect(() => run(query, { T: signins })).toThrow(KqlError);
    const q = 'T | where ResultType == "0" | extend U = tolower(UserId) | summarize max(TimeGenerated), count() by U | order by U asc';
    expect(columns(q, { T: signins })).toEqual(["U:string", "max_TimeGenerated:datetime", "count_:long"]);
    expect(run(q, { T: signins })).toEqual([
      ["a", "2026-11-20T08:00:00Z", 2],
      ["b", "2026-01-01T00:00:00Z", 1],
      ["c", null, 1],
    ]);
  });

  it("arg_max keeps the whole latest row per group", () => {
    const q = "T | summarize arg_max(TimeGenerated, *) by UserId | order by UserId asc";
    expect(columns(q, { T: signins })).toEqual(["UserId:string", "TimeGenerated:datetime", "ResultType:string"]);
    expect(run(q, { T: signins })[0]).toEqual(["A", "2026-11-21T08:00:00Z", "50126"]);
  });

  it("summarize with no rows and no by clause answers one row of zero", () => {
    expect(run('T | where UserId == "nobody" | summarize count()', { T: signins })).toEqual([[0]]);
  });

  it("anti-joins keep the rows of one side whose key the other lacks", () => {
    const baseline = tableFromRows([{ Caller: "x", Ip: "1" }, { Caller: "y", Ip: "2" }]);
    const recent = tableFromRows([{ Caller: "x", Ip: "1" }, { Caller: "x", Ip: "9" }, { Caller: "z", Ip: "2" }]);
    const tables = { Baseline: baseline, Recent: recent };
    expect(run("Baseline | join kind=rightanti (Recent) on Caller, Ip | order by Caller asc, Ip asc", tables)).toEqual([["x", "9"], ["z", "2"]]);
    expect(run("Baseline | join kind=leftanti Recent on Caller, Ip", tables)).toEqual([["y", "2"]]);
    expect(run("Baseline | join kind=inner (Recent) on $left.Ip == $right.Ip | project Caller, Caller1", tables)).toEqual([["x", "x"], ["y", "z"]]);
  });

  it("union with withsource names each row's table and fills absent columns with empty values", () => {
    const users = tableFromRows([{ UserId: "u1", TimeGenerated: "2026-11-01T00:00:00Z" }], SIGNIN_COLUMNS.slice(0, 2));
    const apps = tableFromRows([{ ServicePrincipalId: "s1", TimeGenerated: "2026-11-02T00:00:00Z" }], [{ name: "TimeGenerated", type: "datetime" }, { name: "ServicePrincipalId", type: "string" }]);
    const q = "union withsource=Source Users, Apps | extend Id = iff(isnotempty(UserId), UserId, ServicePrincipalId) | project Source, Id";
    expect(run(q, { Users: users, Apps: apps })).toEqual([["Users", "u1"], ["Apps", "s1"]]);
  });

  it("reads nested fields of JSON text with parse_json and property access", () => {
    const t = tableFromRows([{ Status: '{"errorCode":0,"details":{"place":"here"}}' }, { Status: "" }]);
    expect(run("T | extend Code = tostring(parse_json(Status).errorCode), Where = tostring(parse_json(Status).details.place) | project Code, Where", { T: t })).toEqual([["0", "here"], ["", ""]]);
  });

  it("let binds scalars and tables; has matches whole terms only", () => {
    const t = tableFromRows([{ Op: "Microsoft.Authorization/roleAssignments/write" }, { Op: "Microsoft.Authorization/roleAssignmentsX/write" }]);
    expect(run('let op = "roleassignments"; let W = T | where Op has op; W | count', { T: t })).toEqual([[1]]);
  });

  it("bins datetimes and sorts descending by default, nulls last", () => {
    expect(run("T | summarize count() by bin(TimeGenerated, 1d) | sort by TimeGenerated | take 2", { T: signins })).toEqual([
      ["2026-11-21T00:00:00Z", 1],
      ["2026-11-20T00:00:00Z", 1],
    ]);
    expect(run("T | sort by TimeGenerated | project UserId", { T: signins }).at(-1)).toEqual(["C"]);
  });

  it("make_set and dcount collect distinct values", () => {
    const result = evaluateQuery("T | summarize make_set(ResultType), dcount(UserId)", { table: () => signins, nowMs: NOW });
    expect(result.rows[0]?.[0]).toBeInstanceOf(KDynamic);
    expect(run("T | summarize make_set(ResultType), dcount(UserId)", { T: signins })).toEqual([['["0","50126"]', 4]]);
  });

  it("answers a syntax error with the parser's diagnostic and its position", () => {
    const error = (() => {
      try {
        run("T | where UserId ==", { T: signins });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(KqlError);
    expect((error as KqlError).kind).toBe("SyntaxError");
    expect((error as KqlError).message).toMatch(/Missing expression/);
    expect((error as KqlError).position).toBe(19);
  });

  it("refuses operators, functions and columns it does not know as semantic errors, never guessing", () => {
    const kinds = ["T | mv-expand UserId", "T | where strlen(UserId) > 1", "T | project Nope", "Missing | take 1"].map((q) => {
      try {
        run(q, { T: signins });
        return "ran";
      } catch (e) {
        return e instanceof KqlError ? e.kind : "other";
      }
    });
    expect(kinds).toEqual(["SemanticError", "SemanticError", "SemanticError", "SemanticError"]);
  });

  it("keeps datetimes typed through now() arithmetic and datetime literals", () => {
    const result = evaluateQuery('print_me | extend T = now() - 1d, L = datetime(2026-01-01) | project T, L', { table: () => tableFromRows([{ x: 1 }]), nowMs: NOW });
    expect(result.columns.map((c) => c.type)).toEqual(["datetime", "datetime"]);
    expect((result.rows[0]?.[0] as KDateTime).ms).toBe(NOW - 86_400_000);
    expect((result.rows[0]?.[1] as KDateTime).ms).toBe(Date.parse("2026-01-01T00:00:00Z"));
  });
});
