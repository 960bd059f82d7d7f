//! Playback positions, shared by every device: where each video was left.

use crate::sync::Locked;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Position {
    /// Seconds into the video.
    pub position: f64,
    /// The video's length as the player knew it.
    pub duration: Option<f64>,
    /// Unix seconds.
    pub updated: u64,
}

impl Position {
    /// Seen to (nearly) the end.
    pub fn watched(&self) -> bool {
        self.duration
            .is_some_and(|d| d > 0.0 && self.position >= d * 0.9)
    }

    /// Fraction seen, 0 to 1, when the length is known.
    pub fn fraction(&self) -> Option<f64> {
        self.duration
            .filter(|d| *d > 0.0)
            .map(|d| (self.position / d).clamp(0.0, 1.0))
    }
}

pub struct Positions {
    file: PathBuf,
    map: Mutex<HashMap<String, Position>>,
    save_lock: tokio::sync::Mutex<()>,
}

impl Positions {
    /// Loads `positions.json`; an unreadable one is moved aside.
    pub fn load(state_dir: &Path) -> Positions {
        let file = state_dir.join("positions.json");
        let map = crate::fsutil::load_json(&file, "positions file").unwrap_or_default();
        Positions {
            file,
            map: Mutex::new(map),
            save_lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn get(&self, path: &str) -> Option<Position> {
        self.map.locked().get(path).copied()
    }

    /// Records a position and writes the file (atomically, off the workers).
    pub async fn set(&self, path: &str, position: f64, duration: Option<f64>) -> Position {
        let p = Position {
            position: position.max(0.0),
            duration: duration.filter(|d| d.is_finite() && *d > 0.0),
            updated: crate::fsutil::now(),
        };
        self.map.locked().insert(path.to_string(), p);
        self.save().await;
        p
    }

    /// Positions of renamed files follow them (`from` -> `to`, each a file
    /// or a folder's prefix ending in `/`), and are saved.
    pub async fn moved(&self, moves: &[(String, String)]) {
        {
            let mut map = self.map.locked();
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if let Some(to) = crate::paths::renamed(&key, moves) {
                    let p = map.remove(&key).expect("listed");
                    map.insert(to, p);
                }
            }
        }
        self.save().await;
    }

    /// The positions of these files, as they are now.
    pub fn snapshot(&self, paths: &[String]) -> Vec<(String, Position)> {
        let map = self.map.locked();
        paths
            .iter()
            .filter_map(|p| Some((p.clone(), *map.get(p)?)))
            .collect()
    }

    /// Takes the positions of these files out (they go to the trash).
    pub async fn take(&self, paths: &[String]) -> Vec<(String, Position)> {
        let taken = {
            let mut map = self.map.locked();
            paths
                .iter()
                .filter_map(|p| map.remove(p).map(|pos| (p.clone(), pos)))
                .collect()
        };
        self.save().await;
        taken
    }

    /// Puts positions back (restored from the trash).
    pub async fn put_back(&self, positions: Vec<(String, Position)>) {
        self.map.locked().extend(positions);
        self.save().await;
    }

    async fn save(&self) {
        let _order = self.save_lock.lock().await;
        let bytes = serde_json::to_vec(&*self.map.locked()).unwrap_or_default();
        let file = self.file.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Err(e) = crate::fsutil::write_atomic(&file, &bytes) {
                tracing::warn!("could not save positions: {e}");
            }
        })
        .await;
    }
}
