import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import selfsigned from "selfsigned";

/** Where the launcher tells its child (and vitest its workers) which TLS material is trusted. */
export const TLS_DIR_VARIABLE = "GRANTGUARD_LOCAL_TLS_DIR";

/** The local Azure's TLS material: a key and certificate for 127.0.0.1/localhost, and a CA bundle to trust it. */
export interface LocalTls {
  readonly dir: string;
  readonly keyFile: string;
  readonly certFile: string;
  /** The system CAs plus our certificate: what NODE_EXTRA_CA_CERTS must point at. */
  readonly bundleFile: string;
  readonly key: string;
  readonly cert: string;
}

const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];

/**
 * Makes a fresh self-signed certificate in a new temporary directory, and a bundle of the CAs
 * this process already trusts plus ours. Overwriting NODE_EXTRA_CA_CERTS with only our
 * certificate would break every other TLS connection, so the bundle keeps the system CAs.
 */
export async function createLocalTls(): Promise<LocalTls> {
  const dir = await mkdtemp(join(tmpdir(), "grantguard-tls-"));
  // A name of its own: a bundle that already trusts another run's certificate (npm start launched
  // from a process that trusts the tests' one) must not find that one first by name and fail.
  const pems = await selfsigned.generate([{ name: "commonName", value: `grantguard local azure ${randomBytes(6).toString("hex")}` }], {
    keySize: 2048,
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 2 * 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] },
    ],
  });
  const inherited = [process.env.NODE_EXTRA_CA_CERTS, ...SYSTEM_BUNDLES].find((f) => f && existsSync(f));
  const system = inherited ? await readFile(inherited, "utf8") : "";
  const tls = paths(dir, pems.private, pems.cert);
  await writeFile(tls.keyFile, pems.private, { mode: 0o600 });
  await writeFile(tls.certFile, pems.cert);
  await writeFile(tls.bundleFile, `${system.trimEnd()}\n${pems.cert}`);
  return tls;
}

function paths(dir: string, key: string, cert: string): LocalTls {
  return { dir, keyFile: join(dir, "key.pem"), certFile: join(dir, "cert.pem"), bundleFile: join(dir, "ca-bundle.pem"), key, cert };
}

/** Reads the TLS material this process was started to trust; throws when it was not. */
export async function loadTrustedLocalTls(): Promise<LocalTls> {
  const dir = process.env[TLS_DIR_VARIABLE];
  if (!dir || process.env.NODE_EXTRA_CA_CERTS !== join(dir, "ca-bundle.pem") || !existsSync(join(dir, "ca-bundle.pem"))) {
    throw new Error(
      `this process does not trust the local Azure certificate: start it through local/launch (npm start, npm test, npm run bench), which sets ${TLS_DIR_VARIABLE} and NODE_EXTRA_CA_CERTS before Node starts`,
    );
  }
  return paths(dir, await readFile(join(dir, "key.pem"), "utf8"), await readFile(join(dir, "cert.pem"), "utf8"));
}

/** The environment that makes a new Node process trust `tls` (Node reads NODE_EXTRA_CA_CERTS only at start). */
export function trustEnvironment(tls: LocalTls): Record<string, string> {
  return { NODE_EXTRA_CA_CERTS: tls.bundleFile, [TLS_DIR_VARIABLE]: tls.dir };
}

/**
 * Runs `argv` (a node script and its arguments) in a child process that trusts a fresh local
 * certificate, forwards Ctrl-C and termination to it, removes the certificate afterwards and
 * returns the child's exit code.
 */
export async function runTrusting(argv: readonly string[]): Promise<number> {
  const tls = await createLocalTls();
  // The IPC channel lets the script notice when this launcher is gone, however it ended.
  const child = spawn(process.execPath, [...process.execArgv, ...argv], { stdio: ["inherit", "inherit", "inherit", "ipc"], env: { ...process.env, ...trustEnvironment(tls) } });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((resolve) => child.once("exit", (c, signal) => resolve(c ?? (signal ? 130 : 1))));
  await rm(tls.dir, { recursive: true, force: true });
  return code;
}
