//! Turning waiting ops into a push request that is fixed before it is sent: the body and
//! its `Idempotency-Key` are computed once and stored with the batch, so every retry, even
//! one after the page died, sends exactly the same bytes (PROTOCOL §4, seed 003).

use crate::engine::net::transport::{HttpRequest, Method};
use crate::engine::store::outbox::{OutboxOp, PushBatch};
use crate::protocol::push::{PushOp, PushRequest};
use serde_json::{Map, Value};

/// The push endpoint.
pub const PUSH_PATH: &str = "/internal/sync/push";

/// The wire op of a queued rename: the only patch a device sends is `{"name_i18n": …}`.
pub fn push_op(op: &OutboxOp) -> PushOp {
    let mut patch = Map::new();
    patch.insert("name_i18n".into(), Value::Object(op.name_i18n.clone()));
    PushOp {
        op_id: op.op_id.clone(),
        kind: op.kind,
        id: op.entity_id.clone(),
        expected_version: op.expected_version,
        patch,
    }
}

/// The batch carrying `ops` in the given (queue) order.
pub fn build_batch(ops: &[OutboxOp], now_ms: u64) -> Result<PushBatch, serde_json::Error> {
    let request = PushRequest {
        ops: ops.iter().map(push_op).collect(),
    };
    Ok(PushBatch {
        key: request.idempotency_key(),
        op_seqs: ops.iter().map(|o| o.seq).collect(),
        body: serde_json::to_string(&request)?,
        created_at_ms: now_ms,
    })
}

/// The request of a stored batch: its stored body and key, nothing recomputed.
pub fn batch_request(batch: &PushBatch) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        path_and_query: PUSH_PATH.to_string(),
        headers: vec![("Idempotency-Key".to_string(), batch.key.clone())],
        body: Some(batch.body.clone()),
    }
}

/// The ops a stored batch carries, each with its queue `seq`, read back from the stored
/// body (what the server actually received). `None` when the stored body does not parse or
/// does not match `op_seqs`: such a batch can only be released, not settled.
pub fn sent_ops(batch: &PushBatch) -> Option<Vec<(u64, PushOp)>> {
    let request: PushRequest = crate::json::from_str(&batch.body).ok()?;
    if request.ops.len() != batch.op_seqs.len() || request.idempotency_key() != batch.key {
        return None;
    }
    Some(batch.op_seqs.iter().copied().zip(request.ops).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::push::idempotency_key;
    use crate::protocol::Kind;
    use serde_json::json;

    fn op(seq: u64, id: &str) -> OutboxOp {
        OutboxOp {
            seq,
            op_id: format!("op_{seq}"),
            kind: Kind::Query,
            entity_id: id.into(),
            expected_version: 1,
            name_i18n: json!({"default": format!("N{seq}")})
                .as_object()
                .cloned()
                .unwrap(),
            created_at_ms: 0,
            updated_at_ms: 0,
            in_flight: false,
            sent: false,
        }
    }

    #[test]
    fn body_key_and_round_trip() {
        let batch = build_batch(&[op(3, "qry_a"), op(7, "qry_b")], 5).unwrap();
        assert_eq!(batch.key, idempotency_key(["op_3", "op_7"]));
        assert_eq!(batch.op_seqs, vec![3, 7]);
        assert_eq!(
            batch.body,
            r#"{"ops":[{"opId":"op_3","kind":"Query","id":"qry_a","expectedVersion":1,"patch":{"name_i18n":{"default":"N3"}}},{"opId":"op_7","kind":"Query","id":"qry_b","expectedVersion":1,"patch":{"name_i18n":{"default":"N7"}}}]}"#
        );
        let sent = sent_ops(&batch).unwrap();
        assert_eq!(sent[1].0, 7);
        assert_eq!(sent[1].1.id, "qry_b");
        let request = batch_request(&batch);
        assert_eq!(request.body.as_deref(), Some(batch.body.as_str()));
        assert_eq!(request.headers[0].1, batch.key);

        let mut corrupt = batch.clone();
        corrupt.op_seqs.pop();
        assert!(sent_ops(&corrupt).is_none());
        corrupt.body = "{".into();
        assert!(sent_ops(&corrupt).is_none());
    }
}
