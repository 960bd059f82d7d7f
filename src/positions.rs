//! Playback positions, shared by every device: where each video was left.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::Store;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Position {
    /// Seconds into the video.
    pub position: f64,
    /// The video's length as the player knew it.
    pub duration: Option<f64>,
    /// Unix seconds.
    pub updated: u64,
    /// Counts reports, so two in the same second keep their order.
    #[serde(default)]
    pub seq: u64,
}

impl Position {
    /// Seen to (nearly) the end.
    pub fn watched(&self) -> bool {
        self.duration
            .is_some_and(|d| d > 0.0 && self.position >= d * 0.9)
    }

    /// Started and not finished: between 5 % and 95 % seen.
    pub fn in_progress(&self) -> bool {
        self.fraction().is_some_and(|f| (0.05..=0.95).contains(&f))
    }

    /// Fraction seen, 0 to 1, when the length is known.
    pub fn fraction(&self) -> Option<f64> {
        self.duration
            .filter(|d| *d > 0.0)
            .map(|d| (self.position / d).clamp(0.0, 1.0))
    }
}

pub struct Positions {
    map: Arc<Store<HashMap<String, Position>>>,
    /// The next report's [`Position::seq`]: one more than any loaded.
    next_seq: AtomicU64,
}

/// A player reports every few seconds: the file follows at most this often.
const WRITE_EVERY: Duration = Duration::from_secs(2);

impl Positions {
    /// Loads `positions.json`; an unreadable one is moved aside. Blocking.
    pub fn load(state_dir: &Path) -> Positions {
        let file = state_dir.join("positions.json");
        let map: Store<HashMap<String, Position>> =
            Store::load(file, "positions file", WRITE_EVERY);
        let last = map.get().values().map(|p| p.seq).max().unwrap_or(0);
        Positions {
            map: Arc::new(map),
            next_seq: AtomicU64::new(last + 1),
        }
    }

    /// Writes the file behind the changes until `stop`, and once more then.
    pub fn writer(&self, stop: CancellationToken) -> impl std::future::Future<Output = ()> {
        self.map.clone().run(stop)
    }

    /// Writes what changed since the last write, now (at shutdown).
    pub async fn flush(&self) {
        self.map.save().await;
    }

    pub fn get(&self, path: &str) -> Option<Position> {
        self.map.get().get(path).copied()
    }

    /// Records a position; the file follows within a few seconds.
    pub async fn set(&self, path: &str, position: f64, duration: Option<f64>) -> Position {
        let p = Position {
            position: position.max(0.0),
            duration: duration.filter(|d| d.is_finite() && *d > 0.0),
            updated: crate::fsutil::now(),
            seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
        };
        self.map.change(|m| m.insert(path.to_string(), p));
        p
    }

    /// Positions of renamed files follow them (`from` -> `to`, each a file
    /// or a folder's prefix ending in `/`), and are saved.
    pub async fn moved(&self, moves: &[(String, String)]) {
        self.map.change(|map| {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if let Some(to) = crate::paths::renamed(&key, moves) {
                    let p = map.remove(&key).expect("listed");
                    map.insert(to, p);
                }
            }
        });
        self.map.save().await;
    }

    /// Videos started and not finished ([`Position::in_progress`]), on
    /// any device, the most recently watched first.
    pub fn in_progress(&self) -> Vec<(String, Position)> {
        let mut started: Vec<(String, Position)> = self
            .map
            .get()
            .iter()
            .filter(|(_, p)| p.in_progress())
            .map(|(k, p)| (k.clone(), *p))
            .collect();
        started.sort_by(|a, b| {
            (b.1.updated, b.1.seq)
                .cmp(&(a.1.updated, a.1.seq))
                .then(a.0.cmp(&b.0))
        });
        started
    }

    /// The positions of these files, as they are now.
    pub fn snapshot(&self, paths: &[String]) -> Vec<(String, Position)> {
        let map = self.map.get();
        paths
            .iter()
            .filter_map(|p| Some((p.clone(), *map.get(p)?)))
            .collect()
    }

    /// Takes the positions of these files out (they go to the trash).
    pub async fn take(&self, paths: &[String]) -> Vec<(String, Position)> {
        let taken = self.map.change(|map| {
            paths
                .iter()
                .filter_map(|p| map.remove(p).map(|pos| (p.clone(), pos)))
                .collect()
        });
        self.map.save().await;
        taken
    }

    /// Puts positions back (restored from the trash).
    pub async fn put_back(&self, positions: Vec<(String, Position)>) {
        self.map.change(|map| map.extend(positions));
        self.map.save().await;
    }
}
