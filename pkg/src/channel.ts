/**
 * Messages between the contexts (tabs, workers) that opened the same database, over one
 * BroadcastChannel named after it. Followers never sync themselves: they ask the leader
 * (`sync-request`, or an `rpc` for an explicit `sync`/`pull`/`push` whose result they await,
 * repeated as a liveness ping that the leader answers with `rpc-alive`, see `forwarding.ts`),
 * and everyone learns about applied changes (`changed`), the leader's sync state
 * (`leader-status`) and a forced logout (`logout`, after which every context closes).
 */
import type { SyncErrorJson } from "./errors.js";
import type { Kind, PullProgress } from "./types.js";

export type RpcMethod = "sync" | "pull" | "push";

export interface LeaderState {
  syncing: boolean;
  lastSyncedAt: string | null;
  lastError: { code: string; message: string; retryable: boolean; at: string } | null;
  accessRevoked: boolean;
  paused: string | null;
  bytesSession: number;
  bytesLastHour: number;
  bytesColdStart: number;
  /** False from a request that got no response (network error, timeout) until one that did. */
  reachable: boolean;
  /** RFC 3339 time before which no request may leave (Retry-After), or null. */
  retryAt: string | null;
  /** Why pushing is paused: `access_revoked`, `push_rejected`, or null. */
  pushPaused: string | null;
}

const isStringOrNull = (v: unknown) => v === null || typeof v === "string";
const isCount = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;

/**
 * Whether `value` has the shape a leader posts (`SyncState.toLeaderState`). The channel is
 * shared with every context of the database, including other versions of this code and, by
 * name, anything else in the origin: a follower takes a leader's state only when it is one, or
 * its `status()` would report (and a take-over would adopt) whatever arrived.
 */
export function isLeaderState(value: unknown): value is LeaderState {
  if (value === null || typeof value !== "object") return false;
  const s = value as Record<string, unknown>;
  const e = s.lastError as Record<string, unknown> | null;
  const errorOk =
    e === null ||
    (typeof e === "object" &&
      typeof e.code === "string" &&
      typeof e.message === "string" &&
      typeof e.retryable === "boolean" &&
      typeof e.at === "string");
  return (
    typeof s.syncing === "boolean" &&
    typeof s.accessRevoked === "boolean" &&
    typeof s.reachable === "boolean" &&
    isStringOrNull(s.lastSyncedAt) &&
    isStringOrNull(s.paused) &&
    isStringOrNull(s.retryAt) &&
    isStringOrNull(s.pushPaused) &&
    isCount(s.bytesSession) &&
    isCount(s.bytesLastHour) &&
    isCount(s.bytesColdStart) &&
    errorOk
  );
}

export type ChannelMessage =
  | { type: "changed"; from: string; kinds: Kind[]; cause: string }
  | { type: "sync-request"; from: string }
  | { type: "rpc"; from: string; id: string; method: RpcMethod; options: unknown }
  | { type: "rpc-alive"; to: string; id: string }
  | { type: "rpc-progress"; to: string; id: string; progress: PullProgress }
  | {
      type: "rpc-result";
      to: string;
      id: string;
      ok: boolean;
      value?: unknown;
      error?: SyncErrorJson;
    }
  | { type: "leader-elected"; from: string }
  | { type: "leader-status"; from: string; state: LeaderState }
  | { type: "logout"; from: string };

export type ChannelListener = (message: ChannelMessage) => void;

/** A BroadcastChannel that tags messages with this context's id and ignores its own. */
export class ContextChannel {
  readonly contextId: string;
  readonly #channel: BroadcastChannel | undefined;

  constructor(databaseName: string, listener: ChannelListener) {
    this.contextId = randomId();
    this.#channel =
      typeof BroadcastChannel === "function"
        ? new BroadcastChannel(`sync-core:${databaseName}`)
        : undefined;
    if (this.#channel) {
      this.#channel.onmessage = (event: MessageEvent) => {
        const message = event.data as ChannelMessage;
        if (message && typeof message === "object" && "type" in message) listener(message);
      };
    }
  }

  post(message: ChannelMessage): void {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // A closed channel (the context is shutting down) has no one left to tell.
    }
  }

  close(): void {
    this.#channel?.close();
  }
}

export function randomId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
