//! Who is calling: the identity headers (checked first, `400 bad_identity`), then the
//! bearer token against the user's stored digest (`401 unauthorized`), then the access
//! binding (`403 forbidden`, naming the revoked kinds when the revocation named some).

use crate::db::Db;
use crate::error::ApiError;
use crate::sql::Sql;
use crate::users::{self, UserRecord};
use axum::http::{header, HeaderMap};
use sync_core::protocol::identity::{Identity, DEVICE_HEADER, TENANT_HEADER, USER_HEADER};

/// Reads and validates the identity triple.
pub fn identity_from_headers(headers: &HeaderMap) -> Result<Identity, ApiError> {
    let get = |name: &str| -> Result<&str, ApiError> {
        match headers.get(name) {
            None => Err(ApiError::BadIdentity(format!("missing {name}"))),
            Some(v) => v
                .to_str()
                .map_err(|_| ApiError::BadIdentity(format!("{name} is not ASCII"))),
        }
    };
    Identity::new(get(TENANT_HEADER)?, get(USER_HEADER)?, get(DEVICE_HEADER)?)
        .map_err(|e| ApiError::BadIdentity(e.to_string()))
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// Checks the token and the access binding; an unknown user answers exactly like a bad
/// token, so the endpoint does not reveal which user ids exist.
pub fn authenticate(
    conn: &dyn Sql,
    identity: &Identity,
    token: Option<&str>,
) -> Result<UserRecord, ApiError> {
    let token = token.ok_or(ApiError::Unauthorized)?;
    let user = users::load(conn, &identity.tenant_id, &identity.user_id)?
        .filter(|u| u.token_matches(token))
        .ok_or(ApiError::Unauthorized)?;
    if user.revoked {
        return Err(ApiError::Forbidden {
            kinds: user.revoked_kinds.clone(),
        });
    }
    Ok(user)
}

/// Identity headers, then token and access binding, for the write endpoints (the same
/// checks and order as pull, minus the paging parameters).
pub async fn authorize(db: &Db, headers: &HeaderMap) -> Result<(Identity, UserRecord), ApiError> {
    let identity = identity_from_headers(headers)?;
    let token = bearer_token(headers);
    let user = {
        let identity = identity.clone();
        db.call(move |conn| authenticate(conn, &identity, token.as_deref()))
            .await?
    };
    Ok((identity, user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer tok_a"),
        );
        assert_eq!(bearer_token(&h).as_deref(), Some("tok_a"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic tok_a"),
        );
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&h), None);
    }
}
