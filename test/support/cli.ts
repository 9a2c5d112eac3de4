import { run } from "../../shared/cli/main.js";

/** Runs the grantguard command line in-process and captures what it prints. */
export async function grantguard(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}
