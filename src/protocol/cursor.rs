//! The signed pull cursor: `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`.
//!
//! Only the server signs and verifies cursors; to the client they are opaque strings. The
//! codec lives here, beside the other wire types, so any server written in Rust can share it.

use super::kind::Kind;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;

type HmacSha256 = Hmac<Sha256>;

/// Where one kind's stream stands: the last log position served and the snapshot epoch
/// the client holds for that kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindPosition {
    #[serde(rename = "p")]
    pub position: u64,
    #[serde(rename = "e")]
    pub epoch: u64,
}

/// What a cursor says, once verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorPayload {
    /// Id of the key that signed it.
    pub kid: String,
    #[serde(rename = "t")]
    pub tenant_id: String,
    #[serde(rename = "u")]
    pub user_id: String,
    #[serde(rename = "d")]
    pub device_id: String,
    #[serde(rename = "k")]
    pub kinds: BTreeMap<Kind, KindPosition>,
}

/// An HMAC key and its id.
#[derive(Clone)]
pub struct CursorKey {
    pub id: String,
    secret: Vec<u8>,
}

impl CursorKey {
    pub fn new(id: impl Into<String>, secret: impl AsRef<[u8]>) -> Self {
        CursorKey {
            id: id.into(),
            secret: secret.as_ref().to_vec(),
        }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.secret).expect("hmac takes any key length")
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CursorKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Why a cursor was refused. The server answers every variant with `410 cursor_invalid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("cursor is malformed")]
    Malformed,
    #[error("cursor was signed with an unknown key")]
    UnknownKey,
    #[error("cursor signature does not verify")]
    BadSignature,
    #[error("cursor was issued to another tenant, user or device")]
    OtherIdentity,
}

/// Signs with the current key; verifies with the current or the previous one (rotation).
#[derive(Debug, Clone)]
pub struct CursorCodec {
    current: CursorKey,
    previous: Option<CursorKey>,
}

impl CursorCodec {
    pub fn new(current: CursorKey, previous: Option<CursorKey>) -> Self {
        CursorCodec { current, previous }
    }

    /// Signs `payload` with the current key (its `kid` is overwritten).
    pub fn sign(&self, payload: &CursorPayload) -> String {
        let mut payload = payload.clone();
        payload.kid = self.current.id.clone();
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        let mut mac = self.current.mac();
        mac.update(&body);
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Verifies the signature in constant time, then that the cursor belongs to this identity.
    pub fn verify(
        &self,
        cursor: &str,
        tenant_id: &str,
        user_id: &str,
        device_id: &str,
    ) -> Result<CursorPayload, CursorError> {
        let (body_b64, tag_b64) = cursor.split_once('.').ok_or(CursorError::Malformed)?;
        let body = URL_SAFE_NO_PAD
            .decode(body_b64)
            .map_err(|_| CursorError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag_b64)
            .map_err(|_| CursorError::Malformed)?;
        // The key id is read before the signature is checked only to pick the key; nothing
        // else of the payload is trusted until the MAC verifies.
        #[derive(Deserialize)]
        struct KeyIdOnly {
            kid: String,
        }
        let kid = serde_json::from_slice::<KeyIdOnly>(&body)
            .map_err(|_| CursorError::Malformed)?
            .kid;
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| k.id == kid)
            .ok_or(CursorError::UnknownKey)?;
        let mut mac = key.mac();
        mac.update(&body);
        mac.verify_slice(&tag)
            .map_err(|_| CursorError::BadSignature)?;
        let payload: CursorPayload =
            serde_json::from_slice(&body).map_err(|_| CursorError::Malformed)?;
        if payload.tenant_id != tenant_id
            || payload.user_id != user_id
            || payload.device_id != device_id
        {
            return Err(CursorError::OtherIdentity);
        }
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> CursorPayload {
        let mut kinds = BTreeMap::new();
        kinds.insert(
            Kind::Widget,
            KindPosition {
                position: 42,
                epoch: 1,
            },
        );
        CursorPayload {
            kid: String::new(),
            tenant_id: "tnt_a".into(),
            user_id: "usr_a".into(),
            device_id: "dev_a".into(),
            kinds,
        }
    }

    #[test]
    fn round_trip_and_rotation() {
        let old = CursorCodec::new(CursorKey::new("k1", b"one"), None);
        let c = old.sign(&payload());
        assert_eq!(
            old.verify(&c, "tnt_a", "usr_a", "dev_a").unwrap().kinds,
            payload().kinds
        );
        let rotated = CursorCodec::new(
            CursorKey::new("k2", b"two"),
            Some(CursorKey::new("k1", b"one")),
        );
        assert!(rotated.verify(&c, "tnt_a", "usr_a", "dev_a").is_ok());
        let retired = CursorCodec::new(
            CursorKey::new("k3", b"three"),
            Some(CursorKey::new("k2", b"two")),
        );
        assert_eq!(
            retired.verify(&c, "tnt_a", "usr_a", "dev_a"),
            Err(CursorError::UnknownKey)
        );
    }

    #[test]
    fn refuses_tampered_truncated_and_foreign() {
        let codec = CursorCodec::new(CursorKey::new("k1", b"secret"), None);
        let c = codec.sign(&payload());
        assert_eq!(
            codec.verify(&c, "tnt_a", "usr_b", "dev_a"),
            Err(CursorError::OtherIdentity)
        );
        assert!(codec
            .verify(&c[..c.len() - 3], "tnt_a", "usr_a", "dev_a")
            .is_err());
        assert!(codec.verify("garbage", "tnt_a", "usr_a", "dev_a").is_err());
        let (body, tag) = c.split_once('.').unwrap();
        let mut forged: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        forged["k"]["Widget"]["p"] = 0.into();
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap()),
            tag
        );
        assert_eq!(
            codec.verify(&forged, "tnt_a", "usr_a", "dev_a"),
            Err(CursorError::BadSignature)
        );
    }
}
