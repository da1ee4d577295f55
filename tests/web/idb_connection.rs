//! `IdbStore`'s connection against real IndexedDB: DOM exceptions mapped to typed errors,
//! schema upgrades and versions outside the schema, a `versionchange` from another
//! connection, and a closed store.

use super::idb_fixtures::{discard, dump, fresh_identity, open_fresh, seed_plan, within};
use super::support::{idb_factory, request_done};
use sync_core::engine::{Store, StoreError, SyncMeta};
use sync_core::protocol::Kind;
use sync_core::web::idb::schema::SCHEMA_VERSION;
use sync_core::web::{IdbError, IdbStore};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{DomException, IdbDatabase};

#[wasm_bindgen_test]
fn dom_exceptions_map_to_typed_errors() {
    let cases = [
        ("QuotaExceededError", StoreError::QuotaExceeded),
        ("AbortError", StoreError::Aborted(String::new())),
        (
            "TransactionInactiveError",
            StoreError::Aborted(String::new()),
        ),
        ("ConstraintError", StoreError::Aborted(String::new())),
        ("InvalidStateError", StoreError::Unavailable(String::new())),
        ("VersionError", StoreError::Unavailable(String::new())),
        ("UnknownError", StoreError::Unavailable(String::new())),
    ];
    for (name, expected) in cases {
        // The same exception objects the browser puts on an aborted transaction.
        let exception = DomException::new_with_message_and_name("device full", name).unwrap();
        let error = IdbError::from_js(exception.unchecked_ref());
        assert!(error.to_string().contains(name), "{error}");
        let mapped = StoreError::from(error);
        assert_eq!(
            std::mem::discriminant(&mapped),
            std::mem::discriminant(&expected),
            "{name} → {mapped:?}"
        );
    }
    assert_eq!(
        IdbError::from_js(
            DomException::new_with_message_and_name("full", "QuotaExceededError")
                .unwrap()
                .unchecked_ref()
        ),
        IdbError::QuotaExceeded("full".into())
    );
    assert!(matches!(
        StoreError::from(IdbError::Decode("x".into())),
        StoreError::Corrupt(_)
    ));
}

#[wasm_bindgen_test]
async fn upgrading_from_schema_1_keeps_every_row_and_adds_the_indexes() {
    // Each later step has its own upgrade test (2 → 3: push_idb_store.rs).
    let identity = fresh_identity();
    let old = IdbStore::open_at_version(&identity, 1).await.unwrap();
    old.commit_page(&seed_plan(), None, "c1").await.unwrap();
    // Version 1 has no read indexes yet.
    assert!(matches!(
        old.widgets_of("dsh_1").await,
        Err(StoreError::Unavailable(m)) if m.contains("NotFoundError")
    ));
    let rows_v1 = old.rows(Kind::Widget).await.unwrap();
    old.close();
    drop(old);

    let store = IdbStore::open(&identity).await.unwrap();
    let reference = {
        let (id, fresh) = open_fresh().await;
        fresh.commit_page(&seed_plan(), None, "c1").await.unwrap();
        let d = dump(&fresh, &["wid_1", "wid_2"]).await;
        discard(&id, fresh).await;
        d
    };
    assert_eq!(dump(&store, &["wid_1", "wid_2"]).await, reference);
    assert_eq!(store.rows(Kind::Widget).await.unwrap(), rows_v1);
    assert_eq!(store.widgets_of("dsh_1").await.unwrap().len(), 2);
    assert_eq!(store.snapshots_of("wid_1").await.unwrap().len(), 3);
    discard(&identity, store).await;
}

#[wasm_bindgen_test]
async fn open_rejects_versions_outside_the_schema() {
    let identity = fresh_identity();
    for version in [0, SCHEMA_VERSION + 1] {
        assert!(matches!(
            IdbStore::open_at_version(&identity, version).await,
            Err(StoreError::Unavailable(_))
        ));
    }
}

#[wasm_bindgen_test]
async fn versionchange_from_another_connection_closes_ours() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();

    // Another context upgrades the database. It is only unblocked if we close on
    // `versionchange`; a hang would show up as the timeout below.
    let name = identity.database_name();
    let open = idb_factory()
        .unwrap()
        .open_with_u32(&name, SCHEMA_VERSION + 1)
        .unwrap();
    let promise = wasm_bindgen_futures::future_to_promise(async move { request_done(&open).await });
    let newer: IdbDatabase = within(5_000, promise).await.unwrap().unchecked_into();

    for result in [
        store.meta().await.map(|_| ()),
        store.rows(Kind::Widget).await.map(|_| ()),
        store
            .commit_page(&seed_plan(), Some("c1"), "c2")
            .await
            .map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
    }
    // The database on disk is now newer than this code: opening it is refused, typed.
    assert!(matches!(
        IdbStore::open(&identity).await,
        Err(StoreError::Unavailable(m)) if m.contains("VersionError")
    ));
    newer.close();
    drop(store);
    IdbStore::delete_database(&identity).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_closed_store_reports_unavailable_and_delete_database_empties_it() {
    let (identity, store) = open_fresh().await;
    store.commit_page(&seed_plan(), None, "c1").await.unwrap();
    store.close();
    assert!(matches!(
        store.row(Kind::Dashboard, "dsh_1").await,
        Err(StoreError::Unavailable(_))
    ));
    drop(store);

    let reopened = IdbStore::open(&identity).await.unwrap();
    assert_eq!(reopened.rows(Kind::Dashboard).await.unwrap().len(), 2);
    reopened.close();
    drop(reopened);

    IdbStore::delete_database(&identity).await.unwrap();
    let empty = IdbStore::open(&identity).await.unwrap();
    assert_eq!(empty.meta().await.unwrap(), SyncMeta::default());
    assert!(empty.rows(Kind::Dashboard).await.unwrap().is_empty());
    discard(&identity, empty).await;
}
