import { GrantGuardError } from "../errors.js";
import type { ChannelMessage } from "./channels/types.js";

/** A channel answered with an error, or did not answer. */
export class DeliveryError extends GrantGuardError {}

/** Posts prepared channel messages. */
export interface AlertSender {
  send(message: ChannelMessage): Promise<void>;
}

/** Sends with fetch; anything but 2xx (or no answer within `timeoutMs`) is a DeliveryError. */
export class HttpAlertSender implements AlertSender {
  constructor(private readonly timeoutMs = 10_000) {}

  async send(message: ChannelMessage): Promise<void> {
    let response: Response;
    try {
      response = await fetch(message.url, { method: "POST", headers: message.headers, body: message.body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new DeliveryError(`no answer from ${new URL(message.url).host}: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text().catch(() => "");
    if (!response.ok) throw new DeliveryError(`HTTP ${response.status} from ${new URL(message.url).host}: ${text.slice(0, 200)}`);
  }
}
