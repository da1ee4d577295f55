/**
 * When the leader syncs on its own: on `online`, when the page becomes visible, shortly after a
 * local edit (debounced so a burst of renames is one push), and on a cadence that is slower in
 * the background. While offline nothing fires; the `online` event restarts it. After a
 * retryable failure the next attempt comes sooner (backoff), never in a tight loop. Nothing
 * fires before a time set by `holdUntil` (the server's Retry-After, PROTOCOL §9.5): a trigger
 * that comes earlier is moved to that time.
 */

export type TriggerReason = "open" | "online" | "visible" | "edit" | "cadence" | "retry";

export interface CadenceOptions {
  /** Cadence while the page is visible (or in a worker). Default 5 minutes. */
  foregroundMs?: number;
  /** Cadence while the page is hidden. Default 15 minutes. */
  backgroundMs?: number;
  /** Delay after a local edit before pushing it. Default 1 second. */
  editDebounceMs?: number;
}

const FIRST_RETRY_MS = 5_000;
/** The longest delay `setTimeout` takes; a longer hold is waited for in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function isOnline(): boolean {
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return nav?.onLine !== false;
}

function isHidden(): boolean {
  return typeof document !== "undefined" && document.visibilityState === "hidden";
}

export class SyncTriggers {
  readonly #foregroundMs: number;
  readonly #backgroundMs: number;
  readonly #debounceMs: number;
  readonly #fire: (reason: TriggerReason) => void;
  readonly #onNetwork: (online: boolean) => void;
  #cadence: ReturnType<typeof setTimeout> | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #online = isOnline();
  #started = false;
  /** Epoch ms before which nothing fires. */
  #notBeforeMs = 0;

  constructor(
    options: CadenceOptions,
    fire: (reason: TriggerReason) => void,
    onNetwork: (online: boolean) => void,
  ) {
    this.#foregroundMs = options.foregroundMs ?? 5 * 60_000;
    this.#backgroundMs = options.backgroundMs ?? 15 * 60_000;
    this.#debounceMs = options.editDebounceMs ?? 1_000;
    this.#fire = fire;
    this.#onNetwork = onNetwork;
  }

  get online(): boolean {
    return this.#online;
  }

  readonly #handleOnline = (): void => {
    this.#online = true;
    this.#failures = 0;
    this.#onNetwork(true);
    this.#fireNow("online");
  };

  readonly #handleOffline = (): void => {
    this.#online = false;
    this.#clearCadence();
    this.#onNetwork(false);
  };

  readonly #handleVisibility = (): void => {
    if (isHidden()) {
      this.#schedule(this.#backgroundMs);
    } else {
      this.#fireNow("visible");
    }
  };

  /** Listens to the environment; call once this context is the leader. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    globalThis.addEventListener?.("online", this.#handleOnline);
    globalThis.addEventListener?.("offline", this.#handleOffline);
    if (typeof document !== "undefined") {
      document.addEventListener("visibilitychange", this.#handleVisibility);
    }
    this.#fireNow("open");
  }

  stop(): void {
    this.#started = false;
    globalThis.removeEventListener?.("online", this.#handleOnline);
    globalThis.removeEventListener?.("offline", this.#handleOffline);
    if (typeof document !== "undefined") {
      document.removeEventListener("visibilitychange", this.#handleVisibility);
    }
    this.#clearCadence();
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = undefined;
  }

  /** A local edit (here or in a follower) is waiting to be pushed. */
  editMade(): void {
    if (!this.#started) return;
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.#fireNow("edit");
    }, this.#debounceMs);
  }

  /** Fires `reason` now (when started and online), as the environment's events do. */
  fire(reason: TriggerReason): void {
    this.#fireNow(reason);
  }

  /** Nothing fires before `epochMs` (a later call can only move it later). */
  holdUntil(epochMs: number): void {
    this.#notBeforeMs = Math.max(this.#notBeforeMs, epochMs);
  }

  /** Reports how the last automatic attempt went, to pick the next one. */
  settled(ok: boolean, retryable: boolean): void {
    if (!this.#started) return;
    if (ok || !retryable) {
      this.#failures = 0;
      this.#schedule(this.#cadenceMs());
      return;
    }
    this.#failures += 1;
    const backoff = FIRST_RETRY_MS * 2 ** Math.min(this.#failures - 1, 10);
    this.#schedule(Math.min(backoff, this.#cadenceMs()), "retry");
  }

  #cadenceMs(): number {
    return isHidden() ? this.#backgroundMs : this.#foregroundMs;
  }

  #fireNow(reason: TriggerReason): void {
    if (!this.#started || !this.#online) return;
    const held = this.#notBeforeMs - Date.now();
    if (held > 0) {
      this.#schedule(held, "retry");
      return;
    }
    this.#clearCadence();
    this.#fire(reason);
  }

  #schedule(ms: number, reason: TriggerReason = "cadence"): void {
    this.#clearCadence();
    if (!this.#started || !this.#online) return;
    ms = Math.min(Math.max(ms, this.#notBeforeMs - Date.now()), MAX_TIMER_MS);
    this.#cadence = setTimeout(() => {
      this.#cadence = undefined;
      this.#fireNow(reason);
    }, ms);
  }

  #clearCadence(): void {
    if (this.#cadence !== undefined) clearTimeout(this.#cadence);
    this.#cadence = undefined;
  }
}
