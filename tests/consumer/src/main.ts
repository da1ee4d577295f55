// A page of an app that depends on the published package. With `?baseUrl=…&tenantId=…` it
// opens a client and renders the dashboards; the e2e tests also drive `window.syncCore`.
import { SyncClient, SyncError, type Dashboard, type SyncEvent } from "sync-core";
import { armTrap } from "./trap-switch.js";

declare global {
  interface Window {
    syncCore: {
      SyncClient: typeof SyncClient;
      SyncError: typeof SyncError;
      startWorker(): Worker;
      /** Test-only: make the package's wasm trap (see trap-switch.ts). */
      armTrap: typeof armTrap;
      client?: SyncClient;
      events: SyncEvent[];
    };
  }
}

function startWorker(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
}

window.syncCore = { SyncClient, SyncError, startWorker, armTrap, events: [] };

function render(dashboards: Dashboard[]): void {
  const list = document.getElementById("dashboards");
  if (!list) return;
  list.replaceChildren(
    ...dashboards.map((d) => {
      const item = document.createElement("li");
      item.dataset.id = d.id;
      item.textContent = d.name_i18n.default;
      return item;
    }),
  );
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const baseUrl = params.get("baseUrl");
  const state = document.getElementById("state");
  if (!baseUrl || !state) {
    if (state) state.textContent = "idle";
    return;
  }
  const token = params.get("token") ?? "";
  try {
    const client = await SyncClient.open({
      baseUrl,
      tenantId: params.get("tenantId") ?? "",
      userId: params.get("userId") ?? "",
      deviceId: params.get("deviceId") ?? "dev_consumer",
      getToken: async () => token,
    });
    window.syncCore.client = client;
    client.subscribe((event) => {
      window.syncCore.events.push(event);
      if (event.type === "changed" && event.kinds.includes("Dashboard")) {
        void client.dashboards().then((d) => {
          render(d);
          state.textContent = `rendered ${d.length}`;
        });
      }
    });
    const held = await client.dashboards();
    render(held);
    state.textContent = held.length > 0 ? `rendered ${held.length}` : "waiting";
  } catch (error) {
    state.textContent = error instanceof SyncError ? `error ${error.code}` : `error ${String(error)}`;
  }
}

void main();
