//! What a widget snapshot contains, computed deterministically from (widget, params, data
//! bucket). The demo data and the snapshot generator both use it, so identical results are
//! byte-identical rows and devices can dedupe them (PROTOCOL §6).
//!
//! Data buckets model the curated tables' refresh: hot widgets see new data every 15
//! minutes, everything else hourly. A hot widget snapshotted every 5 minutes therefore
//! repeats the same rows three times, as a real cache-backed snapshotter would.

use crate::seed::catalog;
use crate::seed::rng::{hash64, Rng};
use crate::timefmt::{format_ms, DAY_MS, MINUTE_MS};
use crate::users::hex;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use sync_core::protocol::Row;

/// Heavy widgets scan more than this at p95 (seed 000 §1.1).
pub const HEAVY_BYTES: i64 = 500 * 1024 * 1024;

/// What the generator needs to know about a widget.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetInfo {
    pub id: String,
    pub widget_type: String,
    pub metric_key: String,
    pub params_hash: String,
    pub target_minutes: i64,
}

impl WidgetInfo {
    pub fn from_row(row: &Row) -> Option<WidgetInfo> {
        let s = |f: &str| row.get(f).and_then(Value::as_str).map(str::to_string);
        Some(WidgetInfo {
            id: s("id")?,
            widget_type: s("type")?,
            metric_key: s("metricKey")?,
            params_hash: s("paramsHash").unwrap_or_default(),
            target_minutes: row
                .get("freshness")
                .and_then(|f| f.get("targetMinutes"))
                .and_then(Value::as_i64)
                .unwrap_or(15),
        })
    }

    /// Hot widgets have a freshness target of 5 minutes or less.
    pub fn is_hot(&self) -> bool {
        self.target_minutes <= 5
    }

    /// Snapshot cadence: heavy 60 min, hot 5, cold 15 (seed 000 §1.1).
    pub fn cadence_ms(&self, heavy: bool) -> i64 {
        MINUTE_MS
            * if heavy {
                60
            } else if self.is_hot() {
                5
            } else {
                15
            }
    }

    fn data_bucket_ms(&self) -> i64 {
        MINUTE_MS * if self.is_hot() { 15 } else { 60 }
    }

    /// Bytes the warehouse scans for this widget's query; heatmaps and funnels read the big
    /// fact tables unaggregated and are the heavy ones.
    pub fn estimated_bytes(&self, bucket: i64) -> i64 {
        let (lo, hi) = match self.widget_type.as_str() {
            "heatmap" => (700.0, 2400.0),
            "funnel" => (560.0, 1200.0),
            "timeseries" => (40.0, 300.0),
            "breakdown" => (20.0, 200.0),
            _ => (5.0, 60.0),
        };
        let mut rng = Rng::new(&["bytes", &self.id, &bucket.to_string()]);
        (rng.range(lo, hi) * 1024.0 * 1024.0) as i64
    }
}

/// JSON with object keys sorted and no whitespace, whatever serde_json's map order is.
pub fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            let body: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::from(k.as_str()), canonical_json(&o[k])))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical_json).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// `sha256:<hex>` of the canonical params.
pub fn params_hash(params: &Value) -> String {
    format!(
        "sha256:{}",
        hex(&Sha256::digest(canonical_json(params).as_bytes()))
    )
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A value of the metric for (widget, bucket), stable within the metric's range.
fn metric_value(info: &WidgetInfo, salt: &str, bucket: i64) -> f64 {
    let (lo, hi) = catalog::metric(&info.metric_key).map_or((0.0, 100.0), |m| (m.low, m.high));
    let mut base = Rng::new(&["base", &info.id, salt]);
    let center = base.range(lo + (hi - lo) * 0.25, hi - (hi - lo) * 0.25);
    let mut noise = Rng::new(&["noise", &info.id, salt, &bucket.to_string()]);
    round2((center * (1.0 + noise.range(-0.06, 0.06))).clamp(lo, hi))
}

fn unit_of(info: &WidgetInfo) -> &'static str {
    catalog::metric(&info.metric_key).map_or("count", |m| m.unit)
}

/// Split `total` into shares proportional to seeded weights, rounded to 2 decimals.
fn shares(seed: &[&str], labels: &[&str], total: f64) -> Vec<Value> {
    let mut rng = Rng::new(seed);
    let weights: Vec<f64> = labels.iter().map(|_| rng.range(0.5, 3.0)).collect();
    let sum: f64 = weights.iter().sum();
    labels
        .iter()
        .zip(weights)
        .map(|(label, w)| json!({"label": label, "value": round2(total * w / sum)}))
        .collect()
}

/// The `rows` of a snapshot for one data bucket.
pub fn rows_for(info: &WidgetInfo, bucket: i64, bucket_ms: i64) -> Vec<Value> {
    let b = bucket.to_string();
    match info.widget_type.as_str() {
        "kpi" => {
            let value = metric_value(info, "kpi", bucket);
            let delta = round2(value - metric_value(info, "kpi", bucket - 1));
            vec![json!({"value": value, "delta": delta, "unit": unit_of(info)})]
        }
        "timeseries" => {
            let today = (bucket * bucket_ms).div_euclid(DAY_MS);
            (0..30)
                .map(|i| {
                    let day = today - 29 + i;
                    // Past days are settled; only today's point moves with the bucket.
                    let salt = if i == 29 { bucket } else { day };
                    json!({"t": format_ms(day * DAY_MS), "value": metric_value(info, "ts", salt)})
                })
                .collect()
        }
        "breakdown" => {
            if info.metric_key == "channel_mix" {
                let labels = [
                    "Direct",
                    "Booking.com",
                    "Expedia",
                    "Google Hotel Ads",
                    "Corporate",
                    "Walk-in",
                ];
                shares(&["mix", &info.id, &b], &labels, 100.0)
            } else {
                ["Standard", "Deluxe", "Suite", "Family"]
                    .iter()
                    .map(|l| json!({"label": l, "value": metric_value(info, l, bucket)}))
                    .collect()
            }
        }
        "funnel" => {
            let mut rng = Rng::new(&["funnel", &info.id, &b]);
            let mut count = rng.range(40_000.0, 120_000.0).round();
            let stages = [
                "Meta impressions",
                "Clicks",
                "Rate checks",
                "Checkout started",
                "Bookings",
            ];
            let ratios = [1.0, 0.09, 0.55, 0.35, 0.6];
            stages
                .iter()
                .zip(ratios)
                .map(|(stage, r)| {
                    count = (count * r * rng.range(0.9, 1.1)).round();
                    json!({"stage": stage, "value": count})
                })
                .collect()
        }
        _ => {
            let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let leads = ["0-1d", "2-7d", "8-14d", "15-30d", "31-60d", "61d+"];
            days.iter()
                .flat_map(|x| leads.iter().map(move |y| (x, y)))
                .map(|(x, y)| json!({"x": x, "y": y, "value": metric_value(info, &format!("{x}{y}"), bucket)}))
                .collect()
        }
    }
}

/// A complete snapshot row generated at `generated_ms`.
pub fn snapshot_row(info: &WidgetInfo, generated_ms: i64) -> Row {
    let bucket_ms = info.data_bucket_ms();
    let bucket = generated_ms.div_euclid(bucket_ms);
    let b = bucket.to_string();
    let mut rng = Rng::new(&["provenance", &info.id, &b]);
    let computed_ms = bucket * bucket_ms - (rng.range(30.0, 240.0) as i64) * 1000;
    let bytes = info.estimated_bytes(bucket);
    let job = format!("bq-job-{:016x}", hash64(&["job", &info.id, &b]));
    let provenance = json!({
        "computedAt": format_ms(computed_ms),
        "bytesScanned": bytes,
        "slotMs": bytes / (1024 * 1024) * 7 + 300,
        "warehouseJobId": job,
        "computedBy": "widget-snapshotter",
    });
    let mut row = Map::new();
    row.insert("widgetId".into(), info.id.clone().into());
    row.insert("paramsHash".into(), info.params_hash.clone().into());
    row.insert(
        "rows".into(),
        Value::Array(rows_for(info, bucket, bucket_ms)),
    );
    row.insert("provenance".into(), provenance);
    row.insert("generatedAt".into(), format_ms(generated_ms).into());
    row.insert(
        "freshnessLagSeconds".into(),
        ((generated_ms - computed_ms) / 1000).max(0).into(),
    );
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(t: &str, target: i64) -> WidgetInfo {
        WidgetInfo {
            id: "wid_1".into(),
            widget_type: t.into(),
            metric_key: "occupancy".into(),
            params_hash: "sha256:x".into(),
            target_minutes: target,
        }
    }

    #[test]
    fn same_bucket_same_rows_and_shapes() {
        let hot = info("kpi", 5);
        let t = 1_776_852_000_000;
        let a = snapshot_row(&hot, t);
        let b = snapshot_row(&hot, t + 5 * MINUTE_MS);
        assert_eq!(canonical_json(&a["rows"]), canonical_json(&b["rows"]));
        assert_ne!(a["generatedAt"], b["generatedAt"]);
        for (t, n) in [("timeseries", 30), ("heatmap", 42), ("funnel", 5)] {
            assert_eq!(
                snapshot_row(&info(t, 15), 0)["rows"]
                    .as_array()
                    .map(Vec::len),
                Some(n)
            );
        }
        assert!(info("heatmap", 60).estimated_bytes(1) > HEAVY_BYTES);
        assert!(info("kpi", 5).estimated_bytes(1) < HEAVY_BYTES);
    }

    #[test]
    fn canonical_sorts_keys() {
        assert_eq!(
            canonical_json(&json!({"b":1,"a":{"d":[1,{"z":0,"y":"s"}],"c":null}})),
            r#"{"a":{"c":null,"d":[1,{"y":"s","z":0}]},"b":1}"#
        );
    }
}
