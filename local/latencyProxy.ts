import { createConnection, createServer, type Server, type Socket } from "node:net";
import { listenOnLoopback } from "./listen.js";

/**
 * A TCP proxy on loopback that holds every chunk a client sends for `delayMs` before passing it
 * on (answers flow back at once): one request, one added round trip of latency, whatever the
 * protocol on top (TLS included). The benchmarks put it in front of Azurite, as the simulator's
 * fault switch does for ARM and Graph, to count a flow's sequential round trips.
 */
export class LatencyProxy {
  #server: Server | undefined;
  #port = 0;
  readonly #sockets = new Set<Socket>();

  constructor(
    private readonly target: { readonly host: string; readonly port: number },
    private readonly delayMs: number,
  ) {}

  /** The port clients connect to instead of the target's. */
  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        socket.on("error", () => socket.destroy());
      }
      // Timers with one delay fire in the order they were set: the byte stream stays in order.
      client.on("data", (chunk) => void setTimeout(() => upstream.write(chunk), this.delayMs));
      upstream.on("data", (chunk) => client.write(chunk));
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    this.#port = await listenOnLoopback(server, 0);
    this.#server = server;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
