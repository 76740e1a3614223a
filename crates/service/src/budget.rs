//! A per-user budget for expensive computations (Monte Carlo draws, what-if runs): a token
//! bucket per subject that refills continuously. Answers served from the cache cost nothing;
//! a computation beyond the budget is refused with the time to wait.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Work units a what-if run without draws costs (a plain index run over a view).
pub const WHAT_IF_COST: u64 = 100;

#[derive(Debug, Default)]
pub struct Budget {
    /// Units a user may spend per minute, and at once; 0 turns the budget off.
    per_minute: u64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Budget {
    pub fn new(per_minute: u64) -> Budget {
        Budget {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Spends `cost` units of `who`'s budget, or says how many seconds to wait.
    pub fn spend(&self, who: &str, cost: u64) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = self.per_minute as f64;
        let rate = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            buckets
                .retain(|_, (tokens, at)| *tokens + at.elapsed().as_secs_f64() * rate < capacity);
        }
        let (tokens, at) = buckets.entry(who.to_owned()).or_insert((capacity, now));
        let available = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(capacity);
        let cost = cost as f64;
        if cost > capacity || available < cost {
            let wait = ((cost.min(capacity) - available) / rate).ceil().max(1.0);
            *tokens = available;
            *at = now;
            return Err(wait as u64);
        }
        *tokens = available - cost;
        *at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_spends_up_to_the_budget_then_waits_and_others_are_not_affected() {
        let b = Budget::new(3000);
        b.spend("a", 1000).unwrap();
        b.spend("a", 2000).unwrap();
        let wait = b.spend("a", 1000).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        b.spend("b", 3000).unwrap();
        assert!(b.spend("c", 3001).is_err(), "more than the whole budget");
        let off = Budget::new(0);
        for _ in 0..100 {
            off.spend("a", 1_000_000).unwrap();
        }
    }
}
