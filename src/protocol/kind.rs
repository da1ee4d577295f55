//! The seven replicated kinds of the contract and what the engine needs to know about each.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A replicated kind (PROTOCOL §2). The serialized name is the wire name.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    Dashboard,
    Widget,
    MetricDefinition,
    WidgetSnapshot,
    Query,
    Projection,
    DqAlertOpen,
}

/// How the server resolves divergence for a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    ServerAuthoritative,
    AppendOnly,
    /// Last-writer-wins with a diff; only `name_i18n` is editable on the device.
    LwwDiff,
}

impl Kind {
    /// Every kind, in the order the reference server's log and local wipes use.
    pub const ALL: [Kind; 7] = [
        Kind::Dashboard,
        Kind::Widget,
        Kind::MetricDefinition,
        Kind::WidgetSnapshot,
        Kind::Query,
        Kind::Projection,
        Kind::DqAlertOpen,
    ];

    /// The wire name, e.g. `"DqAlertOpen"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dashboard => "Dashboard",
            Kind::Widget => "Widget",
            Kind::MetricDefinition => "MetricDefinition",
            Kind::WidgetSnapshot => "WidgetSnapshot",
            Kind::Query => "Query",
            Kind::Projection => "Projection",
            Kind::DqAlertOpen => "DqAlertOpen",
        }
    }

    /// The row field that holds the key of a versioned kind (`id` or `key`).
    /// `WidgetSnapshot` is keyed by (`widgetId`, `generatedAt`) and returns `None`.
    pub fn key_field(self) -> Option<&'static str> {
        match self {
            Kind::MetricDefinition | Kind::Projection => Some("key"),
            Kind::WidgetSnapshot => None,
            _ => Some("id"),
        }
    }

    /// Versioned kinds carry an item `version` that only grows per key.
    pub fn is_versioned(self) -> bool {
        self != Kind::WidgetSnapshot
    }

    pub fn policy(self) -> Policy {
        match self {
            Kind::WidgetSnapshot => Policy::AppendOnly,
            Kind::Query => Policy::LwwDiff,
            _ => Policy::ServerAuthoritative,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returned when a string names no kind of the contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kind `{0}`")]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        }
        assert!("Widgets".parse::<Kind>().is_err());
    }
}
