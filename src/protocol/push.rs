//! Wire types of `POST /internal/sync/push` (PROTOCOL §4) and of deferred authoring
//! commands (§5). Shared by the client's outbox and the reference server.

use super::kind::Kind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Most ops one push request may carry.
pub const MAX_PUSH_OPS: usize = 50;

/// The only patch a device may send: a new `name_i18n` for a saved query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenamePatch {
    pub name_i18n: Map<String, Value>,
}

/// One op of a push request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushOp {
    pub op_id: String,
    pub kind: Kind,
    pub id: String,
    pub expected_version: u64,
    /// Kept as a raw object so a server can refuse fields other than `name_i18n` (422)
    /// instead of failing to parse the whole request.
    pub patch: Map<String, Value>,
}

/// The body of a push request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub ops: Vec<PushOp>,
}

impl PushRequest {
    /// `Idempotency-Key`: hex SHA-256 of the op ids joined by ",".
    pub fn idempotency_key(&self) -> String {
        idempotency_key(self.ops.iter().map(|o| o.op_id.as_str()))
    }
}

/// Hex SHA-256 of `op_ids` joined by "," (PROTOCOL §4).
pub fn idempotency_key<'a>(op_ids: impl IntoIterator<Item = &'a str>) -> String {
    let joined = op_ids.into_iter().collect::<Vec<_>>().join(",");
    let digest = Sha256::digest(joined.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The server's current state of an entity, sent with a 409 or 412.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentState {
    pub version: u64,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// The outcome of one op, in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushResult {
    pub op_id: String,
    pub id: String,
    pub ok: bool,
    /// New version when `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// HTTP-like status of a refused op (409, 422, 404, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The server's state, with a 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<CurrentState>,
}

/// The body of a `200 OK` push response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_is_sha256_of_joined_op_ids() {
        // sha256("op_1,op_2")
        let key = idempotency_key(["op_1", "op_2"]);
        assert_eq!(key.len(), 64);
        assert_eq!(key, idempotency_key(vec!["op_1", "op_2"]));
        assert_ne!(key, idempotency_key(["op_2", "op_1"]));
    }

    #[test]
    fn results_round_trip() {
        let body = json!({"results":[
            {"opId":"op_1","id":"qry_1","ok":true,"version":2},
            {"opId":"op_2","id":"qry_1","ok":false,"status":409,"error":"version_conflict",
             "current":{"version":3,"name_i18n":{"default":"X"}}}]});
        let r: PushResponse = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(r.results[1].current.as_ref().unwrap().version, 3);
        assert_eq!(serde_json::to_value(&r).unwrap(), body);
    }
}
