//! The integrity gate's reads answered from the pull call's [`StateCache`] (issue 13, design
//! item 2: "the integrity gate uses the index"). After a cold start into an empty store the
//! cache knows every held row, so the gate that ends the pull reads nothing; whatever the
//! cache does not know is asked of the store, exactly as [`StoreReads`] would.

use crate::engine::pull::integrity::{IntegrityReads, StoreReads, WidgetRef};
use crate::engine::pull::state_cache::StateCache;
use crate::engine::sorting::sort_by;
use crate::engine::store::cache::{Store, StoreError};
use crate::protocol::Kind;

/// The gate's reads: the cache first, the store for the rest.
pub struct CachedReads<'a, S> {
    pub cache: &'a StateCache,
    pub store: &'a S,
}

impl<S: Store> CachedReads<'_, S> {
    fn store(&self) -> StoreReads<'_, S> {
        StoreReads(self.store)
    }
}

impl<S: Store> IntegrityReads for CachedReads<'_, S> {
    async fn all_widgets(&self) -> Result<Vec<WidgetRef>, StoreError> {
        if !self.cache.is_complete(Kind::Widget) {
            return self.store().all_widgets().await;
        }
        let mut all: Vec<WidgetRef> = self.cache.widget_refs().values().cloned().collect();
        sort_by(&mut all, |a, b| a.key.cmp(&b.key));
        Ok(all)
    }

    async fn widget(&self, id: &str) -> Result<Option<WidgetRef>, StoreError> {
        match self.cache.knows_key(&(Kind::Widget, id.to_string())) {
            Some(None) => Ok(None),
            Some(Some(_)) => match self.cache.widget_refs().get(id) {
                Some(w) => Ok(Some(w.clone())),
                // Held, but only its version was read: its row is in the store.
                None => self.store().widget(id).await,
            },
            None => self.store().widget(id).await,
        }
    }

    async fn widgets_of(&self, dashboard_id: &str) -> Result<Vec<WidgetRef>, StoreError> {
        if !self.cache.is_complete(Kind::Widget) {
            return self.store().widgets_of(dashboard_id).await;
        }
        let mut of: Vec<WidgetRef> = self
            .cache
            .widget_refs()
            .values()
            .filter(|w| w.dashboard_id.as_deref() == Some(dashboard_id))
            .cloned()
            .collect();
        sort_by(&mut of, |a, b| a.key.cmp(&b.key));
        Ok(of)
    }

    async fn existing_keys(&self, kind: Kind, keys: &[String]) -> Result<Vec<String>, StoreError> {
        let mut held = Vec::new();
        for key in keys {
            match self.cache.knows_key(&(kind, key.clone())) {
                Some(Some(_)) => held.push(key.clone()),
                Some(None) => {}
                None => return self.store().existing_keys(kind, keys).await,
            }
        }
        Ok(held)
    }

    async fn holds_snapshots(&self, widget_id: &str) -> Result<bool, StoreError> {
        match self.cache.knows_widget(widget_id) {
            Some(held) => Ok(!held.is_empty()),
            None => self.store().holds_snapshots(widget_id).await,
        }
    }
}
