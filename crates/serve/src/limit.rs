//! Request rate limits per caller: a token bucket per principal (capacity = one second of the
//! rate), refilled continuously. A request over the limit is `429 rate_limited` and reaches
//! neither the writer nor the journal.

use crate::auth::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Token buckets, one per principal.
#[derive(Debug)]
pub struct Limiter {
    per_second: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    /// `per_second` requests per second per caller, with a burst of as many.
    pub fn new(per_second: u32) -> Limiter {
        Limiter {
            per_second: per_second as f64,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the caller's bucket; `false` if it is empty.
    pub fn allow(&self, who: &Principal) -> bool {
        let key = format!("{who:?}");
        let now = Instant::now();
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, at) = map.entry(key).or_insert((self.per_second, now));
        let refill = now.duration_since(*at).as_secs_f64() * self.per_second;
        *tokens = (*tokens + refill).min(self.per_second);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn per_second(&self) -> f64 {
        self.per_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_then_refills() {
        let l = Limiter::new(3);
        let p = Principal::Venue;
        assert!((0..3).all(|_| l.allow(&p)));
        assert!(!l.allow(&p));
        assert!(l.allow(&Principal::Governor), "buckets are per caller");
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert!(l.allow(&p));
    }
}
