/**
 * A follower's explicit `sync`/`pull`/`push` runs on the leader: the follower posts an `rpc`
 * on the channel and awaits the leader's `rpc-result` (with `rpc-progress` in between). Only
 * the leader answers, once per request id.
 *
 * Liveness: while a request waits, the follower re-posts it every quarter of the timeout. The
 * leader answers a request it is already running (or has queued) with `rpc-alive`, and starts
 * one it never saw (the first post was lost while no one led). The pings come from the
 * follower — the one the user is looking at — so a leader in a throttled background tab is
 * not mistaken for a dead one: message handlers are not throttled, timers are. If nothing
 * comes back for `timeoutMs`, the call rejects with a retryable `leader_unavailable` instead
 * of hanging (the leader hangs, or holds the lock without answering).
 *
 * When leadership moves, pending requests run on the new leader: a follower re-posts them on
 * `leader-elected` (and its timeout starts over), a follower that becomes the leader runs
 * them itself. Repeating them is safe: a pull commits each page with a cursor compare-and-set,
 * and a push re-sends its stored batch with the same idempotency key, so nothing is applied
 * twice. Edits are never forwarded: a follower writes them to the shared outbox itself.
 */
import { ContextChannel, randomId, type ChannelMessage, type RpcMethod } from "./channel.js";
import { errorDetails, SyncError, syncErrorCode } from "./errors.js";
import type { RunResult, SyncRunner } from "./runner.js";
import type { PullProgress } from "./types.js";

type RpcOptions = { fresh?: boolean } | undefined;

interface PendingRpc {
  method: RpcMethod;
  options: RpcOptions;
  onProgress?: ((progress: PullProgress) => void) | undefined;
  resolve(value: RunResult): void;
  reject(error: SyncError): void;
  /** When the leader last showed it is working on this request (or the request was sent). */
  lastSeen: number;
  ping: ReturnType<typeof setInterval>;
}

/** Ids of served requests kept to answer late pings (older ones are forgotten). */
const SERVED_MEMORY = 1_000;

export class LeaderForwarding {
  readonly #channel: ContextChannel;
  readonly #runner: SyncRunner;
  readonly #isLeader: () => boolean;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, PendingRpc>();
  /** Requests this context served as leader: true while running, false once answered. */
  readonly #served = new Map<string, boolean>();

  constructor(channel: ContextChannel, runner: SyncRunner, isLeader: () => boolean, timeoutMs: number) {
    this.#channel = channel;
    this.#runner = runner;
    this.#isLeader = isLeader;
    this.#timeoutMs = timeoutMs;
  }

  /** Follower side: asks the leader to run `method` and settles with its answer. */
  forward(method: RpcMethod, options: RpcOptions, onProgress?: (p: PullProgress) => void): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      const id = randomId();
      const ping = setInterval(() => this.#check(id), Math.max(25, Math.floor(this.#timeoutMs / 4)));
      this.#pending.set(id, { method, options, onProgress, resolve, reject, lastSeen: Date.now(), ping });
      this.#post(id, method, options);
    });
  }

  /** This context just became the leader: the requests it sent to the old one run here. */
  runPendingHere(): void {
    for (const [id, rpc] of this.#pending) {
      this.#settle(id);
      this.#runner.run(rpc.method, rpc.options, rpc.onProgress).then(rpc.resolve, rpc.reject);
    }
  }

  /** Handles the forwarding messages; false for any other message type. */
  handle(m: ChannelMessage): boolean {
    const me = this.#channel.contextId;
    switch (m.type) {
      case "rpc":
        this.#serve(m.from, m.id, m.method, m.options as RpcOptions);
        return true;
      case "rpc-alive":
        if (m.to === me) this.#seen(m.id);
        return true;
      case "rpc-progress":
        if (m.to === me) {
          this.#seen(m.id);
          try {
            this.#pending.get(m.id)?.onProgress?.(m.progress);
          } catch {
            // A throwing progress callback must not stop the call (as on the leader: runner.ts).
          }
        }
        return true;
      case "rpc-result": {
        const rpc = m.to === me ? this.#settle(m.id) : undefined;
        if (!rpc) return true;
        if (m.ok) rpc.resolve(m.value as RunResult);
        else
          rpc.reject(
            new SyncError(
              syncErrorCode(m.error?.code ?? "internal"),
              m.error?.message ?? "leader failed",
              m.error?.retryable ?? false,
              errorDetails(m.error ?? {}),
            ),
          );
        return true;
      }
      case "leader-elected":
        // The old leader may have died with our requests: ask the new one, and give it the
        // whole timeout.
        for (const [id, rpc] of this.#pending) {
          rpc.lastSeen = Date.now();
          this.#post(id, rpc.method, rpc.options);
        }
        return true;
      default:
        return false;
    }
  }

  /** Rejects every request still waiting (the client is shutting down). */
  rejectAll(reason: string): void {
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id)?.reject(new SyncError("closed", `this client is closed (${reason})`));
    }
  }

  #post(id: string, method: RpcMethod, options: RpcOptions): void {
    this.#channel.post({ type: "rpc", from: this.#channel.contextId, id, method, options });
  }

  /** Leader side: run a request once; answer a repeat (a ping) of a running one. */
  #serve(from: string, id: string, method: RpcMethod, options: RpcOptions): void {
    if (!this.#isLeader()) return;
    const running = this.#served.get(id);
    if (running === true) {
      this.#channel.post({ type: "rpc-alive", to: from, id });
      return;
    }
    if (running === false) return; // answered already; the result is on its way
    this.#served.set(id, true);
    if (this.#served.size > SERVED_MEMORY) {
      const oldest = this.#served.keys().next().value;
      if (oldest !== undefined) this.#served.delete(oldest);
    }
    this.#channel.post({ type: "rpc-alive", to: from, id });
    this.#runner
      .run(method, options, (progress) => this.#channel.post({ type: "rpc-progress", to: from, id, progress }))
      .then(
        (value) => this.#channel.post({ type: "rpc-result", to: from, id, ok: true, value }),
        (error: SyncError) => this.#channel.post({ type: "rpc-result", to: from, id, ok: false, error: error.toJSON() }),
      )
      .finally(() => this.#served.set(id, false));
  }

  #seen(id: string): void {
    const rpc = this.#pending.get(id);
    if (rpc) rpc.lastSeen = Date.now();
  }

  /** Follower side, on every ping tick: give up after `timeoutMs` of silence, else ask again. */
  #check(id: string): void {
    const rpc = this.#pending.get(id);
    if (!rpc) return;
    const silentMs = Date.now() - rpc.lastSeen;
    if (silentMs >= this.#timeoutMs) {
      this.#settle(id);
      rpc.reject(
        new SyncError(
          "leader_unavailable",
          `the leader context did not answer ${rpc.method}() for ${silentMs} ms; try again (another context takes over when the leader goes away)`,
          true,
        ),
      );
      return;
    }
    this.#post(id, rpc.method, rpc.options);
  }

  /** Forgets a pending request and stops its pings; returns it if it was still pending. */
  #settle(id: string): PendingRpc | undefined {
    const rpc = this.#pending.get(id);
    if (!rpc) return undefined;
    clearInterval(rpc.ping);
    this.#pending.delete(id);
    return rpc;
  }
}
