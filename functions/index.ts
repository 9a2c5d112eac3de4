import { judgeGrantEventHandler } from "./judgeGrantEvent.js";

/** Every function of the app, as the Functions host registers them: the dev host serves the same list. */
export const functionRegistrations = [{ name: "judgeGrantEvent", trigger: "eventGrid", handler: judgeGrantEventHandler }] as const;
