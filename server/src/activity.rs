//! Who is pulling: the `fresh=true` rate limit per device (real time, because
//! `Retry-After` is real seconds) and, per tenant, when devices last pulled and last asked
//! for fresh data (simulated time, because the snapshot generator runs on it).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use sync_core::protocol::identity::Identity;

/// One `fresh=true` per device per this window (PROTOCOL §3, reference server).
pub const FRESH_WINDOW: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct Inner {
    fresh_at: HashMap<(String, String, String), Instant>,
    last_pull_ms: HashMap<String, i64>,
    last_fresh_ms: HashMap<String, i64>,
}

#[derive(Debug, Default)]
pub struct Activity {
    inner: Mutex<Inner>,
}

impl Activity {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits one `fresh=true` for the device, or says how many whole seconds to wait.
    pub fn try_fresh(&self, id: &Identity, now_ms: i64) -> Result<(), u64> {
        let mut inner = self.lock();
        let now = Instant::now();
        let key = (
            id.tenant_id.clone(),
            id.user_id.clone(),
            id.device_id.clone(),
        );
        if let Some(at) = inner.fresh_at.get(&key) {
            let elapsed = now.duration_since(*at);
            if elapsed < FRESH_WINDOW {
                let wait = FRESH_WINDOW - elapsed;
                return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
            }
        }
        inner
            .fresh_at
            .retain(|_, at| now.duration_since(*at) < FRESH_WINDOW);
        inner.fresh_at.insert(key, now);
        inner.last_fresh_ms.insert(id.tenant_id.clone(), now_ms);
        Ok(())
    }

    /// Records a served pull of the tenant at simulated time `now_ms`.
    pub fn record_pull(&self, tenant: &str, now_ms: i64) {
        self.lock().last_pull_ms.insert(tenant.to_string(), now_ms);
    }

    /// Tenants with a pull within `window_ms` before `now_ms` (seed 000 §8: "online devices").
    pub fn active_tenants(&self, now_ms: i64, window_ms: i64) -> Vec<String> {
        let mut v: Vec<String> = self
            .lock()
            .last_pull_ms
            .iter()
            .filter(|(_, at)| now_ms - **at <= window_ms)
            .map(|(t, _)| t.clone())
            .collect();
        v.sort();
        v
    }

    /// A tenant is foregrounded when one of its devices pulled, or asked for fresh data,
    /// within `window_ms` before `now_ms`.
    pub fn foregrounded(&self, tenant: &str, now_ms: i64, window_ms: i64) -> bool {
        let inner = self.lock();
        let recent =
            |m: &HashMap<String, i64>| m.get(tenant).is_some_and(|at| now_ms - *at <= window_ms);
        recent(&inner.last_pull_ms) || recent(&inner.last_fresh_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_is_limited_per_device() {
        let a = Activity::default();
        let dev1 = Identity::new("tnt_a", "usr_a", "dev_1").unwrap();
        let dev2 = Identity::new("tnt_a", "usr_a", "dev_2").unwrap();
        assert!(a.try_fresh(&dev1, 0).is_ok());
        let wait = a.try_fresh(&dev1, 0).unwrap_err();
        assert!((29..=30).contains(&wait));
        assert!(a.try_fresh(&dev2, 0).is_ok());
        a.record_pull("tnt_a", 1000);
        assert_eq!(a.active_tenants(2000, 5000), vec!["tnt_a".to_string()]);
        assert!(a.active_tenants(10_000, 5000).is_empty());
        assert!(a.foregrounded("tnt_a", 2000, 5000));
    }
}
