/**
 * The connection indicator, pending counter, cold-start progress bar and the "Sync" facts.
 * `online` in the package's status only reflects the browser's network flag; a server that
 * cannot be reached shows up as `lastError.code === "offline"`, so both count as offline.
 */
import type { PullProgress, Status } from "sync-core";
import { byId, el } from "./dom.js";
import { ago, bytes } from "./format.js";

export type Connection = "online" | "offline" | "syncing" | "revoked" | "starting";

export function connectionOf(status: Status): Connection {
  if (status.accessRevoked) return "revoked";
  if (!status.online || status.lastError?.code === "offline") return status.syncing ? "syncing" : "offline";
  if (status.syncing) return "syncing";
  return "online";
}

const CONN_TEXT: Record<Connection, string> = {
  online: "Online",
  offline: "Offline",
  syncing: "Syncing…",
  revoked: "Access revoked",
  starting: "Starting…",
};

export function showStatus(status: Status): Connection {
  const conn = connectionOf(status);
  const node = byId("conn");
  node.dataset.conn = conn;
  node.textContent = CONN_TEXT[conn];
  const pending = byId("pending");
  pending.dataset.count = String(status.pending);
  pending.textContent = status.pending === 0 ? "All changes saved" : `${status.pending} pending`;
  const facts = byId("facts");
  const b = status.bytesPulled;
  const rows: [string, string][] = [
    ["Last sync", ago(status.lastSyncedAt)],
    ["Downloaded", `${bytes(b.session)} this session`],
    ["Last hour", `${bytes(b.lastHour)} of ${bytes(b.hourlyBudget)}`],
    ["This tab", status.leader ? "syncs for all tabs" : "follows another tab"],
  ];
  if (status.lastError) rows.push(["Last problem", `${status.lastError.code}: ${status.lastError.message}`]);
  facts.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  return conn;
}

/** Cold start: the server does not say how much is left, so pages and items are shown. */
export function showProgress(progress: PullProgress | null): void {
  const box = byId("progress");
  if (!progress) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  // An asymptotic fill: moves on every page without pretending to know the total.
  const fill = 100 * (1 - Math.exp(-progress.pages / 4));
  byId("progress-bar").style.width = `${fill.toFixed(0)}%`;
  byId("progress-text").textContent =
    `Downloading your dashboards… ${progress.itemsApplied} items, ${bytes(progress.bytesPulled)}`;
}
