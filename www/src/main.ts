/**
 * The demo backoffice: opens a `SyncClient` for the identity of the URL and renders what is in
 * the local cache at once; the package syncs on its own (open, online, edits, cadence) and every
 * `changed` / `status` event re-renders. Only the `sync-core` package is used.
 */
import { SyncClient, SyncError, type DqAlertOpen, type Status } from "sync-core";
import "./style.css";
import { byId, el } from "./dom.js";
import { ago, clock } from "./format.js";
import { bindIdentityForm, readIdentity } from "./identity.js";
import { isEditing, renderConflicts, renderDeadLetters, renderQueries } from "./queries.js";
import { showProgress, showStatus, type Connection } from "./statusbar.js";
import { renderWidgets } from "./widgets.js";

declare global {
  interface Window {
    /** For the e2e tests and curious developers. */
    demo?: { client: SyncClient; renders: number };
  }
}

const identity = readIdentity();
const DASH_KEY = `sync-core-demo.dashboard.${identity.tenantId}.${identity.userId}`;
let client: SyncClient;
let status: Status | null = null;
let conn: Connection = "starting";
/** Short-lived messages (sync results, refused edits, rate limits), newest last. */
const notices: { text: string; tone: "info" | "warn" | "bad"; id: number }[] = [];
let noticeId = 0;

function notify(text: string, tone: "info" | "warn" | "bad" = "info"): void {
  noticeId += 1;
  notices.push({ text, tone, id: noticeId });
  if (notices.length > 3) notices.shift();
  const id = noticeId;
  setTimeout(() => {
    const i = notices.findIndex((n) => n.id === id);
    if (i >= 0) notices.splice(i, 1);
    scheduleRender();
  }, 12_000);
  scheduleRender();
}

function errorText(error: unknown): string {
  if (error instanceof SyncError) {
    if (error.code === "rate_limited") {
      const ms = /(\d+)\s*ms/.exec(error.message);
      const s = ms ? Math.ceil(Number(ms[1]) / 1000) : null;
      const wait = s === null ? "shortly" : s >= 90 ? `${Math.round(s / 60)} min` : `${s} s`;
      return `Rate limited by the server — try again in ${wait}.`;
    }
    if (error.code === "offline") return "The server cannot be reached — showing saved data";
    if (error.code === "forbidden") return "Access revoked";
    return `${error.code}: ${error.message}`;
  }
  return String(error);
}

// ---- rendering ------------------------------------------------------------------------------

let rendering = false;
let again = false;

/** Coalesces bursts of events into one render; never two renders at once. */
function scheduleRender(): void {
  if (rendering) {
    again = true;
    return;
  }
  rendering = true;
  void render()
    .catch((error: unknown) => {
      // Reads come from IndexedDB; a failure here is worth a visible notice, not a crash.
      byId("empty").hidden = false;
      byId("empty").textContent = `Could not read the local data: ${errorText(error)}`;
    })
    .finally(() => {
      rendering = false;
      if (again) {
        again = false;
        scheduleRender();
      }
    });
}

async function render(): Promise<void> {
  const revoked = status?.accessRevoked === true;
  document.body.dataset.state = revoked ? "revoked" : "ready";
  const [dashboards, alerts, queries, pending, conflicts, dead] = await Promise.all([
    client.dashboards(),
    client.openAlerts(),
    client.queries(),
    client.pending(),
    client.conflicts(),
    client.deadLetters(),
  ]);
  const banners: HTMLElement[] = [];
  if (revoked) {
    banners.push(el("div", { class: "banner banner-bad", "data-banner": "revoked" }, el("strong", {}, "Access revoked. "), "Your access to this data was withdrawn; nothing is shown until an administrator restores it."));
  }
  const picker = byId<HTMLSelectElement>("dashboard");
  const visible = revoked ? [] : [...dashboards].sort((a, b) => a.name_i18n.default.localeCompare(b.name_i18n.default));
  const wanted = picker.value || localStorage.getItem(DASH_KEY) || "";
  const current = visible.find((d) => d.id === wanted) ?? visible[0];
  picker.replaceChildren(...visible.map((d) => el("option", { value: d.id }, d.name_i18n.default)));
  if (current) picker.value = current.id;
  picker.hidden = visible.length === 0;

  const freshness = current ? await client.freshness(current.id) : undefined;
  const cards = current ? await renderWidgets(client, current.id, freshness) : [];
  byId("title").textContent = current ? current.name_i18n.default : revoked ? "Access revoked" : "No dashboards yet";
  byId("grid").replaceChildren(...cards);
  byId("grid").dataset.dashboardId = current?.id ?? "";
  const empty = byId("empty");
  empty.hidden = cards.length > 0 || revoked;
  empty.textContent = current ? "This dashboard has no widgets." : conn === "offline" ? "Offline and nothing saved on this device yet." : "Waiting for the first sync…";

  const asof = byId("asof");
  asof.hidden = !current;
  asof.dataset.stale = String(freshness?.stale === true);
  asof.textContent = freshness?.asOf ? `Data as of ${clock(freshness.asOf)} (${ago(freshness.asOf)})` : "No data yet";
  if (current && freshness?.stale) {
    banners.push(el("div", { class: "banner banner-warn", "data-banner": "stale" }, el("strong", {}, "Stale data. "), `${freshness.staleWidgetIds.length} widget(s) are older than their freshness alert; figures may be behind.`));
  }
  if (!revoked && alerts.length > 0) banners.push(dqBanner(alerts));
  banners.push(...renderConflicts(client, conflicts, (m) => notify(m, "bad")));
  for (const n of notices) banners.push(el("div", { class: `banner banner-${n.tone}`, "data-banner": "notice" }, n.text));
  byId("banners").replaceChildren(...banners);

  const queryBox = byId("queries");
  if (revoked) queryBox.replaceChildren(el("p", { class: "muted" }, "Hidden while access is revoked."));
  else if (!isEditing(queryBox)) {
    queryBox.replaceChildren(renderQueries(client, { queries, pending, online: conn !== "offline" }, (m) => notify(m, "bad"), scheduleRender));
  }
  byId("dead-panel").hidden = dead.length === 0;
  byId("dead-count").textContent = String(dead.length);
  byId("dead").replaceChildren(renderDeadLetters(dead));
  if (window.demo) window.demo.renders += 1;
  byId("grid").dataset.renders = String(window.demo?.renders ?? 0);
}

/** One banner for all open data-quality alerts; the list folds out on demand. */
function dqBanner(alerts: DqAlertOpen[]): HTMLElement {
  const critical = alerts.filter((a) => a.severity === "critical").length;
  const sorted = [...alerts].sort((a, b) => (a.severity === "critical" ? 0 : 1) - (b.severity === "critical" ? 0 : 1));
  const summary = `${alerts.length} open data-quality alert${alerts.length === 1 ? "" : "s"}${critical ? ` (${critical} critical)` : ""}`;
  return el(
    "details",
    { class: `banner banner-${critical ? "bad" : "warn"}`, "data-banner": "dq" },
    el("summary", {}, el("strong", {}, "Data quality: "), `${summary} — some figures may be wrong.`),
    el(
      "ul",
      { class: "dq-list" },
      ...sorted.map((a) => el("li", { "data-alert-id": a.id }, el("b", {}, a.severity), ` ${a.checkKey} · since ${clock(a.observedAt)}`)),
    ),
  );
}

/** Re-reads the status; a closed client keeps the last one (the `closed` event says why). */
async function refreshStatus(): Promise<void> {
  const next = await client.status().catch(() => null);
  if (!next) return;
  const wasRevoked = status?.accessRevoked === true;
  status = next;
  const before = conn;
  conn = showStatus(next);
  if (before !== conn || wasRevoked !== next.accessRevoked) scheduleRender();
}

// ---- actions --------------------------------------------------------------------------------

function busy(button: HTMLButtonElement, work: () => Promise<void>): void {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = button.id === "refresh" ? "Refreshing…" : "Syncing…";
  work().finally(() => {
    button.disabled = false;
    button.textContent = label;
    showProgress(null);
    void refreshStatus();
  });
}

async function syncNow(): Promise<void> {
  try {
    const report = await client.sync();
    const resets = report.pull.resets;
    if (resets.length > 0) notify(`The server reset ${resets.join(", ")}; downloaded again.`, "info");
    else notify(`Up to date · ${report.push?.opsApplied ?? 0} change(s) sent, ${Object.values(report.pull.applied).reduce((s, n) => s + (n ?? 0), 0)} item(s) received.`);
  } catch (error) {
    // A revocation has its own banner and indicator; no second message for it.
    if (error instanceof SyncError && error.code === "forbidden") return;
    notify(errorText(error), error instanceof SyncError && error.code === "offline" ? "warn" : "bad");
  }
}

async function refreshNow(): Promise<void> {
  try {
    const report = await client.pull({ fresh: true, onProgress: showProgress });
    notify(`Refreshed everything · ${report.pages} page(s) in ${(report.durationMs / 1000).toFixed(1)} s.`);
  } catch (error) {
    notify(errorText(error), error instanceof SyncError && error.code === "rate_limited" ? "warn" : "bad");
  }
}

// ---- start ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  byId("who").textContent = `${identity.userId} @ ${identity.tenantId}`;
  bindIdentityForm(byId<HTMLFormElement>("identity"), identity);
  const token = identity.token;
  client = await SyncClient.open({
    baseUrl: identity.baseUrl,
    tenantId: identity.tenantId,
    userId: identity.userId,
    deviceId: identity.deviceId,
    getToken: () => token,
    maxAttempts: 2,
  });
  window.demo = { client, renders: 0 };
  client.subscribe((event) => {
    if (event.type === "status") {
      status = event.status;
      const before = conn;
      conn = showStatus(event.status);
      if (!event.status.syncing) showProgress(null);
      if (before !== conn) scheduleRender();
    } else if (event.type === "changed") {
      scheduleRender();
    } else if (event.type === "progress") {
      // Only a cold start (nothing cached yet) gets the big progress bar.
      if (byId("grid").childElementCount === 0) showProgress(event.progress);
    } else if (event.type === "conflict") {
      notify(`${event.conflictIds.length} conflicting edit(s) need your decision.`, "warn");
    } else if (event.type === "closed") {
      notify("This tab's connection to the local data closed; reload the page.", "bad");
    }
  });
  byId<HTMLSelectElement>("dashboard").addEventListener("change", (e) => {
    const id = (e.target as HTMLSelectElement).value;
    localStorage.setItem(DASH_KEY, id);
    scheduleRender();
  });
  const syncButton = byId<HTMLButtonElement>("sync");
  const refreshButton = byId<HTMLButtonElement>("refresh");
  syncButton.addEventListener("click", () => busy(syncButton, syncNow));
  refreshButton.addEventListener("click", () => busy(refreshButton, refreshNow));
  await refreshStatus();
  scheduleRender();
  // Keeps "3 min ago" texts honest between events.
  setInterval(() => void refreshStatus().then(scheduleRender), 30_000);
}

main().catch((error: unknown) => {
  document.body.dataset.state = "failed";
  byId("title").textContent = "Could not open the local database";
  byId("empty").hidden = false;
  byId("empty").textContent = errorText(error);
});
