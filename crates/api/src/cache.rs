//! Computed results (rollups, index runs) kept for the live view's current version.
//!
//! A result depends only on the view's values at one version and on its request, so it can be
//! served again until the next change is applied; then everything is dropped at once. The
//! cache is bounded by an estimate of the rows it holds.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Rows (of about a hundred bytes each) the cache holds at most: a few tens of MiB.
const MAX_ROWS: usize = 200_000;

type Entry = (Arc<dyn Any + Send + Sync>, usize);

#[derive(Default)]
struct Inner {
    version: u64,
    rows: usize,
    entries: HashMap<String, Entry>,
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
    /// The result stored under `key` for exactly this view `version`.
    pub fn get<T: Any + Send + Sync>(&self, version: u64, key: &str) -> Option<Arc<T>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.version != version {
            return None;
        }
        inner.entries.get(key)?.0.clone().downcast::<T>().ok()
    }

    /// Keeps `value` (about `rows` rows) for `version`; a newer version drops everything
    /// older, and a result of an older version is not kept.
    pub fn put<T: Any + Send + Sync>(&self, version: u64, key: String, value: Arc<T>, rows: usize) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if version < inner.version || rows > MAX_ROWS {
            return;
        }
        if version > inner.version || inner.rows + rows > MAX_ROWS {
            inner.version = version;
            inner.rows = 0;
            inner.entries.clear();
        }
        inner.rows += rows;
        if let Some((_, old)) = inner.entries.insert(key, (value, rows)) {
            inner.rows -= old;
        }
    }

    /// `compute` once per version and key.
    pub fn get_or<T, E>(
        &self,
        version: u64,
        key: String,
        rows: impl Fn(&T) -> usize,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E>
    where
        T: Any + Send + Sync,
    {
        if let Some(hit) = self.get::<T>(version, &key) {
            return Ok(hit);
        }
        let value = Arc::new(compute()?);
        self.put(version, key, Arc::clone(&value), rows(&value));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_is_served_for_its_version_only() {
        let cache = ResultCache::default();
        cache.put(3, "a".into(), Arc::new(1u32), 1);
        assert_eq!(cache.get::<u32>(3, "a").as_deref(), Some(&1));
        assert!(
            cache.get::<u32>(4, "a").is_none(),
            "a newer view is not served old results"
        );
        cache.put(4, "b".into(), Arc::new(2u32), 1);
        assert!(
            cache.get::<u32>(3, "a").is_none(),
            "older results are dropped"
        );
        cache.put(3, "c".into(), Arc::new(3u32), 1);
        assert!(
            cache.get::<u32>(3, "c").is_none(),
            "results of an older view are not kept"
        );
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        let cache = ResultCache::default();
        for i in 0..10 {
            cache.put(1, format!("k{i}"), Arc::new(i), MAX_ROWS / 4);
        }
        let inner = cache.inner.lock().unwrap();
        assert!(inner.rows <= MAX_ROWS);
        assert!(inner.entries.len() <= 4);
    }

    #[test]
    fn get_or_computes_once_per_version() {
        let cache = ResultCache::default();
        let mut calls = 0;
        for _ in 0..3 {
            let v: Result<Arc<u32>, ()> = cache.get_or(
                7,
                "k".into(),
                |_| 1,
                || {
                    calls += 1;
                    Ok(42)
                },
            );
            assert_eq!(*v.unwrap(), 42);
        }
        assert_eq!(calls, 1);
    }
}
