import { describe, expect, it } from "vitest";
import { Environment } from "@marcbachmann/cel-js";
import { compileCelToJs, compileCelToJsSource } from "../../../shared/policy/compile.js";

class Role {
  constructor(init: object) {
    Object.assign(this, init);
  }
}
class Principal {
  constructor(init: object) {
    Object.assign(this, init);
  }
}

const env = new Environment()
  .registerType("Role", { ctor: Role, fields: { name: "string", privileged: "bool", level: "int", score: "double", actions: "list<string>", note: "dyn", extra: "dyn" } })
  .registerType("Principal", { ctor: Principal, fields: { kind: "dyn", upn: "dyn", guest: "bool", enabled: "dyn", groups: "list<string>" } })
  .registerVariable("role", "Role")
  .registerVariable("principal", "Principal")
  .registerVariable("m", "map");

/** mulberry32: a small seeded PRNG so the generated contexts are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeContexts(count: number, seed: number): Record<string, object>[] {
  const random = prng(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const chance = (p: number) => random() < p;
  const names = ["Owner", "Contributor", "Reader", "User Access Administrator", "", "owner", "Ünïcode 😀", 'say "hi" \\ ${x}'];
  const actions = ["*", "Microsoft.Authorization/roleAssignments/write", "Microsoft.Compute/*/read", "*/read", "Microsoft.Storage/storageAccounts/listKeys/action"];
  const dynValues: readonly unknown[] = [null, "user", "guest", "Owner", "", 0n, 1n, 7n, -3n, 1.0, 2.5, -0.5, true, false, ["a", "b"], [], ["Owner"], [1n, 2n], [1.0], { k: "v" }, {}];
  const list = () => Array.from({ length: Math.floor(random() * 4) }, () => pick(actions));
  const contexts: Record<string, object>[] = [];
  for (let i = 0; i < count; i++) {
    const role: Record<string, unknown> = {
      // Mostly well-typed; sometimes null in a typed field (the interpreter throws on access).
      name: chance(0.05) ? null : pick(names),
      privileged: chance(0.04) ? null : chance(0.5),
      level: chance(0.04) ? 1.5 : BigInt(Math.floor(random() * 7) - 2),
      score: chance(0.04) ? 2n : Math.round(random() * 100) / 10,
      actions: chance(0.03) ? "oops" : list(),
      note: pick(dynValues),
      extra: pick(dynValues),
    };
    if (chance(0.03)) delete role.name;
    const principal: Record<string, unknown> = {
      kind: pick(dynValues),
      upn: chance(0.5) ? pick(["alice@contoso.com", "bob_contoso.com#EXT#@contoso.onmicrosoft.com", "ALICE@CONTOSO.COM"]) : pick(dynValues),
      guest: chance(0.5),
      enabled: pick([true, false, null, "yes"]),
      groups: list(),
    };
    const m: Record<string, unknown> = {};
    if (chance(0.7)) m.k = pick(dynValues);
    if (chance(0.5)) m.nested = chance(0.7) ? { deep: pick(dynValues) } : pick(dynValues);
    if (chance(0.3)) m.list = list();
    contexts.push({ role: new Role(role), principal: new Principal(principal), m });
  }
  return contexts;
}

const EXPRESSIONS = [
  // literals
  `"plain" == "plain"`,
  `true`,
  `null == null`,
  `42`,
  `-7`,
  `2.5`,
  `["a", "b"]`,
  `[1, 2, 3] == [1, 2, 3]`,
  `'quote " and \\\\ and \${x}'`,
  // variables and fields
  `role.name`,
  `role.privileged`,
  `role.level`,
  `role.note`,
  `m.k`,
  `m.nested.deep`,
  `role.note.x`,
  // comparisons
  `role.name == "Owner"`,
  `role.name != "Owner"`,
  `role.note == "user"`,
  `role.note == null`,
  `role.note != 1`,
  `role.note == role.extra`,
  `role.note == [1.0]`,
  `role.actions == ["*"]`,
  `role.actions == []`,
  `role.level < 2`,
  `role.level >= 0 && role.level <= 3`,
  `role.score > 1.5`,
  `role.level < 2.5`,
  `role.score >= 3`,
  `role.name < "P"`,
  `role.note < "m"`,
  `role.note > 1`,
  `role.note <= role.extra`,
  `principal.enabled == true`,
  // logic, with error absorption
  `role.privileged && role.name == "Owner"`,
  `role.privileged || principal.guest`,
  `false && role.note < 1`,
  `role.note < 1 && false`,
  `true || role.note < 1`,
  `role.note < 1 || true`,
  `role.note < 1 && role.extra < 1`,
  `role.note && true`,
  `principal.enabled || principal.guest`,
  `!role.privileged`,
  `!principal.enabled`,
  `-role.level`,
  `-role.note`,
  // arithmetic
  `role.level + 1`,
  `role.level * 3 - 4`,
  `10 / role.level`,
  `10 % role.level`,
  `role.score / 0.0`,
  `role.score * 2.0 + 1.0`,
  `role.note + role.extra`,
  `role.name + "!"`,
  `role.actions + ["x"]`,
  `9223372036854775807 + role.level`,
  // ternary
  `role.privileged ? role.name : "n/a"`,
  `principal.enabled ? 1 : 2`,
  // in
  `role.name in ["Owner", "Contributor"]`,
  `role.note in ["user", "guest"]`,
  `role.note in [1, 2]`,
  `role.level in [1, 2]`,
  `"*" in role.actions`,
  `role.note in role.actions`,
  `"k" in m`,
  `role.note in m`,
  `"a" in role.extra`,
  // size
  `size(role.name)`,
  `role.name.size()`,
  `size(role.actions) > 1`,
  `role.actions.size()`,
  `size(m)`,
  `size(role.note)`,
  `role.note.size()`,
  // strings
  `role.name.startsWith("Own")`,
  `role.name.endsWith("er")`,
  `role.name.contains("ib")`,
  `role.name.matches("^[A-Z][a-z]+$")`,
  `role.name.matches("(")`,
  `role.name.matches(role.name)`,
  `principal.upn.endsWith("#EXT#@contoso.onmicrosoft.com")`,
  `principal.upn.lowerAscii() == "alice@contoso.com"`,
  `role.name.upperAscii()`,
  `principal.kind.startsWith("u")`,
  // macros
  `role.actions.exists(a, a.startsWith("Microsoft.Authorization"))`,
  `role.actions.all(a, a.endsWith("/read"))`,
  `role.actions.exists_one(a, a == "*")`,
  `role.actions.map(a, a.size())`,
  `role.actions.map(a, a != "*", a.lowerAscii())`,
  `role.actions.filter(a, a.contains("*"))`,
  `role.actions.exists(a, role.note < 1)`,
  `role.actions.all(a, role.note < 1)`,
  `role.actions.exists(a, role.note)`,
  `role.extra.exists(x, x == "a")`,
  `role.extra.all(x, x != 1)`,
  `principal.groups.exists(g, role.actions.exists(a, a == g))`,
  `role.actions.exists(role, role == "*")`,
  `m.list.filter(x, x.size() > 1).size()`,
  // has
  `has(m.k)`,
  `has(m.nested.deep)`,
  `has(m.absent)`,
  // a realistic policy
  `role.privileged && role.name in ["Owner", "Contributor"] && principal.kind == "user" && !principal.upn.endsWith("#EXT#")`,
];

type Outcome = { ok: true; value: unknown } | { ok: false; message: string };

function run(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message.split("\n")[0]! : String(error) };
  }
}

function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
}

describe("compileCelToJs", () => {
  const contexts = makeContexts(400, 20240611);

  it("agrees with the interpreter on every expression and context", () => {
    const mismatches: string[] = [];
    for (const expression of EXPRESSIONS) {
      const checked = env.check(expression);
      expect(checked.valid, `${expression}: ${String(checked.error?.message)}`).toBe(true);
      const parsed = env.parse(expression);
      parsed.check();
      const compiled = compileCelToJs(parsed.ast);
      expect(compiled, `${expression} should compile`).toBeTypeOf("function");
      if (!compiled) continue;
      for (const [index, context] of contexts.entries()) {
        const expected = run(() => parsed(context));
        const actual = run(() => compiled(context));
        const same = expected.ok && actual.ok ? Object.is(expected.value, actual.value) || show(expected.value) === show(actual.value) : expected.ok === actual.ok;
        if (!same) {
          mismatches.push(`${expression} @${index}: interpreter ${expected.ok ? show(expected.value) : `threw ${expected.message}`}, compiled ${actual.ok ? show(actual.value) : `threw ${actual.message}`}`);
        }
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
  });

  it("exercises both outcomes for the error cases", () => {
    for (const expression of [`role.note < "m"`, `role.note < 1 && role.extra < 1`, `role.note < 1 || principal.guest`, `m.nested.deep`, `role.name == "Owner"`]) {
      const parsed = env.parse(expression);
      parsed.check();
      const compiled = compileCelToJs(parsed.ast)!;
      const outcomes = contexts.map((context) => run(() => compiled(context)).ok);
      expect(outcomes, expression).toContain(true);
      expect(outcomes, expression).toContain(false);
    }
  });

  it("returns undefined for constructs it does not cover", () => {
    for (const expression of [`role.actions[0]`, `{"a": 1}`, `int(role.score)`, `string(role.level)`, `cel.bind(x, 1, x + 1)`, `has(role.name)`, `type(role.level) == int`, `b"bytes" == b"bytes"`, `1u == 1u`, `role.name.split("/")`]) {
      const parsed = env.parse(expression);
      expect(parsed.check().valid, expression).toBe(true);
      expect(compileCelToJs(parsed.ast), expression).toBeUndefined();
    }
  });

  it("returns undefined for an AST that was not type-checked, and for things that are not ASTs", () => {
    expect(compileCelToJs(env.parse(`role.name == "x"`).ast)).toBeUndefined();
    expect(compileCelToJs(null)).toBeUndefined();
    expect(compileCelToJs({ op: "id", args: 3 })).toBeUndefined();
  });

  it("keeps hostile string literals inside their string", () => {
    const payloads = [`"); globalThis.pwned = true; ("`, "`${globalThis.pwned = true}`", `\\"; globalThis.pwned = true; //`, `</script>\u2028\u2029\n\r\t\0 ' " \` \${} \\`];
    for (const payload of payloads) {
      for (const expression of [`role.name == ${JSON.stringify(payload)}`, `role.name.matches(${JSON.stringify(payload.replace(/[^\w ]/g, "."))})`, `role.name in [${JSON.stringify(payload)}, "Owner"]`, `${JSON.stringify(payload)}`]) {
        const parsed = env.parse(expression);
        parsed.check();
        const compiled = compileCelToJsSource(parsed.ast);
        expect(compiled, expression).toBeDefined();
        const context = { role: new Role({ name: payload }), principal: new Principal({}), m: {} };
        expect(compiled!.fn(context)).toStrictEqual(parsed(context));
      }
    }
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
    // A hand-made AST with a hostile field name and variable name is quoted, not spliced.
    const hostile = { op: ".", args: [{ op: "id", args: `m"]; globalThis.pwned = 1; c["`, checkedType: { kind: "map", name: "map<dyn, dyn>" } }, `x"]; globalThis.pwned = 1; //`], checkedType: { kind: "dyn", name: "dyn" } };
    const fn = compileCelToJs(hostile);
    expect(fn).toBeTypeOf("function");
    expect(() => fn!({})).toThrow(/Unknown variable/);
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
  });

  it("is faster than the interpreter (timing printed, not asserted)", () => {
    const expression = `role.privileged && role.name in ["Owner", "Contributor", "User Access Administrator"] && principal.kind == "user" && role.actions.exists(a, a.startsWith("Microsoft.Authorization"))`;
    const parsed = env.parse(expression);
    parsed.check();
    const compiled = compileCelToJs(parsed.ast)!;
    // Well-typed facts, as production builds them: a thrown Error costs the same stack capture in both.
    const sample = contexts.filter((context) => run(() => parsed(context)).ok).slice(0, 200);
    const time = (fn: (context: Record<string, object>) => unknown): number => {
      const rounds = 300;
      let sink = 0;
      for (const context of sample) run(() => fn(context)); // warm-up
      const start = process.hrtime.bigint();
      for (let r = 0; r < rounds; r++) {
        for (const context of sample) {
          try {
            if (fn(context) === true) sink++;
          } catch {
            sink--;
          }
        }
      }
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      expect(Number.isFinite(sink)).toBe(true);
      return elapsed;
    };
    const interpreted = time((context) => parsed(context));
    const compiledMs = time(compiled);
    console.log(`CEL interpreter ${interpreted.toFixed(1)} ms, compiled ${compiledMs.toFixed(1)} ms, ratio ${(interpreted / compiledMs).toFixed(1)}x (${sample.length * 300} evaluations)`);
  });
});
