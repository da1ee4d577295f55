//! Full replacement (engine `replacement.rs`, PROTOCOL §9.1) inside a page's IndexedDB
//! transaction: the flags and marks live in `meta`, so they are read and written under the
//! same transaction as the cursor compare-and-set that vouches for them, and a replacement
//! interrupted by a closed tab resumes from what the committed pages left.
//!
//! `meta` records:
//! - `"replacing"` (`true` while a replacement has committed pages but not drained),
//! - `"orphanSweep"` (`true` after a Widget reset, until the pull drains),
//! - `"sent:" + nextCursor + "\0" + a random number`: one record per replacement page, the
//!   JSON text of its marks (`replacement::encode_mark`), so a page adds one write however many
//!   rows it carries. The random part keeps two pages that share a `nextCursor` (PROTOCOL §3
//!   allows a page to return the cursor it was fetched with) from overwriting each other.

use crate::engine::{decode_mark, encode_mark, plan_sweep, sort_dedup};
use crate::engine::{ReplacementStep, Swept};
use crate::protocol::Kind;
use crate::web::idb::batch::read_held_keys;
use crate::web::idb::error::IdbError;
use crate::web::idb::records::{encode_writes, WriteOp};
use crate::web::idb::schema::{store_name, META_STORE};
use crate::web::idb::transaction::WriteTransaction;
use crate::web::idb::write_sets::delete_writes;
use wasm_bindgen::JsValue;

/// `meta` key of the replacement-in-progress flag.
pub const REPLACING_KEY: &str = "replacing";
/// `meta` key of the orphan-sweep flag.
pub const ORPHAN_SWEEP_KEY: &str = "orphanSweep";
/// Marks are the `meta` keys in `[MARKS_LOWER, MARKS_UPPER)`.
const MARKS_LOWER: &str = "sent:";
const MARKS_UPPER: &str = "sent;";

/// The replacement flags as the page's transaction found them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    pub replacing: bool,
    pub orphan_sweep: bool,
}

/// Decodes a stored boolean flag; absent is `false`.
pub fn decode_flag(value: Option<JsValue>, name: &str) -> Result<bool, IdbError> {
    match value.filter(|v| !v.is_undefined()) {
        None => Ok(false),
        Some(v) => v
            .as_bool()
            .ok_or_else(|| IdbError::Decode(format!("{name} is not a boolean"))),
    }
}

impl Flags {
    /// The flags from the stored values of [`REPLACING_KEY`] and [`ORPHAN_SWEEP_KEY`], read
    /// in that order with the page's cursor check (`batch::check_cursor`).
    pub fn decode(values: &[JsValue]) -> Result<Flags, IdbError> {
        let value = |i: usize| values.get(i).cloned();
        Ok(Flags {
            replacing: decode_flag(value(0), REPLACING_KEY)?,
            orphan_sweep: decode_flag(value(1), ORPHAN_SWEEP_KEY)?,
        })
    }
}

/// The stores a page with `step` may touch beyond its own writes: a draining page may sweep
/// every row and snapshot store.
pub fn sweep_stores(step: &ReplacementStep) -> Vec<&'static str> {
    if !step.drains {
        return Vec::new();
    }
    Kind::ALL.iter().map(|k| store_name(*k)).collect()
}

/// Issues the page's replacement bookkeeping after its writes, and the sweep when the page
/// drains one; returns what the sweep removed. `expected_cursor` is the cursor the page was
/// fetched with (`None`: a new replacement starts).
pub async fn issue_replacement(
    tx: &mut WriteTransaction,
    step: &ReplacementStep,
    flags: Flags,
    expected_cursor: Option<&str>,
    next_cursor: &str,
) -> Result<Swept, IdbError> {
    let starts = expected_cursor.is_none();
    let replacing = if starts {
        !step.into_empty
    } else {
        flags.replacing
    };
    if starts {
        let drop_marks = [WriteOp::delete_range(META_STORE, MARKS_LOWER, MARKS_UPPER)];
        tx.issue(&encode_writes(&drop_marks)?, usize::MAX)?;
        if replacing {
            tx.put(META_STORE, &JsValue::TRUE, Some(&REPLACING_KEY.into()))?;
        } else if flags.replacing {
            tx.delete(META_STORE, &REPLACING_KEY.into())?;
        }
    }
    let orphans_only = starts && step.into_empty;
    if replacing && !step.sent.is_empty() {
        let marks: Vec<String> = step
            .sent
            .iter()
            .map(|(k, key)| encode_mark(*k, key))
            .collect();
        let text = serde_json::to_string(&marks).map_err(|e| IdbError::Encode(e.to_string()))?;
        // Unique per page, not just per cursor: a page may come back with the cursor it was
        // fetched with (PROTOCOL §3), and its marks must not replace the earlier page's.
        let unique = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let key = format!("{MARKS_LOWER}{next_cursor}\u{0}{unique:x}");
        tx.put(META_STORE, &text.into(), Some(&key.into()))?;
    }
    if (step.resets_widgets || orphans_only) && !flags.orphan_sweep {
        tx.put(META_STORE, &JsValue::TRUE, Some(&ORPHAN_SWEEP_KEY.into()))?;
    }
    let orphan_sweep = flags.orphan_sweep || step.resets_widgets || orphans_only;
    if !step.drains || !(replacing || orphan_sweep) {
        return Ok(Swept::default());
    }
    let swept = sweep(tx, replacing).await?;
    let done = [WriteOp::delete_range(META_STORE, MARKS_LOWER, MARKS_UPPER)];
    tx.issue(&encode_writes(&done)?, usize::MAX)?;
    tx.delete(META_STORE, &REPLACING_KEY.into())?;
    tx.delete(META_STORE, &ORPHAN_SWEEP_KEY.into())?;
    Ok(swept)
}

/// Reads what is held now (the page's writes included: requests run in order) and issues
/// the deletes [`plan_sweep`] decides. `full`: a replacement ends (rows not sent go too);
/// otherwise only orphan snapshots go, and of the rows only the widgets' keys are read.
async fn sweep(tx: &mut WriteTransaction, full: bool) -> Result<Swept, IdbError> {
    let row_stores: Vec<&str> = Kind::ALL
        .iter()
        .filter(|k| k.is_versioned() && (full || **k == Kind::Widget))
        .map(|k| store_name(*k))
        .collect();
    let held = read_held_keys(
        tx.raw(),
        &row_stores,
        store_name(Kind::WidgetSnapshot),
        META_STORE,
        (MARKS_LOWER, MARKS_UPPER),
    )
    .await?;
    let mut rows = Vec::new();
    for (store, keys) in held.rows {
        let kind: Kind = store
            .parse()
            .map_err(|_| IdbError::Decode(format!("unknown row store {store}")))?;
        rows.extend(keys.into_iter().map(|key| (kind, key)));
    }
    let sent = if full {
        let mut sent = Vec::new();
        for page in &held.marks {
            let marks: Vec<String> = crate::json::from_str(page)
                .map_err(|e| IdbError::Decode(format!("replacement marks: {e}")))?;
            for mark in marks {
                let key = decode_mark(&mark)
                    .ok_or_else(|| IdbError::Decode(format!("replacement mark {mark}")))?;
                sent.push(key);
            }
        }
        sort_dedup(&mut sent);
        Some(sent)
    } else {
        None
    };
    let swept = plan_sweep(&rows, sent.as_deref(), &held.snapshots);
    let writes = delete_writes(&swept.rows, &swept.snapshots);
    if !writes.is_empty() {
        tx.issue(&encode_writes(&writes)?, usize::MAX)?;
    }
    Ok(swept)
}
