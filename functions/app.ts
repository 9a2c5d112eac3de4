import functions from "@azure/functions";
import { functionRegistrations, type FunctionRegistration } from "./index.js";

// The entry file the Functions host loads (package.json "main"): the one place that calls app.*.
// Everything else imports the registrations as data, so loading them outside the host stays silent.

/** Registers one function with the Functions host. */
export function registerFunction(registration: FunctionRegistration): void {
  switch (registration.trigger) {
    case "eventGrid":
      return functions.app.eventGrid(registration.name, { handler: registration.handler });
    case "http":
      return functions.app.http(registration.name, { methods: [...registration.methods], authLevel: registration.authLevel, route: registration.route, handler: registration.handler });
    case "timer":
      return functions.app.timer(registration.name, { schedule: registration.schedule, handler: registration.handler });
    case "storageQueue":
      return functions.app.storageQueue(registration.name, { queueName: registration.queueName, connection: registration.connection, handler: registration.handler });
  }
}

// Exports (the audit trail's, the findings') stream their bodies: HTTP streams are enabled before any function is registered.
functions.app.setup({ enableHttpStream: true });
for (const registration of functionRegistrations) registerFunction(registration);
