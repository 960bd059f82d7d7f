//! A JSON state file that follows a value in memory. Changes are made in
//! memory at once and written behind: atomically and fsynced, off the
//! async workers, at most once every `every` however many changes come
//! (a storm of them is a few writes), and once more when the writer stops.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::sync::Locked;

pub struct Store<T> {
    file: PathBuf,
    /// What the file holds, for the log ("devices file").
    what: &'static str,
    value: Mutex<T>,
    dirty: AtomicBool,
    wake: Notify,
    every: Duration,
    /// One write at a time, so an older snapshot never lands after a newer.
    writing: tokio::sync::Mutex<()>,
}

impl<T: Serialize + DeserializeOwned + Default + Send + 'static> Store<T> {
    /// Reads `file` (missing: the default; unreadable: moved aside, see
    /// [`crate::fsutil::load_json`]). Blocking.
    pub fn load(file: PathBuf, what: &'static str, every: Duration) -> Store<T> {
        let value = crate::fsutil::load_json(&file, what).unwrap_or_default();
        Store {
            file,
            what,
            value: Mutex::new(value),
            dirty: AtomicBool::new(false),
            wake: Notify::new(),
            every,
            writing: tokio::sync::Mutex::new(()),
        }
    }

    /// The value, to read. Hold the guard briefly: every change waits.
    pub fn get(&self) -> MutexGuard<'_, T> {
        self.value.locked()
    }

    /// Changes the value; the file follows soon.
    pub fn change<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.edit())
    }

    /// The value, to change in place; the file follows soon (the change
    /// is marked when the guard is dropped).
    pub fn edit(&self) -> Edit<'_, T> {
        Edit {
            guard: self.value.locked(),
            store: self,
        }
    }

    /// Marks a change made through [`Store::transient`] as worth a write
    /// after all.
    pub fn changed(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// The value, for changes not worth a write of their own (a job's
    /// progress): they reach the file with the next change that is.
    pub fn transient(&self) -> MutexGuard<'_, T> {
        self.value.locked()
    }

    /// The writer: runs until `stop`, then writes what is left.
    pub async fn run(self: std::sync::Arc<Self>, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = self.wake.notified() => {}
            }
            self.save().await;
            // Changes in the meantime wait for the next write.
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(self.every) => {}
            }
        }
        self.save().await;
    }

    /// Writes the value now if it changed since the last write; returns
    /// once the newest change is on disk (for what must be durable before
    /// the caller goes on).
    pub async fn save(&self) {
        let _one = self.writing.lock().await;
        if !self.dirty.swap(false, Ordering::SeqCst) {
            return;
        }
        let bytes = match serde_json::to_vec_pretty(&*self.get()) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("could not write the {}: {e}", self.what);
                return;
            }
        };
        let file = self.file.clone();
        let written = crate::fsutil::blocking(move || crate::fsutil::write_atomic(&file, &bytes))
            .await
            .unwrap_or_else(|| Err(std::io::Error::other("the writing thread panicked")));
        if let Err(e) = written {
            tracing::warn!(
                "could not save the {} {}: {e} ({:?}); trying again later",
                self.what,
                self.file.display(),
                e.kind()
            );
            self.dirty.store(true, Ordering::SeqCst);
        }
    }
}

/// A change in progress; see [`Store::edit`].
pub struct Edit<'a, T> {
    guard: MutexGuard<'a, T>,
    store: &'a Store<T>,
}

impl<T> std::ops::Deref for Edit<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> std::ops::DerefMut for Edit<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for Edit<'_, T> {
    fn drop(&mut self) {
        // Before the lock is let go: a writer waiting for it sees this.
        self.store.dirty.store(true, Ordering::SeqCst);
        self.store.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_storm_of_changes_is_a_few_writes_and_the_last_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("n.json");
        let store: Arc<Store<Vec<u32>>> = Arc::new(Store::load(
            file.clone(),
            "test file",
            Duration::from_millis(200),
        ));
        let stop = CancellationToken::new();
        let writer = tokio::spawn(store.clone().run(stop.clone()));
        let started = std::time::Instant::now();
        let mut writes = 0;
        let mut last_seen = None;
        for i in 0..3000u32 {
            store.change(|v| v.push(i));
            tokio::task::yield_now().await;
            let m = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
            if m.is_some() && m != last_seen {
                writes += 1;
                last_seen = m;
            }
        }
        let took = started.elapsed();
        stop.cancel();
        writer.await.unwrap();
        let saved: Vec<u32> = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(saved.len(), 3000, "the stop writes the last change");
        let bound = 2 + (took.as_millis() / 200) as usize;
        assert!(writes <= bound, "{writes} writes in {took:?}");
        // Nothing else in the folder: no temp file left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // And it loads again.
        let again: Store<Vec<u32>> = Store::load(file, "test file", Duration::from_secs(1));
        assert_eq!(again.get().len(), 3000);
    }
}
