//! What `serve` checks before it binds a socket (PROTOCOL §9.10). A reference server is
//! copied into deployments, so its unsafe conveniences must be explicit: without a cursor
//! key anyone can forge cursors, and the admin API can rewrite every tenant.

use crate::routes::admin::guard::{is_loopback_host, MIN_TOKEN_LEN};
use crate::routes::admin::{AdminAccess, OriginPattern};
use crate::state::DEV_CURSOR_KEY;
use std::io::Read;
use std::path::Path;

/// Where the cursor key may come from, as given on the command line.
#[derive(Debug, Default, Clone)]
pub struct CursorKeyInput<'a> {
    /// `--cursor-key` or `SYNC_CURSOR_KEY`.
    pub key: Option<&'a str>,
    /// `--cursor-key-file`: the key is the file's content, trailing newline removed.
    pub key_file: Option<&'a Path>,
    /// `--insecure-dev-cursor-key`: use the published development key.
    pub insecure_dev: bool,
}

/// The cursor key to sign with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorKeyChoice {
    Configured(String),
    /// [`DEV_CURSOR_KEY`], chosen explicitly; `serve` logs it loudly.
    InsecureDev,
}

impl CursorKeyChoice {
    pub fn secret(&self) -> &str {
        match self {
            CursorKeyChoice::Configured(k) => k,
            CursorKeyChoice::InsecureDev => DEV_CURSOR_KEY,
        }
    }
}

/// A configuration `serve` refuses to start with.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StartupError {
    #[error(
        "no cursor key: pass --cursor-key, --cursor-key-file or SYNC_CURSOR_KEY \
         (or --insecure-dev-cursor-key for local development only)"
    )]
    NoCursorKey,
    #[error("give the cursor key once: --cursor-key/SYNC_CURSOR_KEY or --cursor-key-file")]
    TwoCursorKeys,
    #[error("the cursor key is empty")]
    EmptyCursorKey,
    #[error("cannot read the cursor key file {0}")]
    CursorKeyFile(String),
    #[error("--admin listens on loopback only; --host {0} is not a loopback address")]
    AdminNotLoopback(String),
    #[error("the admin token must be at least {MIN_TOKEN_LEN} visible ASCII characters")]
    WeakAdminToken,
    #[error("{0}")]
    BadAdminOrigin(String),
    #[error("cannot generate an admin token: {0}")]
    NoRandomness(String),
}

/// Picks the cursor key; refuses to fall back to the development key unless asked to.
pub fn resolve_cursor_key(input: &CursorKeyInput<'_>) -> Result<CursorKeyChoice, StartupError> {
    let key = match (input.key, input.key_file) {
        (Some(_), Some(_)) => return Err(StartupError::TwoCursorKeys),
        (Some(k), None) => k.to_string(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| StartupError::CursorKeyFile(format!("{}: {e}", path.display())))?
            .trim_end_matches(['\r', '\n'])
            .to_string(),
        (None, None) if input.insecure_dev => return Ok(CursorKeyChoice::InsecureDev),
        (None, None) => return Err(StartupError::NoCursorKey),
    };
    if key.is_empty() {
        return Err(StartupError::EmptyCursorKey);
    }
    Ok(CursorKeyChoice::Configured(key))
}

/// The admin API as resolved from the command line.
#[derive(Debug, Clone)]
pub struct AdminChoice {
    pub access: AdminAccess,
    /// The token, when it was generated here (so `serve` prints it); `None` when given.
    pub generated_token: Option<String>,
}

/// `--admin` with `--host`, `--admin-token`/`SYNC_ADMIN_TOKEN` and `--admin-allow-origin`:
/// `None` when the admin API is off; an error for a non-loopback host or a weak token.
pub fn resolve_admin(
    enabled: bool,
    host: &str,
    token: Option<&str>,
    origins: &[String],
) -> Result<Option<AdminChoice>, StartupError> {
    if !enabled {
        return Ok(None);
    }
    if !is_loopback_host(host) && !is_loopback_host(&format!("[{host}]")) {
        return Err(StartupError::AdminNotLoopback(host.to_string()));
    }
    let origins = origins
        .iter()
        .map(|o| OriginPattern::parse(o).map_err(StartupError::BadAdminOrigin))
        .collect::<Result<Vec<_>, _>>()?;
    let (token, generated) = match token {
        Some(t) if t.len() >= MIN_TOKEN_LEN && t.bytes().all(|b| b.is_ascii_graphic()) => {
            (t.to_string(), false)
        }
        Some(_) => return Err(StartupError::WeakAdminToken),
        None => (random_token()?, true),
    };
    Ok(Some(AdminChoice {
        access: AdminAccess::new(&token, origins),
        generated_token: generated.then_some(token),
    }))
}

/// 32 random bytes from the operating system, hex-encoded.
fn random_token() -> Result<String, StartupError> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| StartupError::NoRandomness(e.to_string()))?;
    Ok(format!("adm_{}", crate::users::hex(&bytes)))
}
