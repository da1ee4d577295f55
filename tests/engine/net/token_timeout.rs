//! PROTOCOL §9.9: a host token callback that does not settle in time fails the request as a
//! retryable `token_timeout` — on pull and on push — at once (no sleeping through more
//! attempts of a host that is stuck), with nothing written and nothing of the outbox lost.

use crate::support::push::*;
use sync_core::engine::TransportError;

#[test]
fn pull_fails_retryably_with_token_timeout_and_writes_nothing() {
    let mut h = PushHarness::with_server(2);
    let before = h.store.contents();
    let requests_before = h.transport.requests().len();
    h.transport.fail(TransportError::TokenTimeout);
    let e = h.pull().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("token_timeout", true), "{e}");
    assert_eq!(h.transport.requests().len(), requests_before + 1);
    assert!(
        h.clock.sleeps().is_empty(),
        "no retry sleeps behind a stuck host"
    );
    assert_eq!(h.store.contents(), before);
    // The next pull, with a host that answers again, works.
    assert!(h.pull().unwrap().drained);
    // Push keeps working too.
    h.rename("qry_000", "after").unwrap();
    assert_eq!(h.push().unwrap().ops_applied, 1);
}

#[test]
fn push_fails_retryably_with_token_timeout_and_keeps_the_outbox() {
    let mut h = PushHarness::with_server(2);
    h.rename("qry_000", "A").unwrap();
    h.command(
        "POST",
        "/api/v1/analytics/dashboards",
        serde_json::json!({"name_i18n": {"default": "Ops"}}),
        None,
    )
    .unwrap();
    let queued = h.pending();
    h.transport.fail(TransportError::TokenTimeout);
    let e = h.push().unwrap_err();
    assert_eq!((e.code(), e.retryable()), ("token_timeout", true), "{e}");
    assert!(
        h.clock.sleeps().is_empty(),
        "no retry sleeps behind a stuck host"
    );
    // Nothing lost: the rename and the command are still queued (the batch, fixed before it
    // was sent, is re-sent byte-identical next time).
    assert_eq!(h.pending().len(), queued.len());
    assert!(h.dead_letters().is_empty());
    assert!(h.conflicts().is_empty());
    let report = h.push().unwrap();
    assert_eq!((report.ops_applied, report.commands_done), (1, 1));
    assert!(h.pending().is_empty());
    assert!(h.dead_letters().is_empty());
}
