/**
 * Pulled bytes against the budgets of PROTOCOL §6: 5 MB for a cold start (the first drain of a
 * database that held nothing) and 500 KB per hour in steady state.
 *
 * The hourly window and the cold-start total must not reset when a tab reloads or another
 * context becomes the leader, so the leader keeps them in the database (`meta` key
 * `pullBudget` through the bindings' `pullBudget`/`setPullBudget`) after every pull and the
 * next leader loads them when elected. The hour is kept as per-minute buckets (at most 60
 * numbers). `session` is what this leader pulled since it was elected and is not persisted.
 *
 * The two budgets count disjoint bytes: a cold start's pages count against the cold-start
 * budget only. The hourly budget is the steady-state delta (§6), and a cold start is not a
 * delta — counting its up-to-5 MB there would report "over the hourly budget" after every
 * first sign-in, which says nothing about the steady state. Every figure here is in bytes.
 */

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** The stored shape (plain data: it is structured-cloned into IndexedDB). */
export interface BudgetRecord {
  version: 1;
  /** `[minute since the epoch, bytes pulled in it]`, last hour only. */
  minutes: [number, number][];
  coldStart: { bytes: number; active: boolean };
}

function isRecord(value: unknown): value is BudgetRecord {
  const r = value as BudgetRecord | null;
  return (
    typeof r === "object" &&
    r !== null &&
    r.version === 1 &&
    Array.isArray(r.minutes) &&
    r.minutes.every((m) => Array.isArray(m) && typeof m[0] === "number" && typeof m[1] === "number") &&
    typeof r.coldStart === "object" &&
    r.coldStart !== null &&
    typeof r.coldStart.bytes === "number" &&
    typeof r.coldStart.active === "boolean"
  );
}

export class PullBudget {
  /** Bytes this leader pulled since it was elected. */
  session = 0;
  /** Bytes of the cold start (so far, while `coldStartActive`). */
  coldStartBytes = 0;
  /** True from an empty database until its first drained pull. */
  coldStartActive = false;
  readonly #minutes = new Map<number, number>();

  /** Takes over the stored record (or starts fresh); `empty`: the database holds nothing. */
  restore(stored: unknown, empty: boolean, now = Date.now()): void {
    this.#minutes.clear();
    if (isRecord(stored)) {
      for (const [minute, bytes] of stored.minutes) this.#minutes.set(minute, bytes);
      this.coldStartBytes = stored.coldStart.bytes;
      this.coldStartActive = stored.coldStart.active;
    } else {
      this.coldStartBytes = 0;
      this.coldStartActive = false;
    }
    // An empty database that is not mid-cold-start starts a new one (first open, or the
    // rows were wiped by a reset or by clearing site data).
    if (empty && !this.coldStartActive) {
      this.coldStartActive = true;
      this.coldStartBytes = 0;
    }
    this.#prune(now);
  }

  /** Counts a pull's response bytes: against the cold start while one runs, else the hour. */
  record(bytes: number, drained: boolean, now = Date.now()): void {
    this.session += bytes;
    if (this.coldStartActive) {
      this.coldStartBytes += bytes;
      if (drained) this.coldStartActive = false;
    } else {
      const minute = Math.floor(now / MINUTE_MS);
      this.#minutes.set(minute, (this.#minutes.get(minute) ?? 0) + bytes);
    }
    this.#prune(now);
  }

  lastHour(now = Date.now()): number {
    this.#prune(now);
    let sum = 0;
    for (const bytes of this.#minutes.values()) sum += bytes;
    return sum;
  }

  toRecord(now = Date.now()): BudgetRecord {
    this.#prune(now);
    return {
      version: 1,
      minutes: [...this.#minutes.entries()],
      coldStart: { bytes: this.coldStartBytes, active: this.coldStartActive },
    };
  }

  #prune(now: number): void {
    const oldest = Math.floor((now - HOUR_MS) / MINUTE_MS);
    for (const minute of this.#minutes.keys()) {
      if (minute <= oldest) this.#minutes.delete(minute);
    }
  }
}
