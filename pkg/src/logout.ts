/**
 * `logout()`: refuses while anything this user did is not on the server yet (queued renames,
 * deferred commands, open conflicts) unless forced, then deletes this user's database. The
 * client tells the other contexts to close first (a connection left open would block the
 * deletion), see `client.ts`.
 */
import { SyncError, toSyncError } from "./errors.js";
import type { SyncClientOptions } from "./options.js";
import { raceTrap } from "./traps.js";
import { deleteCoreDatabase } from "./wasm.js";

/** Rejects with `unsynced_changes` when `pending` or `conflicts` holds anything. */
export async function refuseUnsynced(pending: Promise<unknown[]>, conflicts: Promise<unknown[]>): Promise<void> {
  const [p, c] = await Promise.all([pending, conflicts]);
  const waiting = p.length + c.length;
  if (waiting > 0) {
    throw new SyncError(
      "unsynced_changes",
      `${waiting} unsynced change(s) (queued edits or open conflicts); sync or logout({force:true})`,
    );
  }
}

/** Deletes this user's database (every connection to it must be closed first). */
export async function wipeDatabase(options: SyncClientOptions): Promise<void> {
  const { tenantId, userId, deviceId } = options;
  try {
    // Raced against a trap like every call into the module: a panic must not leave logout pending.
    await raceTrap(() => deleteCoreDatabase(tenantId, userId, deviceId));
  } catch (error) {
    throw toSyncError(error);
  }
}
