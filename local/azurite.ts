import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import type { LocalTls } from "./tls.js";

/** A running Azurite (Table, Queue and Blob, in memory, https, OAuth) and how to stop it. */
export interface RunningAzurite {
  readonly tableEndpoint: string;
  readonly queueEndpoint: string;
  readonly blobEndpoint: string;
  stop(): Promise<void>;
}

const ACCOUNT = "devstoreaccount1";
const TABLE_LOOKUP = new URL("./azuriteTableLookup.mjs", import.meta.url).href;

/** A free TCP port on loopback (Azurite prints 0 when asked for port 0, so we pick one). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

async function startService(service: "table" | "queue" | "blob", tls: LocalTls): Promise<{ port: number; child: ChildProcess }> {
  const root = dirname(createRequire(import.meta.url).resolve("azurite/package.json"));
  const port = await freePort();
  const args = [
    // Table Storage's point lookups by (PartitionKey, RowKey), kept off Azurite's full scan: see the file.
    ...(service === "table" ? ["--import", TABLE_LOOKUP] : []),
    join(root, "dist", "src", service, "main.js"),
    "--inMemoryPersistence",
    "--disableTelemetry",
    // The storage SDKs send a newer x-ms-version than this Azurite knows; its own flag accepts it
    // (the operations grantguard uses — queues, append blobs, conditional writes — are the same in both).
    "--skipApiVersionCheck",
    "--silent",
    `--${service}Host`, "127.0.0.1",
    `--${service}Port`, String(port),
    "--cert", tls.certFile,
    "--key", tls.keyFile,
    "--oauth", "basic",
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`Azurite ${service} did not start within 20 s:\n${output}`)), 20_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (/successfully (started|listen)/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite ${service} exited with code ${code}:\n${output}`));
    });
  });
  return { port, child };
}

/** Starts Azurite's Table, Queue and Blob services on free loopback ports, serving https with OAuth. */
export async function startAzurite(tls: LocalTls): Promise<RunningAzurite> {
  const [table, queue, blob] = await Promise.all([startService("table", tls), startService("queue", tls), startService("blob", tls)]);
  return {
    tableEndpoint: `https://127.0.0.1:${table.port}/${ACCOUNT}`,
    queueEndpoint: `https://127.0.0.1:${queue.port}/${ACCOUNT}`,
    blobEndpoint: `https://127.0.0.1:${blob.port}/${ACCOUNT}`,
    async stop() {
      await Promise.all(
        [table.child, queue.child, blob.child].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once("exit", () => resolve());
              child.kill("SIGTERM");
            }),
        ),
      );
    },
  };
}
