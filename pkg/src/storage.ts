/**
 * Storage health: how much of the origin's quota is used, and whether the browser was asked to
 * keep this origin's data (`navigator.storage.persist()`, windows only) so eviction under
 * storage pressure does not silently drop unsynced edits. Both are reported in `status().storage`.
 */

/** `navigator.storage.estimate()`, or nulls where the API is missing or fails. */
export async function storageEstimate(): Promise<{ usage: number | null; quota: number | null }> {
  try {
    const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
    if (!storage || typeof storage.estimate !== "function") return { usage: null, quota: null };
    const e = await storage.estimate();
    return { usage: e.usage ?? null, quota: e.quota ?? null };
  } catch {
    return { usage: null, quota: null };
  }
}

/** Asks for persistent storage in a window (workers cannot); null where it cannot be asked. */
export async function requestPersistence(): Promise<boolean | null> {
  try {
    if (typeof document === "undefined") return null;
    const storage = navigator.storage;
    if (!storage || typeof storage.persist !== "function") return null;
    if (await storage.persisted()) return true;
    return await storage.persist();
  } catch {
    return null;
  }
}

/** This context's view of its storage: the persistence answer (asked once) and the estimate. */
export class StorageWatch {
  #persisted: boolean | null = null;

  /** Asks for persistence in the background; the answer shows in later `health()` calls. */
  requestPersistence(): void {
    void requestPersistence().then((p) => {
      this.#persisted = p;
    });
  }

  async health(): Promise<{ usage: number | null; quota: number | null; persisted: boolean | null }> {
    return { ...(await storageEstimate()), persisted: this.#persisted };
  }
}
