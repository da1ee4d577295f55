//! Epoch bumps when a change moves a row in or out of a user's view.
//!
//! The log can tell a user that a row changed or was deleted only while the user may see
//! it. When an upsert makes a dashboard (or a widget, by moving it) invisible to someone who
//! could see it, that user's local copy could never be removed; when it makes a dashboard
//! visible, its widgets and snapshots sit at log positions the user's cursor has already
//! passed. Both cases bump the user's epochs of the affected kinds, so their next page
//! starts with a reset and refills those kinds.

use crate::epochs;
use crate::error::ApiError;
use crate::log_reads;
use crate::sql::Sql;
use crate::users::{self, UserRecord};
use crate::visibility::dashboard_visible;
use serde_json::Value;
use sync_core::protocol::{Kind, Row};

const DASHBOARD_TREE: [Kind; 3] = [Kind::Dashboard, Kind::Widget, Kind::WidgetSnapshot];
const WIDGET_TREE: [Kind; 2] = [Kind::Widget, Kind::WidgetSnapshot];

/// Bumps what `old` (the live row before, if any) → `new` requires. Call before writing.
pub fn bump_for_change(
    conn: &dyn Sql,
    tenant: &str,
    kind: Kind,
    key: &str,
    old: Option<&Row>,
    new: &Row,
) -> Result<(), ApiError> {
    match kind {
        Kind::Dashboard => {
            let has_widgets =
                !log_reads::live_children(conn, tenant, Kind::Widget, key)?.is_empty();
            bump_moves(
                conn,
                tenant,
                |u| old.is_some_and(|o| dashboard_visible(o, u)),
                |u| dashboard_visible(new, u),
                &DASHBOARD_TREE,
                if has_widgets { &WIDGET_TREE } else { &[] },
            )
        }
        Kind::Widget => {
            let before = old
                .and_then(|o| o.get("dashboardId"))
                .and_then(Value::as_str);
            let after = new.get("dashboardId").and_then(Value::as_str);
            if old.is_some() && before == after {
                return Ok(());
            }
            let before = match before {
                Some(d) => dashboard_body(conn, tenant, d)?,
                None => None,
            };
            let after = match after {
                Some(d) => dashboard_body(conn, tenant, d)?,
                None => None,
            };
            let has_snapshots = log_reads::newest_snapshot_ms(conn, tenant, key)?.is_some();
            bump_moves(
                conn,
                tenant,
                |u| before.as_ref().is_some_and(|d| dashboard_visible(d, u)),
                |u| after.as_ref().is_some_and(|d| dashboard_visible(d, u)),
                &WIDGET_TREE,
                if has_snapshots {
                    &[Kind::WidgetSnapshot]
                } else {
                    &[]
                },
            )
        }
        Kind::Query => {
            let owner = |r: &Row| r.get("ownerId").and_then(Value::as_str).map(str::to_string);
            match old.and_then(owner) {
                Some(previous) if Some(&previous) != owner(new).as_ref() => {
                    epochs::bump(conn, tenant, &previous, Kind::Query).map(|_| ())
                }
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// The last state of a live dashboard.
fn dashboard_body(conn: &dyn Sql, tenant: &str, id: &str) -> Result<Option<Row>, ApiError> {
    match log_reads::current(conn, tenant, Kind::Dashboard, id)? {
        Some(d) if !d.deleted => Ok(Some(serde_json::from_str(&d.body)?)),
        _ => Ok(None),
    }
}

fn bump_moves(
    conn: &dyn Sql,
    tenant: &str,
    saw: impl Fn(&UserRecord) -> bool,
    sees: impl Fn(&UserRecord) -> bool,
    on_lost: &[Kind],
    on_gained: &[Kind],
) -> Result<(), ApiError> {
    for user in users::all(conn, tenant)? {
        let kinds = match (saw(&user), sees(&user)) {
            (true, false) => on_lost,
            (false, true) => on_gained,
            _ => continue,
        };
        epochs::bump_all(conn, tenant, [user.id.as_str()], kinds)?;
    }
    Ok(())
}
