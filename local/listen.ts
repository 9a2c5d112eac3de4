import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Server } from "node:net";

/** Listens on loopback (port 0: a free one) and resolves with the port taken. */
export async function listenOnLoopback(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server and every connection still open on it. */
export async function closeServer(server: Server & { closeAllConnections(): void }): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The whole request body as text. */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A request body over the server's limit (answered 413). */
export class RequestBodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`the request body is larger than ${limitBytes} bytes`);
    this.name = "RequestBodyTooLargeError";
  }
}

/**
 * The whole request body as text, read up to `limitBytes`: past it, reading stops with
 * RequestBodyTooLargeError. A client that hangs up mid-body makes this reject, never throw elsewhere.
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes) throw new RequestBodyTooLargeError(limitBytes);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).length;
    if (length > limitBytes) throw new RequestBodyTooLargeError(limitBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Answers with a JSON body (and any headers the handler set, such as WWW-Authenticate). */
export function reply(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Answers with a plain-text body (or none), as ASP.NET Core does for HttpResponseMessage content. */
export function replyText(res: ServerResponse, status: number, text = "", headers: Record<string, string> = {}): void {
  res.writeHead(status, text ? { "content-type": "text/plain; charset=utf-8", ...headers } : headers);
  res.end(text);
}
