//! Computed results kept for the inputs they were computed from.
//!
//! One rule for every cached result: its key is a fingerprint of every input of the computation
//! (the values it read, the framework, every parameter), and the value was computed from
//! exactly those inputs. So a cached answer is the answer, whichever request (and whichever
//! role) computed it first, and a change elsewhere never drops it: only a change of its own
//! inputs makes a new key. The cache is bounded by an estimate of the rows it holds; the oldest
//! entries go first.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// Rows (of about a hundred bytes each) the cache holds at most: a few tens of MiB.
pub const MAX_ROWS: usize = 200_000;

type Entry = (Arc<dyn Any + Send + Sync>, usize);

#[derive(Default)]
struct Inner {
    rows: usize,
    entries: HashMap<Key, Entry>,
    order: VecDeque<Key>,
}

/// A fingerprint of every input of a computation (128 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key(u64, u64);

/// Builds a [`Key`] from everything a computation reads.
pub struct KeyBuilder(
    std::collections::hash_map::DefaultHasher,
    std::collections::hash_map::DefaultHasher,
);

impl KeyBuilder {
    /// A key for computations of `kind` (different kinds never share keys).
    pub fn new(kind: &str) -> KeyBuilder {
        let mut a = std::collections::hash_map::DefaultHasher::new();
        let mut b = std::collections::hash_map::DefaultHasher::new();
        0x9e37_79b9_u32.hash(&mut b);
        kind.hash(&mut a);
        kind.hash(&mut b);
        KeyBuilder(a, b)
    }

    pub fn add(&mut self, part: impl Hash) -> &mut Self {
        part.hash(&mut self.0);
        part.hash(&mut self.1);
        self
    }

    /// A number, by its bits (so 0.1 + 0.2 and 0.3 are different inputs).
    pub fn add_f64(&mut self, x: Option<f64>) -> &mut Self {
        self.add(x.map(f64::to_bits))
    }

    pub fn finish(&self) -> Key {
        Key(self.0.finish(), self.1.finish())
    }
}

#[derive(Default)]
pub struct ResultCache {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for ResultCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResultCache")
    }
}

impl ResultCache {
    pub fn get<T: Any + Send + Sync>(&self, key: Key) -> Option<Arc<T>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.entries.get(&key)?.0.clone().downcast::<T>().ok()
    }

    /// Keeps `value` (about `rows` rows) under `key`, dropping the oldest entries beyond the
    /// bound.
    pub fn put<T: Any + Send + Sync>(&self, key: Key, value: Arc<T>, rows: usize) {
        if rows > MAX_ROWS {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, old)) = inner.entries.insert(key, (value, rows)) {
            inner.rows -= old;
        } else {
            inner.order.push_back(key);
        }
        inner.rows += rows;
        while inner.rows > MAX_ROWS {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some((_, n)) = inner.entries.remove(&oldest) {
                inner.rows -= n;
            }
        }
    }

    /// The value under `key`, computed once (when `enabled`; otherwise always computed).
    pub fn get_or<T, E>(
        &self,
        enabled: bool,
        key: Key,
        rows: impl Fn(&T) -> usize,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E>
    where
        T: Any + Send + Sync,
    {
        if !enabled {
            return compute().map(Arc::new);
        }
        if let Some(hit) = self.get::<T>(key) {
            return Ok(hit);
        }
        let value = Arc::new(compute()?);
        self.put(key, Arc::clone(&value), rows(&value));
        Ok(value)
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        KeyBuilder::new("t").add(s).finish()
    }

    #[test]
    fn a_result_is_served_for_its_inputs_only() {
        let cache = ResultCache::default();
        cache.put(key("a"), Arc::new(1u32), 1);
        assert_eq!(cache.get::<u32>(key("a")).as_deref(), Some(&1));
        assert!(cache.get::<u32>(key("b")).is_none());
        assert!(
            cache.get::<String>(key("a")).is_none(),
            "another type is another result"
        );
        assert_ne!(
            KeyBuilder::new("x").add("a").finish(),
            KeyBuilder::new("y").add("a").finish(),
            "kinds do not share keys"
        );
        assert_ne!(
            KeyBuilder::new("x").add_f64(Some(0.1 + 0.2)).finish(),
            KeyBuilder::new("x").add_f64(Some(0.3)).finish()
        );
    }

    #[test]
    fn the_cache_stays_within_its_bound_dropping_the_oldest() {
        let cache = ResultCache::default();
        for i in 0..10 {
            cache.put(key(&i.to_string()), Arc::new(i), MAX_ROWS / 4);
        }
        assert_eq!(cache.len(), 4);
        assert!(cache.get::<i32>(key("0")).is_none());
        assert!(cache.get::<i32>(key("9")).is_some());
    }

    #[test]
    fn get_or_computes_once_per_key_and_always_when_disabled() {
        let cache = ResultCache::default();
        let mut calls = 0;
        for enabled in [true, true, true, false, false] {
            let v: Result<Arc<u32>, ()> = cache.get_or(
                enabled,
                key("k"),
                |_| 1,
                || {
                    calls += 1;
                    Ok(42)
                },
            );
            assert_eq!(*v.unwrap(), 42);
        }
        assert_eq!(calls, 3);
    }
}
