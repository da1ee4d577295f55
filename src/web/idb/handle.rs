//! The open database as the store's parts use it: the connection, and the test hooks that make
//! the next commit or outbox write abort part way. A leaf: the `Store` impl (`store.rs`), the
//! `OutboxStore` impl (`outbox_store.rs`) and the files that do the work (`page_commit.rs`,
//! `reads.rs`, `outbox*.rs`) all take a [`Handle`]; none of them imports `IdbStore`, so the
//! store calls into its parts and nothing calls back.

use crate::web::idb::connection::Connection;
use crate::web::idb::error::IdbError;
use crate::web::idb::transaction::{Durability, WriteTransaction};
use std::cell::Cell;
use web_sys::IdbDatabase;

pub struct Handle {
    pub(super) connection: Connection,
    /// Test hook armed by `IdbStore::fail_next_commit_after` (`page_commit.rs`).
    pub(super) fail_after: Cell<Option<usize>>,
    /// Test hook armed by `IdbStore::fail_next_outbox_write_after` (`outbox_tx.rs`).
    pub(super) outbox_fail_after: Cell<Option<usize>>,
}

impl Handle {
    pub(super) fn new(connection: Connection) -> Handle {
        Handle {
            connection,
            fail_after: Cell::new(None),
            outbox_fail_after: Cell::new(None),
        }
    }

    pub(super) fn db(&self) -> Result<&IdbDatabase, IdbError> {
        self.connection.database()
    }

    /// Opens a readwrite transaction over `stores`; see [`WriteTransaction`] for the rules.
    pub(super) fn begin_write(
        &self,
        stores: &[&str],
        durability: Durability,
    ) -> Result<WriteTransaction, IdbError> {
        WriteTransaction::begin(self.db()?, stores, durability)
    }
}
