//! Builds a tenant's demo data in memory: users, then every row in log order.

use super::catalog::{self, GROUPS, LAYOUT_TYPES, PROJECTIONS, QUERIES, ROLES, USER_NAMES};
use super::rng::{hash64, stable_id, Rng};
use super::spec::TenantSpec;
use crate::snapshots::{params_hash, snapshot_row, WidgetInfo, HEAVY_BYTES};
use crate::timefmt::{format_ms, DAY_MS, MINUTE_MS};
use serde_json::{json, Value};
use sync_core::protocol::{Kind, Row};

/// A user to create, with the token the summary reports.
#[derive(Debug, Clone)]
pub struct SeedUser {
    pub id: String,
    pub token: String,
    pub role: String,
    pub display_name: String,
    pub properties: Option<Vec<String>>,
}

/// Everything of one tenant, rows in the order they enter the log.
#[derive(Debug, Clone)]
pub struct TenantData {
    pub name: String,
    pub users: Vec<SeedUser>,
    pub rows: Vec<(Kind, Row)>,
}

fn obj(v: Value) -> Row {
    match v {
        Value::Object(o) => o,
        _ => Row::new(),
    }
}

fn build_users(spec: &TenantSpec, props: &[&str], seed: &str) -> Vec<SeedUser> {
    let t = spec.tenant_id.as_str();
    (0..spec.users)
        .map(|i| {
            let mut rng = Rng::new(&["user", t, seed, &i.to_string()]);
            let (id, role, properties) = match i {
                0 => ("usr_alice".to_string(), "manager", None),
                1 => (
                    "usr_bob".to_string(),
                    "front_desk",
                    Some(vec![props[0].to_string()]),
                ),
                _ => {
                    let role = ROLES[(i - 2) % ROLES.len()];
                    let properties = match role {
                        "manager" | "revenue_manager" | "finance" => None,
                        _ => Some(vec![props[rng.below(props.len())].to_string()]),
                    };
                    (format!("usr_u{}", i + 1), role, properties)
                }
            };
            let short = id.trim_start_matches("usr_");
            let token = if t == "tnt_demo" {
                format!("tok_{short}")
            } else {
                format!("tok_{:016x}", hash64(&["token", t, &id, seed]))
            };
            SeedUser {
                display_name: USER_NAMES
                    .get(i)
                    .map_or_else(|| format!("User {}", i + 1), |n| n.to_string()),
                id,
                token,
                role: role.to_string(),
                properties,
            }
        })
        .collect()
}

/// One dashboard template: scope, name, and who it is tied to (indexes into users/properties).
struct Template {
    scope: &'static str,
    name: &'static str,
    owner: usize,
    property: usize,
    role: &'static str,
    share_user: Option<usize>,
    share_role: Option<&'static str>,
    embed: bool,
}

const fn tpl(scope: &'static str, name: &'static str) -> Template {
    Template {
        scope,
        name,
        owner: 0,
        property: 0,
        role: "",
        share_user: None,
        share_role: None,
        embed: false,
    }
}

fn templates() -> [Template; 10] {
    [
        Template {
            embed: true,
            ..tpl("tenant", "Group performance overview")
        },
        Template {
            owner: 0,
            embed: true,
            ..tpl("own", "My revenue desk")
        },
        Template {
            property: 0,
            ..tpl("property", "daily operations")
        },
        Template {
            role: "manager",
            ..tpl("role", "GM weekly review")
        },
        Template {
            property: 1,
            ..tpl("property", "daily operations")
        },
        Template {
            owner: 1,
            share_role: Some("manager"),
            embed: true,
            ..tpl("own", "Arrivals & no-shows")
        },
        Template {
            role: "front_desk",
            ..tpl("role", "Front desk shift board")
        },
        Template {
            owner: 2,
            share_user: Some(1),
            ..tpl("own", "Channel watchlist")
        },
        Template {
            embed: true,
            ..tpl("tenant", "Distribution & channel mix")
        },
        Template {
            property: 2,
            ..tpl("property", "daily operations")
        },
    ]
}

/// Builds the whole tenant deterministically from `spec` and the anchor time.
pub fn build(spec: &TenantSpec, anchor_ms: i64) -> TenantData {
    let t = spec.tenant_id.as_str();
    let seed = spec.seed.to_string();
    let group = if t == "tnt_demo" {
        0
    } else {
        (hash64(&["group", t, &seed]) % GROUPS.len() as u64) as usize
    };
    let (group_name, properties) = &GROUPS[group];
    let prop_ids: Vec<&str> = properties.iter().map(|p| p.0).collect();
    let users = build_users(spec, &prop_ids, &seed);
    let user = |i: usize| users[i % users.len()].id.clone();
    let mut rows: Vec<(Kind, Row)> = Vec::new();
    let mut rng = Rng::new(&["tenant", t, &seed]);

    for (key, lag) in PROJECTIONS {
        rows.push((Kind::Projection, obj(json!({
            "key": key, "lastSuccessAt": format_ms(anchor_ms - lag * MINUTE_MS), "lagMinutes": lag,
            "refreshCadenceMinutes": if lag <= 15 { 5 } else { 60 },
        }))));
    }
    for m in &catalog::METRICS {
        rows.push((Kind::MetricDefinition, obj(json!({
            "key": m.key, "version": 1 + rng.below(4), "name_i18n": {"default": m.name, "fa": m.name_fa},
            "unit": m.unit, "format": m.format, "status": "published", "sourceTable": m.table,
        }))));
    }
    let mut first_query_of: Vec<Option<String>> = vec![None; users.len()];
    for q in 0..spec.queries {
        let (name, sql) = QUERIES[q % QUERIES.len()];
        let owner = q % users.len();
        let id = stable_id("qry_", &["query", t, &seed, &q.to_string()]);
        first_query_of[owner].get_or_insert_with(|| id.clone());
        let name = if q < QUERIES.len() {
            name.to_string()
        } else {
            format!("{name} #{}", q / QUERIES.len() + 1)
        };
        rows.push((Kind::Query, obj(json!({
            "id": id, "ownerId": user(owner), "name_i18n": {"default": name}, "sql_template": sql,
            "parameters": ["tenant", "from", "to", "property"],
            "updatedAt": format_ms(anchor_ms - (q as i64 + 1) * 3 * DAY_MS),
        }))));
    }

    let mut widgets: Vec<WidgetInfo> = Vec::new();
    let mut widget_rows: Vec<(Kind, Row)> = Vec::new();
    let templates = templates();
    for d in 0..spec.dashboards {
        let tp = &templates[d % templates.len()];
        let id = stable_id("dsh_", &["dashboard", t, &seed, &d.to_string()]);
        let property = prop_ids[tp.property % prop_ids.len()];
        let mut name = match tp.scope {
            "property" => format!(
                "{} — {}",
                properties[tp.property % properties.len()].1,
                tp.name
            ),
            _ => tp.name.to_string(),
        };
        if d >= templates.len() {
            name = format!("{name} · {}", d / templates.len() + 1);
        }
        let mut shared: Vec<Value> = Vec::new();
        if let Some(u) = tp.share_user {
            shared.push(json!({"kind": "user", "id": user(u)}));
        }
        if let Some(r) = tp.share_role {
            shared.push(json!({"kind": "role", "id": r}));
        }
        let embed_token = format!("lse_{:016x}", hash64(&["embed", t, &seed, &d.to_string()]));
        if tp.embed {
            shared
                .push(json!({"kind": "embed", "token": embed_token, "provider": "looker_studio"}));
        }
        let mut tables: Vec<&str> = Vec::new();
        for w in 0..spec.widgets_per_dashboard {
            let wtype = LAYOUT_TYPES[w % LAYOUT_TYPES.len()];
            let mut wrng = Rng::new(&["widget", t, &seed, &id, &w.to_string()]);
            let metric_key = *wrng
                .pick(catalog::metrics_for_type(wtype))
                .unwrap_or(&"occupancy");
            let metric = catalog::metric(metric_key);
            let table = metric.map_or("fact_reservation", |m| m.table);
            if !tables.contains(&table) {
                tables.push(table);
            }
            let window = if wtype == "timeseries" {
                "last_30_days"
            } else {
                *wrng
                    .pick(&["today", "last_7_days", "last_30_days", "month_to_date"])
                    .unwrap_or(&"today")
            };
            let params = json!({"propertyId": if tp.scope == "property" { property } else { "all" },
                "window": window, "granularity": "day", "currency": "USD"});
            let hot_table =
                ["fact_reservation", "fact_payment", "fact_housekeeping_task"].contains(&table);
            let (target, alert) = match wtype {
                "heatmap" | "funnel" => (60, 180),
                "kpi" if hot_table => (5, 20),
                _ => (15, 60),
            };
            let wid = stable_id(
                "wid_",
                &["widget", t, &seed, &d.to_string(), &w.to_string()],
            );
            let mut row = obj(json!({
                "id": wid, "dashboardId": id, "type": wtype,
                "title_i18n": {"default": metric.map_or(metric_key, |m| m.name)},
                "metricKey": metric_key, "params": params, "paramsHash": params_hash(&params),
                "freshness": {"targetMinutes": target, "alertAtMinutes": alert},
                "layout": {"x": (w % 4) * 3, "y": (w / 4) * 4, "w": 3, "h": 4},
            }));
            if tp.scope == "own" && w == 0 {
                if let Some(q) = first_query_of
                    .get(tp.owner % users.len())
                    .cloned()
                    .flatten()
                {
                    row.insert("queryId".into(), q.into());
                }
            }
            widgets.extend(WidgetInfo::from_row(&row));
            widget_rows.push((Kind::Widget, row));
        }
        let mut row = obj(json!({
            "id": id, "name_i18n": {"default": name}, "scope": tp.scope, "sharedWith": shared,
            "tables": tables, "updatedAt": format_ms(anchor_ms - (d as i64 % 9 + 1) * DAY_MS),
        }));
        match tp.scope {
            "own" => {
                row.insert("ownerId".into(), user(tp.owner).into());
            }
            "role" => {
                row.insert("role".into(), tp.role.into());
            }
            "property" => {
                row.insert("propertyId".into(), property.into());
            }
            _ => {}
        }
        if tp.embed {
            row.insert("embedToken".into(), embed_token.into());
        }
        rows.push((Kind::Dashboard, row));
    }
    rows.append(&mut widget_rows);

    let mut snaps: Vec<(i64, usize, Row)> = Vec::new();
    for (i, w) in widgets.iter().enumerate() {
        let cadence = w.cadence_ms(w.estimated_bytes(0) > HEAVY_BYTES);
        let newest = anchor_ms - anchor_ms.rem_euclid(cadence);
        for s in 0..spec.snapshots_per_widget {
            let at = newest - (spec.snapshots_per_widget - 1 - s) as i64 * cadence;
            snaps.push((at, i, snapshot_row(w, at)));
        }
    }
    snaps.sort_by_key(|(at, i, _)| (*at, *i));
    rows.extend(snaps.into_iter().map(|(_, _, r)| (Kind::WidgetSnapshot, r)));

    for a in 0..spec.alerts {
        let mut arng = Rng::new(&["alert", t, &seed, &a.to_string()]);
        let check = catalog::DQ_CHECKS[a % catalog::DQ_CHECKS.len()];
        let age_days = if a % 3 == 2 {
            arng.range(8.0, 20.0)
        } else {
            arng.range(0.05, 6.0)
        };
        let severity = *arng
            .pick(&["info", "warning", "critical"])
            .unwrap_or(&"warning");
        rows.push((Kind::DqAlertOpen, obj(json!({
            "id": stable_id("dqc_", &["alert", t, &seed, &a.to_string()]), "checkKey": check,
            "severity": severity, "observedAt": format_ms(anchor_ms - (age_days * DAY_MS as f64) as i64),
            "status": "open", "tableKey": check.split('.').next().unwrap_or(check),
            "warehouseJobId": format!("bq-job-{:016x}", arng.next_u64()),
            "observedValue": (arng.range(0.0, 1.0) * 1000.0).round() / 1000.0, "threshold": 0.2,
        }))));
    }
    TenantData {
        name: group_name.to_string(),
        users,
        rows,
    }
}
