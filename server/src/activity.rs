//! Who is pulling: the `fresh=true` rate limit per device (real time, because
//! `Retry-After` is real seconds) and, per tenant, when devices last pulled and last asked
//! for fresh data (simulated time, because the snapshot generator runs on it).
//!
//! Only authenticated requests get here (PROTOCOL §9.10), but one valid token can still
//! invent device ids without end, so every map is capped: when a map is full, entries
//! that no longer matter are dropped first, then the oldest one. Evicting a device's
//! `fresh` entry lets that device ask again early, which only happens under a flood of
//! new device ids and costs one extra snapshot pass.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use sync_core::protocol::identity::Identity;

/// One `fresh=true` per device per this window (PROTOCOL §3, reference server).
pub const FRESH_WINDOW: Duration = Duration::from_secs(30);

/// Most devices whose last `fresh=true` is remembered.
pub const MAX_FRESH_DEVICES: usize = 100_000;

/// Most tenants whose last pull and last `fresh=true` are remembered.
pub const MAX_TENANTS: usize = 10_000;

/// Makes room for one more entry: drops the oldest until there is.
fn make_room<K: Clone + Eq + std::hash::Hash, V: Ord + Copy>(map: &mut HashMap<K, V>, cap: usize) {
    while map.len() >= cap.max(1) {
        let Some(oldest) = map.iter().min_by_key(|(_, v)| **v).map(|(k, _)| k.clone()) else {
            return;
        };
        map.remove(&oldest);
    }
}

#[derive(Debug, Default)]
struct Inner {
    fresh_at: HashMap<(String, String, String), Instant>,
    last_pull_ms: HashMap<String, i64>,
    last_fresh_ms: HashMap<String, i64>,
}

#[derive(Debug)]
pub struct Activity {
    inner: Mutex<Inner>,
    max_devices: usize,
    max_tenants: usize,
}

impl Default for Activity {
    fn default() -> Self {
        Activity::with_caps(MAX_FRESH_DEVICES, MAX_TENANTS)
    }
}

impl Activity {
    /// An activity record holding at most these many devices and tenants.
    pub fn with_caps(max_devices: usize, max_tenants: usize) -> Activity {
        Activity {
            inner: Mutex::default(),
            max_devices,
            max_tenants,
        }
    }

    /// How many devices and tenants are remembered now.
    pub fn sizes(&self) -> (usize, usize) {
        let inner = self.lock();
        (
            inner.fresh_at.len(),
            inner.last_pull_ms.len().max(inner.last_fresh_ms.len()),
        )
    }

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
        if !inner.fresh_at.contains_key(&key) {
            make_room(&mut inner.fresh_at, self.max_devices);
        }
        inner.fresh_at.insert(key, now);
        if !inner.last_fresh_ms.contains_key(&id.tenant_id) {
            make_room(&mut inner.last_fresh_ms, self.max_tenants);
        }
        inner.last_fresh_ms.insert(id.tenant_id.clone(), now_ms);
        Ok(())
    }

    /// Records a served pull of the tenant at simulated time `now_ms`.
    pub fn record_pull(&self, tenant: &str, now_ms: i64) {
        let mut inner = self.lock();
        if !inner.last_pull_ms.contains_key(tenant) {
            make_room(&mut inner.last_pull_ms, self.max_tenants);
        }
        inner.last_pull_ms.insert(tenant.to_string(), now_ms);
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

    #[test]
    fn maps_are_capped_and_drop_the_oldest() {
        let a = Activity::with_caps(3, 2);
        for d in 0..10 {
            let id = Identity::new("tnt_a", "usr_a", &format!("dev_{d}")).unwrap();
            assert!(a.try_fresh(&id, 0).is_ok());
        }
        assert_eq!(a.sizes().0, 3);
        let newest = Identity::new("tnt_a", "usr_a", "dev_9").unwrap();
        assert!(a.try_fresh(&newest, 0).is_err(), "the newest are kept");
        for t in 0..5 {
            a.record_pull(&format!("tnt_{t}"), t);
        }
        assert_eq!(a.sizes().1, 2);
        assert_eq!(
            a.active_tenants(4, 10),
            vec!["tnt_3".to_string(), "tnt_4".to_string()]
        );
    }
}
