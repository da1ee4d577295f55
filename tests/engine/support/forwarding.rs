//! Test stores wrap a `MemoryStore` to intercept one or two `Store` methods (count calls,
//! stall, race, fail). The methods a wrapper does not intercept are forwarded here, so each
//! wrapper spells out only what it changes.

/// Inside `impl Store for Wrapper`, forwards `decode_page`, `row`, `rows`, `widgets_of`,
/// `snapshots_of` and `existing_keys` to `self.$inner`.
#[macro_export]
macro_rules! forward_store_reads {
    ($inner:ident) => {
        fn decode_page(
            &self,
            body: &[u8],
            config: &sync_core::engine::PullConfig,
        ) -> Result<sync_core::engine::DecodedPage<Self::Payload>, sync_core::protocol::PageError> {
            self.$inner.decode_page(body, config)
        }
        async fn row(
            &self,
            kind: sync_core::protocol::Kind,
            key: &str,
        ) -> Result<Option<sync_core::engine::StoredRow>, sync_core::engine::StoreError> {
            self.$inner.row(kind, key).await
        }
        async fn rows(
            &self,
            kind: sync_core::protocol::Kind,
        ) -> Result<Vec<sync_core::engine::StoredRow>, sync_core::engine::StoreError> {
            self.$inner.rows(kind).await
        }
        async fn widgets_of(
            &self,
            dashboard_id: &str,
        ) -> Result<Vec<sync_core::engine::StoredRow>, sync_core::engine::StoreError> {
            self.$inner.widgets_of(dashboard_id).await
        }
        async fn snapshots_of(
            &self,
            widget_id: &str,
        ) -> Result<Vec<sync_core::engine::StoredSnapshot>, sync_core::engine::StoreError> {
            self.$inner.snapshots_of(widget_id).await
        }
        async fn existing_keys(
            &self,
            kind: sync_core::protocol::Kind,
            keys: &[String],
        ) -> Result<Vec<String>, sync_core::engine::StoreError> {
            self.$inner.existing_keys(kind, keys).await
        }
    };
}

/// Inside `impl Store for Wrapper`, forwards `meta`, `set_access_revoked`, `local_state`,
/// `commit_page` and `wipe` to `self.$inner`: for wrappers that intercept only reads.
#[macro_export]
macro_rules! forward_store_writes {
    ($inner:ident) => {
        async fn meta(&self) -> Result<sync_core::engine::SyncMeta, sync_core::engine::StoreError> {
            self.$inner.meta().await
        }
        async fn set_access_revoked(
            &self,
            revoked: bool,
        ) -> Result<(), sync_core::engine::StoreError> {
            self.$inner.set_access_revoked(revoked).await
        }
        async fn local_state(
            &self,
            request: &sync_core::engine::StateRequest,
        ) -> Result<sync_core::engine::LocalState, sync_core::engine::StoreError> {
            self.$inner.local_state(request).await
        }
        async fn commit_page<P: Clone + Into<Self::Payload>>(
            &self,
            plan: &sync_core::engine::ApplyPlan<P>,
            expected_cursor: Option<&str>,
            next_cursor: &str,
        ) -> Result<sync_core::engine::Swept, sync_core::engine::StoreError> {
            self.$inner
                .commit_page(plan, expected_cursor, next_cursor)
                .await
        }
        async fn wipe(
            &self,
            kinds: &[sync_core::protocol::Kind],
            drop_cursor: bool,
        ) -> Result<(), sync_core::engine::StoreError> {
            self.$inner.wipe(kinds, drop_cursor).await
        }
    };
}
