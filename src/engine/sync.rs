//! `sync()`: push, then pull until drained — local edits go out before the pull brings the
//! server's state, so the pulled page already carries the versions our own renames made.
//!
//! A push paused by revoked access (`forbidden`) does not stop the pull: the pull is what
//! learns that access came back (its first committed page clears the flag), and then the
//! push runs again in the same call. Any other push failure is returned as is.

use super::clock::{Clock, Random};
use crate::engine::net::transport::Transport;
use crate::engine::pull::config::PullConfig;
use crate::engine::pull::error::PullError;
use crate::engine::pull::page_loop::pull;
use crate::engine::pull::report::PullReport;
use crate::engine::push::batch_loop::push;
use crate::engine::push::config::PushConfig;
use crate::engine::push::error::PushError;
use crate::engine::push::report::PushReport;
use crate::engine::store::cache::Store;
use crate::engine::store::outbox::OutboxStore;
use serde::Serialize;

/// What a `sync` call did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// `None` when pushing stayed paused (access revoked) for the whole call.
    pub push: Option<PushReport>,
    pub pull: PullReport,
}

/// Why a sync call stopped, by direction.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyncError {
    #[error("push: {0}")]
    Push(PushError),
    #[error("pull: {0}")]
    Pull(PullError),
}

impl SyncError {
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Push(e) => e.code(),
            SyncError::Pull(e) => e.code(),
        }
    }

    pub fn retryable(&self) -> bool {
        match self {
            SyncError::Push(e) => e.retryable(),
            SyncError::Pull(e) => e.retryable(),
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
    let mut pushed = match push(store, transport, clock, random, push_config, &mut |_| {}).await {
        Ok(report) => Some(report),
        Err(PushError::Forbidden) => None,
        Err(e) => return Err(SyncError::Push(e)),
    };
    let pulled = pull(store, transport, clock, random, pull_config, &mut |_| {})
        .await
        .map_err(SyncError::Pull)?;
    if pushed.is_none()
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
        pull: pulled,
    })
}
