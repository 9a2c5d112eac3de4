// Preloaded with `node --import` into a process under test: appends the URL of every module it
// loads to the file named by GRANTGUARD_TEST_IMPORT_LOG, to check what a command loads.
import { register } from "node:module";
import process from "node:process";

const hooks = `
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(${JSON.stringify(process.env.GRANTGUARD_TEST_IMPORT_LOG ?? "/dev/null")}, resolved.url + "\\n");
  return resolved;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
