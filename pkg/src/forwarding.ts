/**
 * A follower's explicit `sync`/`pull`/`push` runs on the leader: the follower posts an `rpc`
 * on the channel and awaits the leader's `rpc-result` (with `rpc-progress` in between). Only
 * the leader answers, once per request id. When leadership moves, pending requests are asked
 * again: a follower re-posts them to the newly elected leader, and a follower that becomes the
 * leader itself runs them here.
 */
import { ContextChannel, randomId, type ChannelMessage, type RpcMethod } from "./channel.js";
import { SyncError } from "./errors.js";
import type { RunResult, SyncRunner } from "./runner.js";
import type { PullProgress } from "./types.js";

type RpcOptions = { fresh?: boolean } | undefined;

interface PendingRpc {
  method: RpcMethod;
  options: RpcOptions;
  onProgress?: ((progress: PullProgress) => void) | undefined;
  resolve(value: RunResult): void;
  reject(error: SyncError): void;
}

export class LeaderForwarding {
  readonly #channel: ContextChannel;
  readonly #runner: SyncRunner;
  readonly #isLeader: () => boolean;
  readonly #pending = new Map<string, PendingRpc>();
  readonly #served = new Set<string>();

  constructor(channel: ContextChannel, runner: SyncRunner, isLeader: () => boolean) {
    this.#channel = channel;
    this.#runner = runner;
    this.#isLeader = isLeader;
  }

  /** Follower side: asks the leader to run `method` and settles with its answer. */
  forward(method: RpcMethod, options: RpcOptions, onProgress?: (p: PullProgress) => void): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      const id = randomId();
      this.#pending.set(id, { method, options, onProgress, resolve, reject });
      this.#channel.post({ type: "rpc", from: this.#channel.contextId, id, method, options });
    });
  }

  /** This context just became the leader: the requests it sent to the old one run here. */
  runPendingHere(): void {
    for (const [id, rpc] of this.#pending) {
      this.#pending.delete(id);
      this.#runner.run(rpc.method, rpc.options, rpc.onProgress).then(rpc.resolve, rpc.reject);
    }
  }

  /** Handles the forwarding messages; false for any other message type. */
  handle(m: ChannelMessage): boolean {
    const me = this.#channel.contextId;
    switch (m.type) {
      case "rpc":
        if (!this.#isLeader() || this.#served.has(m.id)) return true;
        this.#served.add(m.id);
        this.#runner
          .run(m.method, m.options as RpcOptions, (progress) =>
            this.#channel.post({ type: "rpc-progress", to: m.from, id: m.id, progress }),
          )
          .then(
            (value) => this.#channel.post({ type: "rpc-result", to: m.from, id: m.id, ok: true, value }),
            (error: SyncError) =>
              this.#channel.post({ type: "rpc-result", to: m.from, id: m.id, ok: false, error: error.toJSON() }),
          );
        return true;
      case "rpc-progress":
        if (m.to === me) this.#pending.get(m.id)?.onProgress?.(m.progress);
        return true;
      case "rpc-result": {
        const rpc = m.to === me ? this.#pending.get(m.id) : undefined;
        if (!rpc) return true;
        this.#pending.delete(m.id);
        if (m.ok) rpc.resolve(m.value as RunResult);
        else
          rpc.reject(
            new SyncError(m.error?.code ?? "internal", m.error?.message ?? "leader failed", m.error?.retryable ?? false),
          );
        return true;
      }
      case "leader-elected":
        // The old leader may have died with our requests: ask the new one.
        for (const [id, rpc] of this.#pending) {
          this.#channel.post({ type: "rpc", from: me, id, method: rpc.method, options: rpc.options });
        }
        return true;
      default:
        return false;
    }
  }

  /** Rejects every request still waiting (the client is shutting down). */
  rejectAll(reason: string): void {
    for (const rpc of this.#pending.values()) {
      rpc.reject(new SyncError("closed", `this client is closed (${reason})`));
    }
    this.#pending.clear();
  }
}
