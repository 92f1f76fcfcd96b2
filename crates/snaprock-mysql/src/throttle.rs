//! Slows down password guessing: after a few failed logins from one address, every further
//! failure from it is answered only after a delay that doubles with each failure (capped), so
//! guessing costs time while a user who mistypes once notices nothing. A success clears it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures from one address answered at once.
const FREE_FAILURES: u32 = 3;
const FIRST_DELAY: Duration = Duration::from_millis(250);
const MAX_DELAY: Duration = Duration::from_secs(5);
/// An address that stays quiet this long starts again from zero.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered at most (the oldest are forgotten first).
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl LoginThrottle {
    /// Records a failed login from `ip`; returns how long to wait before answering it.
    pub fn failed(&self, ip: IpAddr) -> Duration {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, (_, last)| now.duration_since(*last) < FORGET_AFTER);
            if failures.len() >= MAX_TRACKED
                && let Some(oldest) = failures
                    .iter()
                    .min_by_key(|(_, (_, t))| *t)
                    .map(|(k, _)| *k)
            {
                failures.remove(&oldest);
            }
        }
        let entry = failures.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= FORGET_AFTER {
            entry.0 = 0;
        }
        entry.0 += 1;
        entry.1 = now;
        delay_after(entry.0)
    }

    /// A successful login from `ip` clears its failures.
    pub fn succeeded(&self, ip: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ip);
    }
}

/// The delay before answering the `n`th consecutive failure.
fn delay_after(n: u32) -> Duration {
    if n <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (n - FREE_FAILURES - 1).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_a_few_failures_and_reset_on_success() {
        assert_eq!(delay_after(1), Duration::ZERO);
        assert_eq!(delay_after(3), Duration::ZERO);
        assert_eq!(delay_after(4), FIRST_DELAY);
        assert_eq!(delay_after(5), FIRST_DELAY * 2);
        assert_eq!(delay_after(40), MAX_DELAY);
        let throttle = LoginThrottle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..4 {
            throttle.failed(ip);
        }
        assert_eq!(throttle.failed(ip), FIRST_DELAY * 2);
        assert_eq!(throttle.failed(other), Duration::ZERO);
        throttle.succeeded(ip);
        assert_eq!(throttle.failed(ip), Duration::ZERO);
    }
}
