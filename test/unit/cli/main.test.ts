import { describe, expect, it } from "vitest";
import { grantguard } from "../../support/cli.js";

const VERBS = ["evaluate", "test", "policies", "validate", "snapshot", "revocations", "alerts", "restore", "rearm"];

describe("the grantguard dispatcher", () => {
  it("lists every command with the exit codes under --help, exit 0; with no command, or an unknown command or option, exit 64", async () => {
    const help = await grantguard("--help");
    expect(help.code).toBe(0);
    for (const verb of VERBS) expect(help.out).toMatch(new RegExp(`^  ${verb} `, "m"));
    expect(help.out).toContain("64 bad usage; 70 grantguard itself failed");
    expect((await grantguard()).code).toBe(64);
    const unknown = await grantguard("evalute");
    expect(unknown.code).toBe(64);
    expect(unknown.err).toMatch(/^grantguard: unknown command 'evalute'\n\ngrantguard — /);
    const option = await grantguard("validate", "--jsn");
    expect(option.code).toBe(64);
    expect(option.err).toMatch(/^grantguard: Unknown option '--jsn'.*\n\nUsage: grantguard validate/s);
  });

  it("answers --help on every verb, and help VERB the same, without running it", async () => {
    for (const verb of VERBS) {
      const { code, out } = await grantguard(verb, "--help");
      expect(code, verb).toBe(0);
      expect(out, verb).toMatch(/^Usage: grantguard/);
      expect((await grantguard("help", verb)).out, verb).toBe(out);
    }
  });
});
