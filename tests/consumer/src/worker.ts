// A dedicated module worker that opens the same package: the e2e tests use it to prove that
// the wasm loads in a worker and that a worker takes part in the leader election.
import { SyncClient, SyncError, type SyncEvent } from "sync-core";
import { armTrap, type TrapMode } from "./trap-switch.js";

let client: SyncClient | undefined;
const events: SyncEvent[] = [];

type Request = { id: number; call: string; args: unknown[] };

self.onmessage = async (message: MessageEvent<Request>) => {
  const { id, call, args } = message.data;
  try {
    let value: unknown;
    if (call === "open") {
      // Functions cannot cross postMessage: the page sends the token, getToken hands it out.
      const { token, ...options } = args[0] as Parameters<typeof SyncClient.open>[0] & { token: string };
      client = await SyncClient.open({ ...options, getToken: async () => token });
      client.subscribe((event) => events.push(event));
    } else if (call === "events") {
      value = events.map((e) => ({ type: e.type, kinds: e.type === "changed" ? e.kinds : undefined }));
    } else if (call === "trapDuringDashboards" && client) {
      // Armed and called in one turn, so nothing else enters the module in between.
      armTrap(args[0] as TrapMode);
      value = await client.dashboards();
    } else if (call === "close") {
      client?.close();
    } else if (client) {
      const method = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[call];
      if (typeof method !== "function") throw new SyncError("bad_request", `no method ${call}`);
      value = await method.apply(client, args);
    } else {
      throw new SyncError("closed", "open the client first");
    }
    self.postMessage({ id, ok: true, value });
  } catch (error) {
    const e = error instanceof SyncError ? error : new SyncError("internal", String(error));
    self.postMessage({ id, ok: false, error: { name: e.name, code: e.code, message: e.message } });
  }
};
self.postMessage({ ready: true });
