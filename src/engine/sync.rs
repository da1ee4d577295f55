//! `sync()`: push, then pull until drained — local edits go out before the pull brings the
//! server's state, so the pulled page already carries the versions our own renames made.
//!
//! A push paused by revoked access (`forbidden`) does not stop the pull: the pull is what
//! learns that access came back (its first committed page clears the flag), and then the
//! push runs again in the same call. Nor does a push that failed retryably (offline, 5xx,
//! 429): the edits stay queued, the device still gets the server's news, and the report says
//! why the push did not complete (`push_error`). A push refused for good stops the call.

use super::clock::{Clock, Random};
use super::error_info::ErrorInfo;
use crate::engine::net::transport::Transport;
use crate::engine::pull::config::PullConfig;
use crate::engine::pull::error::PullError;
use crate::engine::pull::page_loop::pull_keeping;
use crate::engine::pull::report::PullReport;
use crate::engine::pull::state_cache::StateCache;
use crate::engine::push::batch_loop::push;
use crate::engine::push::config::PushConfig;
use crate::engine::push::error::PushError;
use crate::engine::push::report::PushReport;
use crate::engine::store::cache::Store;
use crate::engine::store::outbox::OutboxStore;
use serde::Serialize;

/// What a `sync` call did: push, then pull.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Null when the push did not complete: paused by revoked access for the whole call, or
    /// failed retryably (then `pushError` says why and the pull still ran).
    pub push: Option<PushReport>,
    /// Why the push did not complete, when it failed retryably.
    pub push_error: Option<ErrorInfo>,
    pub pull: PullReport,
}

/// Why a sync call stopped, by direction.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyncError {
    /// The push was refused for good; nothing was pulled.
    #[error("push: {0}")]
    Push(PushError),
    /// The pull failed, after a push that completed (`push_error: None`) or failed retryably.
    #[error("pull: {error}")]
    Pull {
        error: PullError,
        push_error: Option<ErrorInfo>,
    },
}

impl SyncError {
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Push(e) => e.code(),
            SyncError::Pull { error, .. } => error.code(),
        }
    }

    pub fn retryable(&self) -> bool {
        match self {
            SyncError::Push(e) => e.retryable(),
            SyncError::Pull { error, .. } => error.retryable(),
        }
    }
}

/// Push, then pull until drained (see the module docs for a paused push).
pub async fn sync<S, T, C, R>(
    store: &S,
    transport: &T,
    clock: &C,
    random: &R,
    push_config: &PushConfig,
    pull_config: &PullConfig,
) -> Result<SyncReport, SyncError>
where
    S: Store + OutboxStore,
    T: Transport,
    C: Clock,
    R: Random,
{
    let mut kept = None;
    sync_keeping(
        store,
        transport,
        clock,
        random,
        push_config,
        pull_config,
        &mut kept,
    )
    .await
}

/// [`sync`] whose pull keeps its state for the next call ([`pull_keeping`]).
pub async fn sync_keeping<S, T, C, R>(
    store: &S,
    transport: &T,
    clock: &C,
    random: &R,
    push_config: &PushConfig,
    pull_config: &PullConfig,
    kept: &mut Option<StateCache>,
) -> Result<SyncReport, SyncError>
where
    S: Store + OutboxStore,
    T: Transport,
    C: Clock,
    R: Random,
{
    let (mut pushed, push_error) =
        match push(store, transport, clock, random, push_config, &mut |_| {}).await {
            Ok(report) => (Some(report), None),
            Err(PushError::Forbidden) => (None, None),
            Err(e) if e.retryable() => (None, Some(ErrorInfo::from(&e))),
            Err(e) => return Err(SyncError::Push(e)),
        };
    let pulled = pull_keeping(
        store,
        transport,
        clock,
        random,
        pull_config,
        &mut |_| {},
        kept,
    )
    .await
    .map_err(|error| SyncError::Pull {
        error,
        push_error: push_error.clone(),
    })?;
    if pushed.is_none()
        && push_error.is_none()
        && !store
            .meta()
            .await
            .map_err(|e| SyncError::Push(e.into()))?
            .access_revoked
    {
        pushed = Some(
            push(store, transport, clock, random, push_config, &mut |_| {})
                .await
                .map_err(SyncError::Push)?,
        );
    }
    Ok(SyncReport {
        push: pushed,
        push_error,
        pull: pulled,
    })
}
