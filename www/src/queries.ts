/**
 * Saved queries with inline rename. A rename is a local edit: it lands in IndexedDB together
 * with its outbox op at once, so it works offline; the row then says "Will sync when online"
 * (or "Syncing…") until a push settles it.
 */
import type { Conflict, DeadLetter, PendingItem, Query, SyncClient } from "sync-core";
import { el } from "./dom.js";
import { clock } from "./format.js";

export interface QueriesView {
  queries: Query[];
  pending: PendingItem[];
  online: boolean;
}

/** The saved-queries list; `onError` shows a refused rename (e.g. an invalid name). */
export function renderQueries(
  client: SyncClient,
  view: QueriesView,
  onError: (message: string) => void,
  onDone: () => void,
): HTMLElement {
  const waiting = new Set(view.pending.filter((p) => p.type === "op").map((p) => (p.type === "op" ? p.entityId : "")));
  const list = el("ul", { class: "query-list" });
  const sorted = [...view.queries].sort((a, b) => a.name_i18n.default.localeCompare(b.name_i18n.default));
  for (const q of sorted) {
    const isPending = waiting.has(q.id);
    const name = el("span", { class: "query-name" }, q.name_i18n.default);
    const edit = el("button", { class: "link", type: "button", "aria-label": "Rename" }, "Rename");
    const item = el(
      "li",
      { class: `query${isPending ? " is-pending" : ""}`, "data-query-id": q.id },
      el("div", { class: "query-main" }, name, edit),
      isPending ? el("div", { class: "query-note" }, view.online ? "Syncing…" : "Will sync when online") : null,
    );
    edit.addEventListener("click", () => startRename(client, item, q, onError, onDone));
    list.append(item);
  }
  if (sorted.length === 0) list.append(el("li", { class: "muted" }, "No saved queries"));
  return list;
}

/** Whether an inline rename is open in `root`; the page does not re-render the list under it. */
export function isEditing(root: HTMLElement): boolean {
  return root.querySelector(".rename-form") !== null;
}

function startRename(
  client: SyncClient,
  item: HTMLElement,
  q: Query,
  onError: (message: string) => void,
  onDone: () => void,
): void {
  const input = el("input", { class: "rename-input", type: "text", maxlength: 200, "aria-label": "New name" });
  input.value = q.name_i18n.default;
  const save = el("button", { class: "btn btn-small", type: "submit" }, "Save");
  const cancel = el("button", { class: "link", type: "button" }, "Cancel");
  const form = el("form", { class: "rename-form" }, input, save, cancel);
  const main = item.querySelector(".query-main");
  main?.replaceWith(form);
  input.focus();
  input.select();
  // Closing the editor lets the page catch up on renders it held back while it was open.
  const restore = () => {
    form.replaceWith(main ?? el("span"));
    onDone();
  };
  cancel.addEventListener("click", restore);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (value === q.name_i18n.default) {
      restore();
      return;
    }
    save.disabled = true;
    client.renameQuery(q.id, { ...q.name_i18n, default: value }).then(
      () => restore(), // the re-render shows the new name and its "will sync" note
      (error: { message?: string }) => {
        save.disabled = false;
        onError(`Rename refused: ${error.message ?? String(error)}`);
      },
    );
  });
}

function nameOf(value: unknown): string {
  const v = value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
  const i18n = v.name_i18n;
  if (i18n !== null && typeof i18n === "object") {
    const d = (i18n as Record<string, unknown>).default;
    if (typeof d === "string") return d;
  }
  return "(unknown)";
}

/** One prompt per open conflict: keep mine re-queues the edit, take theirs drops it. */
export function renderConflicts(client: SyncClient, conflicts: Conflict[], onError: (m: string) => void): HTMLElement[] {
  return conflicts
    .filter((c) => c.resolution === null)
    .map((c) => {
      const mine = el("button", { class: "btn", type: "button", "data-action": "keep-mine" }, "Keep mine");
      const theirs = el("button", { class: "btn btn-ghost", type: "button", "data-action": "take-theirs" }, "Take theirs");
      const box = el(
        "div",
        { class: "conflict", role: "alertdialog", "data-conflict-id": c.id },
        el("strong", {}, "Edit conflict"),
        el(
          "p",
          {},
          "Someone else renamed this query while you were offline. Yours: “",
          el("b", { class: "conflict-mine" }, nameOf(c.local)),
          "” — theirs: “",
          el("b", { class: "conflict-theirs" }, nameOf(c.server)),
          "”.",
        ),
        el("div", { class: "actions" }, mine, theirs),
      );
      const settle = (resolution: "keepLocal" | "acceptServer") => {
        mine.disabled = true;
        theirs.disabled = true;
        client.resolveConflict(c.id, resolution).then(
          () => undefined,
          (error: { message?: string }) => {
            mine.disabled = false;
            theirs.disabled = false;
            onError(`Could not settle the conflict: ${error.message ?? String(error)}`);
          },
        );
      };
      mine.addEventListener("click", () => settle("keepLocal"));
      theirs.addEventListener("click", () => settle("acceptServer"));
      return box;
    });
}

/** Edits the server refused for good, so nobody thinks they were saved. */
export function renderDeadLetters(letters: DeadLetter[]): HTMLElement {
  const list = el("ul", { class: "dead-list" });
  for (const d of letters) {
    list.append(
      el(
        "li",
        { "data-dead-letter-id": d.id },
        el("b", {}, d.kind === "Query" && nameOf(d.payload) !== "(unknown)" ? `Rename to “${nameOf(d.payload)}”` : `${d.kind} change`),
        el("span", { class: "muted" }, ` (${d.entityId})`),
        el("div", { class: "muted" }, `${d.status || "local"} ${d.reason} · ${clock(new Date(d.failedAtMs).toISOString())}`),
      ),
    );
  }
  return list;
}
