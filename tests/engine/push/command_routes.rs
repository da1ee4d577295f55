//! PROTOCOL §9.6–§9.7 for deferred authoring commands: only the three routes of §5 with a
//! `dsh_[A-Za-z0-9]+` id are ever queued or sent (the bearer token must never reach another
//! route, however the path is encoded), and a command stays queued, in order, on every
//! answer that is not about the command itself (401, 403, 429, 5xx, network, a proxy's page).

use crate::support::push::*;
use serde_json::json;
use sync_core::engine::{DeferredCommand, Method, OutboxStore, PushError};

const DASHBOARDS: &str = "/api/v1/analytics/dashboards";

fn harness() -> PushHarness {
    PushHarness::with_server(1)
}

#[test]
fn only_the_three_authoring_routes_are_queued() {
    let h = harness();
    let ok = [
        ("POST", DASHBOARDS.to_string()),
        ("PUT", format!("{DASHBOARDS}/dsh_1")),
        ("put", format!("{DASHBOARDS}/dsh_AbC9")),
        ("POST", format!("{DASHBOARDS}/dsh_1/widgets")),
    ];
    for (m, p) in ok {
        h.command(m, &p, json!({}), None).unwrap();
    }
    let bad = [
        (
            "PUT",
            format!("{DASHBOARDS}/%2e%2e/%2e%2e/%2e%2e/internal/sync/push"),
        ),
        ("PUT", format!("{DASHBOARDS}/dsh_1%2F..%2F..%2Finternal")),
        ("PUT", format!("{DASHBOARDS}/dsh_1/..")),
        ("PUT", format!("{DASHBOARDS}/%64sh_1")),
        ("PUT", format!("{DASHBOARDS}/dsh_1?next=/internal")),
        ("PUT", format!("{DASHBOARDS}/dsh_1/")),
        ("PUT", format!("{DASHBOARDS}/dsh_")),
        ("PUT", format!("{DASHBOARDS}/dsh_a-b")),
        ("PUT", format!("{DASHBOARDS}/wid_1")),
        ("PUT", DASHBOARDS.to_string()),
        ("POST", format!("{DASHBOARDS}/dsh_1")),
        ("PUT", format!("{DASHBOARDS}/dsh_1/widgets")),
        ("POST", format!("{DASHBOARDS}/dsh_1/widgets/wid_1")),
        ("POST", format!("{DASHBOARDS}//dsh_1/widgets")),
        ("POST", format!("//evil.example{DASHBOARDS}")),
        ("POST", format!("http://evil.example{DASHBOARDS}")),
        ("POST", format!("{DASHBOARDS}\\..\\x")),
    ];
    for (m, p) in bad {
        let e = h.command(m, &p, json!({}), None).unwrap_err();
        assert_eq!(e.code(), "bad_command", "{m} {p}");
    }
    assert_eq!(block_on(h.store.commands()).unwrap().len(), 4);
}

#[test]
fn a_stored_command_outside_the_routes_is_never_sent() {
    let mut h = harness();
    // Queued by an older version of the client that accepted it.
    block_on(h.store.enqueue_command(&DeferredCommand {
        seq: 0,
        command_id: "cmd_old".into(),
        method: Method::Put,
        path: format!("{DASHBOARDS}/%2e%2e/%2e%2e/%2e%2e/internal/sync/push"),
        body: Some(json!({})),
        if_match: None,
        created_at_ms: 0,
    }))
    .unwrap();
    h.command(
        "POST",
        DASHBOARDS,
        json!({"name_i18n": {"default": "D"}}),
        None,
    )
    .unwrap();
    let report = h.push().unwrap();
    assert_eq!((report.dead_letters, report.commands_done), (1, 1));
    let sent: Vec<String> = h
        .transport
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .filter(|p| p.contains("internal/sync/push") || p.contains("%2e"))
        .collect();
    assert!(sent.is_empty(), "{sent:?}");
    let dead = h.dead_letters();
    assert_eq!(
        (dead[0].status, dead[0].reason.as_str()),
        (0, "bad_command")
    );
}

fn queued_paths(h: &PushHarness) -> Vec<String> {
    block_on(h.store.commands())
        .unwrap()
        .into_iter()
        .map(|c| c.path)
        .collect()
}

#[test]
fn answers_not_about_the_command_keep_it_queued_in_order() {
    let cases: [(u16, &str, &str); 5] = [
        (403, r#"{"error":"forbidden"}"#, "forbidden"),
        (405, "<html>Method Not Allowed</html>", "push_rejected"),
        (
            413,
            "<html>Request Entity Too Large</html>",
            "push_rejected",
        ),
        (415, "", "push_rejected"),
        (401, r#"{"error":"unauthorized"}"#, "unauthorized"),
    ];
    for (status, body, code) in cases {
        let mut h = harness();
        h.command(
            "PUT",
            &format!("{DASHBOARDS}/dsh_1"),
            json!({"a": 1}),
            Some("1"),
        )
        .unwrap();
        h.command("POST", DASHBOARDS, json!({"b": 2}), None)
            .unwrap();
        let before = queued_paths(&h);
        h.transport.respond(status, body);
        if status == 401 {
            h.transport.respond(status, body);
        }
        let e = h.push().unwrap_err();
        assert_eq!(e.code(), code, "{status}");
        if let PushError::Rejected { status: s, .. } = &e {
            assert_eq!(*s, status);
        }
        assert!(h.dead_letters().is_empty(), "{status}");
        assert_eq!(queued_paths(&h), before, "{status}");
        if status == 403 {
            assert!(h.store.contents().meta.access_revoked);
            continue;
        }
        // The next call replays both, in order, to the server itself (whose own answers
        // about these bodies settle them).
        let report = h.push().unwrap();
        assert_eq!(report.commands_done + report.dead_letters, 2, "{status}");
        assert!(h.dead_letters().iter().all(|d| d.status != status));
        assert!(queued_paths(&h).is_empty());
    }
}

#[test]
fn answers_about_the_command_end_it() {
    for (status, reason) in [
        (400, "invalid_body"),
        (404, "not_found"),
        (409, "duplicate"),
        (422, "invalid_widget"),
    ] {
        let mut h = harness();
        h.command("PUT", &format!("{DASHBOARDS}/dsh_1"), json!({}), Some("1"))
            .unwrap();
        h.transport
            .respond(status, json!({ "error": reason }).to_string());
        let report = h.push().unwrap();
        assert_eq!(report.dead_letters, 1, "{status}");
        assert_eq!(h.dead_letters()[0].status, status);
        assert!(queued_paths(&h).is_empty());
    }
}
