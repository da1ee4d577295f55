//! Deferred authoring commands (PROTOCOL §5): replayed in order with their method, path,
//! body, `If-Match` and `Idempotency-Key`; 412 → a conflict; network failure keeps them
//! queued; other 4xx → dead letters; keep-local re-sends with the server's version.

use crate::support::push::*;
use serde_json::{json, Value};
use sync_core::engine::{ConflictSource, Fault, Method, Requeue, Resolution, TransportError};
use sync_core::protocol::Kind;

const DASHBOARDS: &str = "/api/v1/analytics/dashboards";

fn harness() -> PushHarness {
    let h = PushHarness::with_server(1);
    h.server().add_dashboard("dsh_1", "Revenue");
    h
}

fn command_requests(h: &PushHarness) -> Vec<sync_core::engine::HttpRequest> {
    h.transport
        .requests()
        .into_iter()
        .filter(|r| r.path_and_query.starts_with(DASHBOARDS))
        .collect()
}

#[test]
fn commands_replay_in_order_with_their_headers() {
    let mut h = harness();
    let create = h
        .command(
            "POST",
            DASHBOARDS,
            json!({"name_i18n": {"default": "New"}}),
            None,
        )
        .unwrap();
    let update = h
        .command(
            "PUT",
            &format!("{DASHBOARDS}/dsh_1"),
            json!({"name_i18n": {"default": "Revenue 2"}}),
            Some("1"),
        )
        .unwrap();
    let widget = h
        .command(
            "POST",
            &format!("{DASHBOARDS}/dsh_1/widgets"),
            json!({"metricKey": "occupancy", "type": "kpi"}),
            None,
        )
        .unwrap();
    h.rename("qry_000", "A").unwrap();
    let report = h.push().unwrap();
    assert_eq!((report.ops_applied, report.commands_done), (1, 3));
    // Ops first, then commands in queue order.
    let paths: Vec<String> = h
        .transport
        .requests()
        .iter()
        .skip(1) // the initial pull
        .map(|r| format!("{} {}", r.method.as_str(), r.path_and_query))
        .collect();
    assert_eq!(
        paths,
        vec![
            "POST /internal/sync/push".to_string(),
            format!("POST {DASHBOARDS}"),
            format!("PUT {DASHBOARDS}/dsh_1"),
            format!("POST {DASHBOARDS}/dsh_1/widgets"),
        ]
    );
    let sent = command_requests(&h);
    assert_eq!(
        header(&sent[0], "Idempotency-Key"),
        Some(create.command_id.as_str())
    );
    assert_eq!(header(&sent[0], "If-Match"), None);
    assert_eq!(
        header(&sent[1], "Idempotency-Key"),
        Some(update.command_id.as_str())
    );
    assert_eq!(header(&sent[1], "If-Match"), Some("\"1\""));
    assert_eq!(
        header(&sent[2], "Idempotency-Key"),
        Some(widget.command_id.as_str())
    );
    let body: Value = serde_json::from_str(sent[1].body.as_deref().unwrap()).unwrap();
    assert_eq!(body, json!({"name_i18n": {"default": "Revenue 2"}}));
    assert!(h.pending().is_empty());
    let dashboard = h.server().dashboard("dsh_1").unwrap();
    assert_eq!(
        (dashboard.version, &dashboard.row["name_i18n"]["default"]),
        (2, &json!("Revenue 2"))
    );
    assert_eq!(h.server().widgets().len(), 1);
    // The effects reach the device through pull.
    h.pull().unwrap();
    let held = h.store.contents();
    assert_eq!(
        held.rows[&(Kind::Dashboard, "dsh_1".to_string())].version,
        2
    );
    assert_eq!(
        held.rows.keys().filter(|(k, _)| *k == Kind::Widget).count(),
        1
    );
}

#[test]
fn a_changed_entity_turns_the_update_into_a_conflict_and_keep_local_resends() {
    let mut h = harness();
    let update = h
        .command(
            "PUT",
            &format!("{DASHBOARDS}/dsh_1"),
            json!({"name_i18n": {"default": "Mine"}}),
            Some("1"),
        )
        .unwrap();
    h.server().edit_dashboard_on_server("dsh_1", "Theirs");
    let report = h.push().unwrap();
    assert_eq!((report.conflicts, report.commands_done), (1, 0));
    let conflicts = h.conflicts();
    let c = &conflicts[0];
    assert_eq!((c.kind, c.entity_id.as_str()), (Kind::Dashboard, "dsh_1"));
    assert_eq!(c.local, json!({"name_i18n": {"default": "Mine"}}));
    assert_eq!(c.server["version"], 2);
    assert_eq!(c.server["name_i18n"]["default"], "Theirs");
    assert_eq!(
        c.source,
        ConflictSource::Command {
            command: update.clone()
        }
    );
    assert!(h.pending().is_empty());

    let resolved = h.resolve(&c.id, Resolution::KeepLocal).unwrap();
    let Some(Requeue::Command(again)) = resolved.requeue else {
        panic!("keep-local re-queues the command");
    };
    assert_eq!(again.if_match.as_deref(), Some("2"));
    assert_ne!(again.command_id, update.command_id, "a new Idempotency-Key");
    assert_eq!(
        (again.method, again.path.as_str()),
        (Method::Put, update.path.as_str())
    );
    let report = h.push().unwrap();
    assert_eq!(report.commands_done, 1);
    let last = command_requests(&h).pop().unwrap();
    assert_eq!(header(&last, "If-Match"), Some("\"2\""));
    let dashboard = h.server().dashboard("dsh_1").unwrap();
    assert_eq!(
        (dashboard.version, &dashboard.row["name_i18n"]["default"]),
        (3, &json!("Mine"))
    );
}

#[test]
fn accept_server_drops_the_command() {
    let mut h = harness();
    h.command(
        "PUT",
        &format!("{DASHBOARDS}/dsh_1"),
        json!({"x": 1}),
        Some("1"),
    )
    .unwrap();
    h.server().edit_dashboard_on_server("dsh_1", "Theirs");
    h.push().unwrap();
    let id = h.conflicts()[0].id.clone();
    assert_eq!(
        h.resolve(&id, Resolution::AcceptServer).unwrap().requeue,
        None
    );
    assert!(h.pending().is_empty());
    assert_eq!(h.push().unwrap().commands_done, 0);
}

#[test]
fn network_failure_keeps_commands_queued_in_order() {
    let mut h = harness();
    h.config.retry.max_attempts = 2;
    let first = h
        .command(
            "POST",
            DASHBOARDS,
            json!({"name_i18n": {"default": "A"}}),
            None,
        )
        .unwrap();
    let second = h
        .command(
            "POST",
            DASHBOARDS,
            json!({"name_i18n": {"default": "B"}}),
            None,
        )
        .unwrap();
    h.transport.fail(TransportError::Network("offline".into()));
    h.transport.respond(503, "{}");
    let e = h.push().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("server_error", true));
    let queued: Vec<String> = h
        .outbox()
        .commands
        .into_values()
        .map(|c| c.command_id)
        .collect();
    assert_eq!(
        queued,
        vec![first.command_id.clone(), second.command_id.clone()]
    );
    // The second was never tried: order is kept.
    assert!(command_requests(&h)
        .iter()
        .all(|r| header(r, "Idempotency-Key") == Some(first.command_id.as_str())));
    assert_eq!(h.push().unwrap().commands_done, 2);
}

#[test]
fn a_refused_command_is_a_dead_letter_and_the_next_one_still_runs() {
    let mut h = harness();
    h.command(
        "POST",
        &format!("{DASHBOARDS}/dsh_1/widgets"),
        json!({"type": "kpi"}),
        None,
    )
    .unwrap();
    h.command(
        "PUT",
        &format!("{DASHBOARDS}/dsh_404"),
        json!({"x": 1}),
        Some("1"),
    )
    .unwrap();
    h.command(
        "POST",
        DASHBOARDS,
        json!({"name_i18n": {"default": "Ok"}}),
        None,
    )
    .unwrap();
    let report = h.push().unwrap();
    assert_eq!((report.dead_letters, report.commands_done), (2, 1));
    let dead: Vec<_> = h
        .dead_letters()
        .into_iter()
        .map(|d| (d.source, d.kind, d.entity_id, d.status, d.reason))
        .collect();
    assert_eq!(
        dead,
        vec![
            (
                "command".into(),
                Kind::Widget,
                String::new(),
                422,
                "invalid_widget".into()
            ),
            (
                "command".into(),
                Kind::Dashboard,
                "dsh_404".into(),
                404,
                "not_found".into()
            ),
        ]
    );
    assert_eq!(h.dead_letters()[0].payload["method"], "POST");
}

#[test]
fn a_412_without_the_servers_version_cannot_be_merged_and_is_a_dead_letter() {
    let mut h = harness();
    h.command(
        "PUT",
        &format!("{DASHBOARDS}/dsh_1"),
        json!({"x": 1}),
        Some("1"),
    )
    .unwrap();
    h.transport
        .respond(412, r#"{"error":"precondition_failed"}"#);
    let report = h.push().unwrap();
    assert_eq!((report.conflicts, report.dead_letters), (0, 1));
    assert_eq!(h.dead_letters()[0].reason, "precondition_failed");
}

#[test]
fn a_lost_command_response_is_replayed_under_the_same_key_and_applied_once() {
    let mut h = harness();
    let c = h
        .command(
            "POST",
            DASHBOARDS,
            json!({"name_i18n": {"default": "Once"}}),
            None,
        )
        .unwrap();
    h.server().inject(Fault::LoseResponse);
    let report = h.push().unwrap();
    assert_eq!((report.commands_done, report.retries), (1, 1));
    assert_eq!(h.server().applications()[&c.command_id], 1);
    let sent = command_requests(&h);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1]);
}
