//! The database going away or staying busy for a few seconds: every answer meanwhile is a
//! retryable `503 unavailable` with `Retry-After` (never a 500, never a panic), and the server
//! recovers by itself once the database is back. On PostgreSQL every connection of the
//! server is killed (as a restart or a failover does); on SQLite another process holds the
//! write lock longer than the busy timeout.

mod common;

use axum::http::StatusCode;
use common::*;
use std::time::Duration;
use sync_server::{Db, ServerOptions};

/// An answer during an outage: 200, or a clean 503 (then true).
fn check_outage_answer(r: &Reply) -> bool {
    match r.status {
        StatusCode::OK => false,
        StatusCode::SERVICE_UNAVAILABLE => {
            assert_eq!(r.json()["error"], "unavailable", "{}", r.text());
            assert_eq!(r.headers["retry-after"], "1");
            true
        }
        other => panic!("an outage answered {other}: {}", r.text()),
    }
}

#[tokio::test]
async fn the_database_going_away_answers_503_and_the_server_recovers() {
    match postgres_url() {
        Some(url) => postgres_connections_killed_then_recovered(&url).await,
        None => sqlite_locked_then_released().await,
    }
}

/// PostgreSQL: every connection of the server is terminated.
async fn postgres_connections_killed_then_recovered(url: &str) {
    let s = server();
    let t = s.tenant(small_spec("tnt_out")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let qs = s.query_ids(&alice).await;
    let database = s
        .state
        .db
        .with(|c| c.query_one("SELECT current_database()", &[])?.string(0))
        .unwrap();
    let admin = Db::open_with_pool(url, 1).unwrap();
    let killed = admin
        .with(|c| {
            c.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = ?1 AND pid <> pg_backend_pid()",
                sync_server::args![database],
            )
        })
        .unwrap();
    assert!(!killed.is_empty(), "the server had connections open");

    let mut unavailable = 0;
    let mut recovered = false;
    for attempt in 0..20 {
        let pull = s.pull(&alice, None, 50).await;
        let push = s
            .push(&alice, &[op(&format!("op_o{attempt}"), &qs[0], 1, "x")])
            .await;
        unavailable += usize::from(check_outage_answer(&pull));
        unavailable += usize::from(check_outage_answer(&push));
        if pull.status == StatusCode::OK && push.status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "the server reconnects by itself");
    eprintln!("{unavailable} answers were 503 while connections were dead");

    // A cluster of our own (make test-server's) is stopped for a few seconds, as a restart
    // or a failover does: every answer meanwhile is a 503, then the server recovers.
    let Ok(cluster) = std::env::var("SYNC_TEST_PG_CLUSTER_DIR") else {
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-cluster.sh");
    let run = |cmd: &str| {
        let status = std::process::Command::new(script)
            .args([cmd, &cluster])
            .status()
            .unwrap();
        assert!(status.success(), "pg-cluster.sh {cmd}");
    };
    run("pause");
    for attempt in 0..3 {
        let pull = s.pull(&alice, None, 50).await;
        assert!(
            check_outage_answer(&pull),
            "pull {attempt} while the database is down"
        );
        let push = s
            .push(&alice, &[op(&format!("op_down{attempt}"), &qs[0], 1, "x")])
            .await;
        assert!(
            check_outage_answer(&push),
            "push {attempt} while the database is down"
        );
    }
    run("resume");
    let mut back = false;
    for _ in 0..50 {
        let pull = s.pull(&alice, None, 50).await;
        check_outage_answer(&pull);
        if pull.status == StatusCode::OK {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(back, "the server recovers when the database returns");
}

/// PostgreSQL: a pool with no free connection for longer than its wait (5 s) answers 503,
/// and serves again once a connection is returned.
#[tokio::test]
async fn a_full_pool_answers_503_then_serves_again() {
    let Some(url) = postgres_url() else {
        // SQLite has no pool: one connection, waited for (its busy case is tested above).
        return;
    };
    let s = server_with(
        Db::open_with_pool(&fresh_postgres_database(&url), 1).unwrap(),
        ServerOptions::for_tests(),
    );
    let t = s.tenant(small_spec("tnt_pool")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let db = s.state.db.clone();
    let holder = std::thread::spawn(move || {
        db.with(move |_| {
            held_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok(())
        })
    });
    held_rx.recv().unwrap();
    let started = std::time::Instant::now();
    let r = s.pull(&alice, None, 50).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert!(check_outage_answer(&r));
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "it waited for a connection first"
    );
    release_tx.send(()).unwrap();
    holder.join().unwrap().unwrap();
    assert_eq!(s.pull(&alice, None, 50).await.status, StatusCode::OK);
}

/// SQLite: another connection holds the write lock for longer than the busy timeout (5 s).
async fn sqlite_locked_then_released() {
    let dir = std::env::temp_dir().join(format!("sync-outage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("locked.db").to_string_lossy().into_owned();
    let s = server_with(Db::open(&path).unwrap(), ServerOptions::for_tests());
    let t = s.tenant(small_spec("tnt_out")).await;
    let alice = TestServer::device(&t, 0, "dev_a");
    let qs = s.query_ids(&alice).await;

    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let r = s.push(&alice, &[op("op_locked", &qs[0], 1, "x")]).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert!(check_outage_answer(&r));
    blocker.execute_batch("ROLLBACK").unwrap();
    let r = s.push(&alice, &[op("op_locked", &qs[0], 1, "x")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["results"][0]["ok"], true);
    let _ = std::fs::remove_dir_all(dir);
}
