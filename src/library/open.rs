//! Opening the library at start-up: the scan, the metadata cache, the
//! posters already made, and the indexer's first work.

use crate::sync::{Locked, Shared};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::indexer::{self, Work};
use super::{parse_poster_name, poster_id, scan, Found, Library, MetaCache, Video};
use crate::media::{Kind, Tools};

/// What `Library::open` hands to start-up.
pub struct Opened {
    pub library: Arc<Library>,
    /// The indexer task (probes and posters); it stops with `stop`.
    pub indexer: tokio::task::JoinHandle<()>,
    /// pimedia's own temp files the scan found, for start-up to sweep.
    pub leftovers: Vec<PathBuf>,
    /// The paths `add`ed from now on, for the watcher.
    pub added: mpsc::UnboundedReceiver<String>,
    /// The paths ffprobe reads from now on, for intake.
    pub probed: mpsc::UnboundedReceiver<String>,
}

/// The indexer's work found at start-up.
#[derive(Default)]
struct Todo {
    work: Vec<Work>,
    probes: usize,
    posters: usize,
}

/// The poster ids made so far. Blocking.
fn posters_in(thumbs: &Path) -> HashSet<u64> {
    let _ = std::fs::create_dir_all(thumbs);
    std::fs::read_dir(thumbs)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|n| parse_poster_name(n.strip_suffix(".jpg")?))
                .collect()
        })
        .unwrap_or_default()
}

impl Library {
    /// Scans the media dir, fills metadata from the cache, and starts the
    /// background prober for everything new or changed. `root` must be
    /// canonical. The prober stops when `stop` is cancelled.
    pub async fn open(
        root: PathBuf,
        state_dir: PathBuf,
        tools: Tools,
        stop: CancellationToken,
    ) -> Opened {
        let (queue, work_rx) = indexer::Queue::new();
        let (added, added_rx) = mpsc::unbounded_channel();
        let (probed, probed_rx) = mpsc::unbounded_channel();
        let thumbs = state_dir.join("thumbs");
        let (scanned, cache, posters) = {
            let (root, state_dir, thumbs) = (root.clone(), state_dir.clone(), thumbs.clone());
            crate::fsutil::blocking(move || {
                let posters = posters_in(&thumbs);
                let cache = MetaCache::load(&state_dir);
                (scan(&root, &state_dir), cache, posters)
            })
            .await
            .expect("the start-up scan panicked")
        };
        let channels = super::Channels { added, probed };
        let lib = Arc::new(Library::empty(root, thumbs.clone(), cache, queue, channels));
        let todo = lib.fill(scanned.videos, scanned.folders, &posters);
        tracing::info!(
            "library: {} videos, {} to probe, {} posters to make",
            lib.len(),
            todo.probes,
            todo.posters
        );
        for w in todo.work {
            lib.queue.push(w);
        }
        let indexer = tokio::spawn(indexer::run(lib.clone(), tools, thumbs, work_rx, stop));
        Opened {
            library: lib,
            indexer,
            leftovers: scanned.leftovers,
            added: added_rx,
            probed: probed_rx,
        }
    }

    /// The index from a scan: metadata from the cache where the file is
    /// unchanged, its poster if made. Returns what the indexer must do:
    /// probe new or changed files, make missing posters, drop stale ones.
    fn fill(&self, videos: Vec<Found>, folders: Vec<String>, posters: &HashSet<u64>) -> Todo {
        let mut todo = Todo::default();
        let mut cache = self.cache.locked();
        let mut index = self.index.writing();
        for f in videos {
            let mut v = Video::from_found(f);
            match cache.get(&v.path, v.size, v.modified) {
                Some(c) => {
                    v.meta = c.meta.clone();
                    v.error = c.error.clone();
                    let id = poster_id(&v.path, v.size, v.modified);
                    if posters.contains(&id) {
                        v.thumb = Some(id);
                    } else if v.meta.as_ref().is_some_and(|m| m.width.is_some())
                        && !c.poster_failed
                        && v.kind != Kind::Convert
                    {
                        todo.posters += 1;
                        todo.work.push(Work::Poster(v.path.clone()));
                    }
                }
                None => {
                    todo.probes += 1;
                    todo.work.push(Work::Probe(v.path.clone()));
                }
            }
            index.videos.insert(v.path.clone(), v);
        }
        index.folders = folders.into_iter().collect();
        cache.retain(|p| index.videos.contains_key(p));
        // Posters of files that are gone or changed.
        let used: HashSet<u64> = index.videos.values().filter_map(|v| v.thumb).collect();
        todo.work.extend(
            posters
                .iter()
                .filter(|id| !used.contains(id))
                .map(|id| Work::DropPoster(*id)),
        );
        todo
    }
}
