//! A pulled page as the planner takes it: every item's metadata ([`ItemMeta`]), its row
//! held however the store holds rows until it writes them ([`Store::decode_page`]).
//!
//! [`decode_json_page`] is the reference decoder: the strict parser (`protocol/pull.rs`),
//! privacy stripping (§7, `pull/privacy.rs`), then each item's metadata (`pull/item_meta.rs`: key,
//! version, snapshot size and rows digest). `MemoryStore` runs it; the browser store runs a
//! JS decoder over the objects `JSON.parse` made (`src/web/page_decode.js`), which must
//! refuse and keep exactly what this one does.
//!
//! [`Store::decode_page`]: crate::engine::store::cache::Store::decode_page

use crate::engine::pull::config::PullConfig;
use crate::engine::pull::item_meta::{item_meta, ItemMeta};
use crate::engine::pull::privacy::strip_item;
use crate::protocol::{parse_pull_page, PageError, PullItem, PullPage, Row};

/// One decoded page.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedPage<P> {
    /// Item `i`'s metadata, in server log order.
    pub metas: Vec<ItemMeta>,
    /// Item `i`'s row (upserts and appends within the snapshot budget, after privacy
    /// stripping); `None` for tombstones, resets and snapshots over the budget.
    pub rows: Vec<Option<P>>,
    pub next_cursor: String,
    pub drained: bool,
}

impl<P> DecodedPage<P> {
    /// The same page with every row converted by `f`.
    pub fn map_rows<Q>(self, mut f: impl FnMut(P) -> Q) -> DecodedPage<Q> {
        DecodedPage {
            metas: self.metas,
            rows: self.rows.into_iter().map(|r| r.map(&mut f)).collect(),
            next_cursor: self.next_cursor,
            drained: self.drained,
        }
    }
}

impl DecodedPage<Row> {
    /// Privacy stripping and the metadata of an already parsed page; fails on the first
    /// item the planner refuses.
    pub fn from_pull_page(page: PullPage, config: &PullConfig) -> Result<Self, PageError> {
        let mut metas = Vec::with_capacity(page.items.len());
        let mut rows = Vec::with_capacity(page.items.len());
        for (i, mut item) in page.items.into_iter().enumerate() {
            strip_item(&mut item, &config.user_id);
            let meta = item_meta(i, &item, config)?;
            rows.push(match item {
                // A snapshot over the budget is reported, never written: its row goes now.
                _ if matches!(meta, ItemMeta::TooLarge { .. }) => None,
                PullItem::Upsert { row, .. } | PullItem::Append { row, .. } => Some(row),
                PullItem::Tombstone { .. } | PullItem::Reset { .. } => None,
            });
            metas.push(meta);
        }
        Ok(DecodedPage {
            metas,
            rows,
            next_cursor: page.next_cursor,
            drained: page.drained,
        })
    }
}

/// Decodes a pull body with the strict Rust parser (the reference decoder).
pub fn decode_json_page(body: &[u8], config: &PullConfig) -> Result<DecodedPage<Row>, PageError> {
    DecodedPage::from_pull_page(parse_pull_page(body)?, config)
}
