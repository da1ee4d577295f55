//! `GET /internal/sync/pull` (PROTOCOL §1–§3): identity, paging parameters, token, cursor,
//! injected faults, the `fresh=true` rate limit, then one page from the log.

use crate::activity::{self, FRESH_WINDOW};
use crate::auth;
use crate::error::ApiError;
use crate::faults::{json_bytes, Fault, FaultTarget};
use crate::page::{build_page, PageRequest};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

pub const DEFAULT_PAGE_SIZE: usize = 500;
pub const MAX_PAGE_SIZE: usize = 2000;

/// The query string of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullParams {
    pub cursor: Option<String>,
    pub page_size: usize,
    pub fresh: bool,
}

/// `pageSize`: an integer; above the maximum it is clamped, below 1 or not a number → 400.
pub fn parse_page_size(raw: &str) -> Result<usize, ApiError> {
    let s = raw.trim();
    let digits = s.strip_prefix('+').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: a huge value is still a number and clamps.
        let n = digits.parse::<u128>().unwrap_or(u128::MAX);
        return if n == 0 {
            Err(ApiError::BadPageSize)
        } else {
            Ok(usize::try_from(n.min(MAX_PAGE_SIZE as u128)).unwrap_or(MAX_PAGE_SIZE))
        };
    }
    Err(ApiError::BadPageSize)
}

impl PullParams {
    pub fn parse(query: Option<&str>) -> Result<PullParams, ApiError> {
        let mut params = PullParams {
            cursor: None,
            page_size: DEFAULT_PAGE_SIZE,
            fresh: false,
        };
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "cursor" => params.cursor = Some(v.into_owned()).filter(|c| !c.is_empty()),
                "pageSize" => params.page_size = parse_page_size(&v)?,
                "fresh" => params.fresh = v == "true",
                _ => {}
            }
        }
        Ok(params)
    }
}

/// Wall-clock milliseconds: `Retry-After` of the `fresh=true` limit is real seconds.
fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub async fn pull(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match serve_pull(app, headers, query).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn serve_pull(
    app: AppState,
    headers: HeaderMap,
    query: Option<String>,
) -> Result<Response, ApiError> {
    let identity = auth::identity_from_headers(&headers)?;
    let params = PullParams::parse(query.as_deref())?;
    let token = auth::bearer_token(&headers);
    let user = {
        let identity = identity.clone();
        app.db
            .call(move |conn| auth::authenticate(conn, &identity, token.as_deref()))
            .await?
    };
    let cursor = match &params.cursor {
        None => None,
        Some(c) => Some(
            app.codec
                .verify(
                    c,
                    &identity.tenant_id,
                    &identity.user_id,
                    &identity.device_id,
                )
                .map_err(|_| ApiError::CursorInvalid)?,
        ),
    };
    let fault = app.faults.take(&identity.tenant_id, FaultTarget::Pull);
    if let Some(fault) = &fault {
        if let Some(res) = fault.replacement(FaultTarget::Pull) {
            return Ok(res);
        }
        if let Fault::Delay { ms } = fault {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
        }
    }
    let now_ms = app.clock.now_ms();
    let mark_pull = app.pull_marks.due(&identity.tenant_id, now_ms);
    let fresh = params.fresh;
    let tenant = identity.tenant_id.clone();
    let user_id = user.id.clone();
    let request = PageRequest {
        identity,
        user,
        cursor,
        page_size: params.page_size,
        now_ms,
    };
    let codec = app.codec.clone();
    let page = app
        .db
        .call(move |conn| {
            if fresh {
                activity::claim_fresh(conn, &request.identity, wall_ms(), now_ms)?.map_err(
                    |retry_after| ApiError::RateLimited {
                        retry_after: retry_after.clamp(1, FRESH_WINDOW.as_secs()),
                    },
                )?;
            }
            if mark_pull {
                activity::record_pull(conn, &request.identity.tenant_id, now_ms)?;
            }
            build_page(conn, &codec, &request)
        })
        .await?;
    if fresh {
        app.wake_generator(&tenant, &user_id);
    }
    let body = page.into_bytes();
    Ok(match fault {
        Some(fault) => fault.mangle(StatusCode::OK, body),
        None => json_bytes(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_rules() {
        assert_eq!(parse_page_size("1").ok(), Some(1));
        assert_eq!(parse_page_size("5000").ok(), Some(2000));
        assert_eq!(
            parse_page_size("99999999999999999999999999999999999999999").ok(),
            Some(2000)
        );
        for bad in ["0", "-1", "abc", "", "1.5", "1e3", "-0"] {
            assert!(parse_page_size(bad).is_err(), "{bad}");
        }
        let p = PullParams::parse(Some("cursor=a.b&pageSize=10&fresh=true")).unwrap();
        assert_eq!(
            (p.cursor.as_deref(), p.page_size, p.fresh),
            (Some("a.b"), 10, true)
        );
        assert_eq!(
            PullParams::parse(None).unwrap().page_size,
            DEFAULT_PAGE_SIZE
        );
    }
}
