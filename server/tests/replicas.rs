//! Two server processes on one database behave as one server (stateless replicas): each
//! replica here has its own pool (or SQLite connection), cursor codec, generator lock and
//! in-memory state, as two `sync-server serve` processes would, and requests alternate
//! between them (pages, pushes, the `fresh=true` limit, the generator). On PostgreSQL
//! (`make test-server`'s second run) this is the deployment the reference server supports;
//! on SQLite, two processes on one file.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use sync_server::generator::GENERATOR_LOCK;
use sync_server::ServerOptions;

fn replicas(name: &str) -> (TestServer, TestServer, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("sync-replicas-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = replica_dbs(&dir);
    // Keys come from configuration (here the same test key), not from process memory.
    (
        server_with(a, ServerOptions::for_tests()),
        server_with(b, ServerOptions::for_tests()),
        dir,
    )
}

#[tokio::test]
async fn pages_and_cursors_hand_over_between_replicas() {
    let (a, b, dir) = replicas("paging");
    let t = a.tenant(small_spec("tnt_rep")).await;
    let alice = TestServer::device(&t, 0, "dev_a");

    let (expected, _, _) = a.drain(&alice.other_device("dev_ref"), None, 500).await;
    let mut cursor: Option<String> = None;
    let mut items = Vec::new();
    for page in 0.. {
        let replica = if page % 2 == 0 { &a } else { &b };
        let r = replica.pull(&alice, cursor.as_deref(), 7).await;
        assert_eq!(r.status, StatusCode::OK, "page {page}: {}", r.text());
        let body = r.json();
        items.extend(body["items"].as_array().cloned().unwrap_or_default());
        cursor = Some(body["nextCursor"].as_str().unwrap().to_string());
        if body["drained"] == Value::Bool(true) {
            assert!(page > 2, "several pages, so the cursor changed hands");
            break;
        }
    }
    let keys = |items: &[Value]| items.iter().map(item_key).collect::<BTreeSet<_>>();
    assert_eq!(keys(&items), keys(&expected));
    assert_eq!(items.len(), expected.len(), "every item exactly once");

    // A change written through one replica reaches a device pulling from the other.
    let qs = a.query_ids(&alice).await;
    b.push_ok(&alice, &[op("op_r1", &qs[0], 1, "Renamed on B")])
        .await;
    let r = a.pull(&alice, cursor.as_deref(), 50).await;
    let names: Vec<Value> = r
        .items()
        .iter()
        .filter(|i| i["kind"] == "Query" && i["row"]["id"] == qs[0].as_str())
        .map(|i| i["row"]["name_i18n"]["default"].clone())
        .collect();
    assert_eq!(names, [Value::from("Renamed on B")]);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_push_replayed_to_the_other_replica_gets_the_first_answer() {
    let (a, b, dir) = replicas("replay");
    let t = a.tenant(small_spec("tnt_rep2")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let qs = a.query_ids(&alice).await;
    let ops = vec![
        op("op_x", &qs[0], 1, "Once"),
        op("op_y", &qs[1], 9, "Stale"),
    ];
    let first = a.push(&alice, &ops).await;
    assert_eq!(first.status, StatusCode::OK);
    let again = b.push(&alice, &ops).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        again.body, first.body,
        "byte for byte, from the other replica"
    );
    assert_eq!(b.applied("tnt_rep2", "op_x").await, 1);
    assert_eq!(a.row("tnt_rep2", "Query", &qs[0]).await["version"], 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_same_op_pushed_to_both_replicas_at_once_is_applied_once() {
    let (a, b, dir) = replicas("race");
    let t = a.tenant(small_spec("tnt_rep3")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let qs = a.query_ids(&alice).await;
    for round in 0..5 {
        let raced = op(
            &format!("op_race_{round}"),
            &qs[0],
            round + 1,
            &format!("Race {round}"),
        );
        // The same batch (same Idempotency-Key) to A, and to B inside another batch (another
        // key, as a batch rebuilt around the op would be): the op id decides.
        let same = vec![raced.clone()];
        let rebuilt = vec![
            raced,
            op(&format!("op_other_{round}"), "qry_missing", 1, "x"),
        ];
        let (ra, rb, rc) = tokio::join!(
            a.push(&alice, &same),
            b.push(&alice, &same),
            b.push(&alice, &rebuilt),
        );
        for r in [&ra, &rb, &rc] {
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        }
        assert_eq!(ra.body, rb.body, "one answer per key");
        assert_eq!(
            ra.json()["results"][0],
            rc.json()["results"][0],
            "one first result per op"
        );
        assert_eq!(a.applied("tnt_rep3", &format!("op_race_{round}")).await, 1);
        assert_eq!(
            b.row("tnt_rep3", "Query", &qs[0]).await["version"],
            round + 2,
            "one version per op"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_fresh_limit_holds_across_replicas() {
    let (a, b, dir) = replicas("fresh");
    let t = a.tenant(small_spec("tnt_rep4")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    assert_eq!(
        a.pull_query(&alice, "?fresh=true").await.status,
        StatusCode::OK
    );
    let r = b.pull_query(&alice, "?fresh=true").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert!(r.headers.contains_key("retry-after"));
    // Another device of the same user is not limited, on either replica.
    let other = alice.other_device("dev_b");
    assert_eq!(
        b.pull_query(&other, "?fresh=true").await.status,
        StatusCode::OK
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn one_replica_at_a_time_runs_the_generator_pass() {
    let (a, b, dir) = replicas("generator");
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let holder = {
        let db = a.state.db.clone();
        tokio::spawn(async move {
            db.exclusively(GENERATOR_LOCK, || async move {
                entered_tx.send(()).unwrap();
                release_rx.await.unwrap();
                Ok(())
            })
            .await
            .unwrap()
        })
    };
    entered_rx.await.unwrap();
    let other = b
        .state
        .db
        .exclusively(GENERATOR_LOCK, || async { Ok(()) })
        .await
        .unwrap();
    if postgres_url().is_some() {
        assert_eq!(other, None, "the other replica skips its pass");
    } else {
        // One process owns a SQLite database: there is no other replica to exclude.
        assert_eq!(other, Some(()));
    }
    release_tx.send(()).unwrap();
    assert_eq!(holder.await.unwrap(), Some(()));
    let after = b
        .state
        .db
        .exclusively(GENERATOR_LOCK, || async { Ok(()) })
        .await
        .unwrap();
    assert_eq!(after, Some(()), "released when the pass ends");
    let _ = std::fs::remove_dir_all(dir);
}
