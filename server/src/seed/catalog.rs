//! The hotel-analytics vocabulary the demo data is made of: properties, metrics, curated
//! tables (projections), data-quality checks, dashboards and saved queries.

/// A metric of the registry and the plausible range of its value.
pub struct Metric {
    pub key: &'static str,
    pub name: &'static str,
    pub name_fa: &'static str,
    pub unit: &'static str,
    pub format: &'static str,
    pub low: f64,
    pub high: f64,
    /// The curated table it is computed from.
    pub table: &'static str,
}

pub const METRICS: [Metric; 11] = [
    Metric {
        key: "occupancy",
        name: "Occupancy",
        name_fa: "ضریب اشغال",
        unit: "percent",
        format: "0.0%",
        low: 55.0,
        high: 92.0,
        table: "fact_reservation",
    },
    Metric {
        key: "adr",
        name: "Average daily rate (ADR)",
        name_fa: "میانگین نرخ روزانه",
        unit: "USD",
        format: "$0,0.00",
        low: 70.0,
        high: 180.0,
        table: "fact_reservation",
    },
    Metric {
        key: "revpar",
        name: "RevPAR",
        name_fa: "درآمد هر اتاق موجود",
        unit: "USD",
        format: "$0,0.00",
        low: 40.0,
        high: 150.0,
        table: "fact_payment",
    },
    Metric {
        key: "alos",
        name: "Average length of stay",
        name_fa: "میانگین مدت اقامت",
        unit: "nights",
        format: "0.0",
        low: 1.4,
        high: 3.8,
        table: "fact_reservation",
    },
    Metric {
        key: "cancellation_rate",
        name: "Cancellation rate",
        name_fa: "نرخ لغو",
        unit: "percent",
        format: "0.0%",
        low: 4.0,
        high: 18.0,
        table: "fact_reservation",
    },
    Metric {
        key: "no_show_rate",
        name: "No-show rate",
        name_fa: "نرخ عدم حضور",
        unit: "percent",
        format: "0.0%",
        low: 0.5,
        high: 6.0,
        table: "fact_reservation",
    },
    Metric {
        key: "channel_mix",
        name: "Channel mix",
        name_fa: "ترکیب کانال‌ها",
        unit: "percent",
        format: "0.0%",
        low: 0.0,
        high: 100.0,
        table: "fact_channel_booking",
    },
    Metric {
        key: "conversion_meta_to_book",
        name: "Conversion meta → book",
        name_fa: "تبدیل متا به رزرو",
        unit: "percent",
        format: "0.00%",
        low: 1.5,
        high: 6.0,
        table: "fact_meta_funnel",
    },
    Metric {
        key: "booking_pace",
        name: "Booking pace (on the books)",
        name_fa: "سرعت رزرو",
        unit: "room_nights",
        format: "0,0",
        low: 200.0,
        high: 900.0,
        table: "fact_reservation",
    },
    Metric {
        key: "room_turnaround",
        name: "Room turnaround time",
        name_fa: "زمان آماده‌سازی اتاق",
        unit: "minutes",
        format: "0",
        low: 25.0,
        high: 60.0,
        table: "fact_housekeeping_task",
    },
    Metric {
        key: "ai_suggestion_acceptance_rate",
        name: "AI suggestion acceptance",
        name_fa: "پذیرش پیشنهادهای هوش مصنوعی",
        unit: "percent",
        format: "0.0%",
        low: 20.0,
        high: 70.0,
        table: "fact_demand_forecast",
    },
];

pub fn metric(key: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.key == key)
}

/// Metrics each widget type is built on (seed 001's widget catalog).
pub fn metrics_for_type(widget_type: &str) -> &'static [&'static str] {
    match widget_type {
        "kpi" => &[
            "occupancy",
            "adr",
            "revpar",
            "alos",
            "cancellation_rate",
            "no_show_rate",
            "ai_suggestion_acceptance_rate",
            "room_turnaround",
        ],
        "timeseries" => &["occupancy", "adr", "revpar", "booking_pace"],
        "breakdown" => &["channel_mix", "adr", "cancellation_rate"],
        "funnel" => &["conversion_meta_to_book"],
        _ => &["occupancy", "booking_pace"],
    }
}

/// Widget types in the order a dashboard lays them out: mostly KPI tiles.
pub const LAYOUT_TYPES: [&str; 8] = [
    "kpi",
    "kpi",
    "timeseries",
    "breakdown",
    "kpi",
    "timeseries",
    "funnel",
    "heatmap",
];

/// Curated tables and their refresh lag in minutes (hot ≤ 5, cold ≤ 15, dims hourly+).
pub const PROJECTIONS: [(&str, i64); 10] = [
    ("fact_reservation", 3),
    ("fact_payment", 4),
    ("fact_housekeeping_task", 6),
    ("fact_channel_booking", 8),
    ("fact_meta_funnel", 11),
    ("fact_lock_action", 14),
    ("fact_demand_forecast", 95),
    ("dim_property", 60),
    ("dim_room_type", 60),
    ("dim_calendar", 1440),
];

pub const DQ_CHECKS: [&str; 8] = [
    "fact_reservation.row_count_drift_24h",
    "fact_payment.null_rate.amount_minor",
    "fact_housekeeping_task.freshness",
    "fact_channel_booking.distinct_count.channel",
    "fact_lock_action.schema_drift",
    "fact_reservation.freshness",
    "dim_room_type.distinct_count.room_type_id",
    "fact_meta_funnel.row_count_drift_24h",
];

/// Hotel groups: (group name, property ids and names).
pub const GROUPS: [(&str, [(&str, &str); 4]); 3] = [
    (
        "Melmastoon Hotels & Residences",
        [
            ("prp_kbl", "Melmastoon Kabul Downtown"),
            ("prp_hrt", "Melmastoon Herat Citadel"),
            ("prp_mzr", "Melmastoon Mazar Garden"),
            ("prp_bmy", "Melmastoon Bamyan Valley Lodge"),
        ],
    ),
    (
        "Silk Road Inns",
        [
            ("prp_sam", "Silk Road Inn Samarkand"),
            ("prp_bkh", "Silk Road Inn Bukhara"),
            ("prp_khv", "Silk Road Inn Khiva"),
            ("prp_tas", "Silk Road Inn Tashkent Airport"),
        ],
    ),
    (
        "Pamir Mountain Lodges",
        [
            ("prp_khr", "Pamir Lodge Khorog"),
            ("prp_mrg", "Pamir Lodge Murghab"),
            ("prp_ish", "Pamir Lodge Ishkashim"),
            ("prp_lng", "Pamir Lodge Langar"),
        ],
    ),
];

/// Roles of users after the first two (manager, front desk).
pub const ROLES: [&str; 5] = [
    "revenue_manager",
    "housekeeping_lead",
    "front_desk",
    "finance",
    "manager",
];

pub const USER_NAMES: [&str; 8] = [
    "Alice Rahimi",
    "Bob Karimi",
    "Zarghuna Ahmadi",
    "Farid Noori",
    "Mina Sultani",
    "Omid Haidari",
    "Laila Wardak",
    "Samir Popal",
];

/// Saved queries: name and SQL template (bound with named parameters).
pub const QUERIES: [(&str, &str); 6] = [
    ("Weekly bookings by channel", "SELECT DATE_TRUNC(booked_at, WEEK) AS week, channel, COUNT(*) AS bookings FROM fact_reservation WHERE tenant_id = @tenant AND booked_at BETWEEN @from AND @to GROUP BY 1, 2 ORDER BY 1"),
    ("ADR by room type", "SELECT room_type_id, SAFE_DIVIDE(SUM(room_revenue_minor), SUM(room_nights)) / 100 AS adr FROM fact_reservation WHERE tenant_id = @tenant AND property_id = @property AND stay_date BETWEEN @from AND @to GROUP BY 1"),
    ("Cancellations, last 30 days", "SELECT stay_date, COUNTIF(status = 'cancelled') / COUNT(*) AS cancellation_rate FROM fact_reservation WHERE tenant_id = @tenant AND stay_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 30 DAY) GROUP BY 1"),
    ("No-shows by property", "SELECT property_id, COUNTIF(status = 'no_show') AS no_shows FROM fact_reservation WHERE tenant_id = @tenant AND stay_date BETWEEN @from AND @to GROUP BY 1"),
    ("Housekeeping turnaround", "SELECT property_id, APPROX_QUANTILES(TIMESTAMP_DIFF(done_at, started_at, MINUTE), 100)[OFFSET(50)] AS p50_minutes FROM fact_housekeeping_task WHERE tenant_id = @tenant AND done_at >= @from GROUP BY 1"),
    ("Payments settled per day", "SELECT DATE(settled_at) AS day, SUM(amount_minor) / 100 AS settled FROM fact_payment WHERE tenant_id = @tenant AND settled_at BETWEEN @from AND @to GROUP BY 1"),
];
