//! The media index: what videos exist, their metadata, and how to list them.
//! Kept in memory and updated in place; requests never walk the disk.

mod cache;
mod scan;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::media::{self, Kind, Meta, Probe, Tools};
pub use cache::{Cached, MetaCache};
pub use scan::{found_file, scan, Found};

/// One video in the library.
#[derive(Debug, Clone, Serialize)]
pub struct Video {
    /// Relative to the media dir, `/`-separated.
    pub path: String,
    pub title: String,
    pub size: u64,
    /// Unix seconds.
    pub modified: i64,
    pub kind: Kind,
    pub meta: Option<Meta>,
    /// Why ffprobe could not read it, when it could not.
    pub error: Option<String>,
}

impl Video {
    fn from_found(f: Found) -> Video {
        Video {
            title: title_of(&f.path),
            path: f.path,
            size: f.size,
            modified: f.modified,
            kind: f.kind,
            meta: None,
            error: None,
        }
    }

    pub fn folder(&self) -> &str {
        self.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
    }
}

/// A human title from a file name: the stem, underscores as spaces.
pub fn title_of(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    let t = stem.replace('_', " ");
    if t.trim().is_empty() {
        name.to_string()
    } else {
        t
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sort {
    #[default]
    Name,
    Date,
}

#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Folder to list, relative, no trailing slash; empty for the root.
    pub dir: String,
    pub search: String,
    pub sort: Sort,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub folders: Vec<String>,
    pub videos: Vec<Video>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
}

type SortedCache = (u64, HashMap<(String, Sort), Arc<Vec<String>>>);

#[derive(Default)]
struct Index {
    videos: BTreeMap<String, Video>,
    folders: BTreeSet<String>,
}

pub struct Library {
    root: PathBuf,
    /// Source -> the MP4 a remux made of it: they show as one entry.
    remuxed: RwLock<HashMap<String, String>>,
    /// Bumped on every change of membership or order.
    generation: AtomicU64,
    /// (generation, (folder prefix, sort) -> ordered paths).
    sorted: Mutex<SortedCache>,
    leftovers: Mutex<Vec<PathBuf>>,
    index: RwLock<Index>,
    cache: Mutex<MetaCache>,
    probe_tx: mpsc::UnboundedSender<String>,
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
    ) -> (Arc<Library>, tokio::task::JoinHandle<()>) {
        let (probe_tx, probe_rx) = mpsc::unbounded_channel();
        let (scanned, cache) = {
            let (root, state_dir) = (root.clone(), state_dir.clone());
            tokio::task::spawn_blocking(move || {
                (scan(&root, &state_dir), MetaCache::load(&state_dir))
            })
            .await
            .expect("scan task panicked")
        };
        let lib = Arc::new(Library {
            root,
            remuxed: RwLock::new(Default::default()),
            generation: AtomicU64::new(0),
            sorted: Mutex::new(Default::default()),
            leftovers: Mutex::new(scanned.leftovers),
            index: RwLock::new(Index::default()),
            cache: Mutex::new(cache),
            probe_tx,
        });
        let mut to_probe = Vec::new();
        {
            let mut cache = lib.cache.lock().unwrap();
            let mut index = lib.index.write().unwrap();
            for f in scanned.videos {
                let mut v = Video::from_found(f);
                match cache.get(&v.path, v.size, v.modified) {
                    Some(c) => {
                        v.meta = c.meta.clone();
                        v.error = c.error.clone();
                    }
                    None => to_probe.push(v.path.clone()),
                }
                index.videos.insert(v.path.clone(), v);
            }
            index.folders = scanned.folders.into_iter().collect();
            cache.retain(|p| index.videos.contains_key(p));
        }
        tracing::info!("library: {} videos, {} to probe", lib.len(), to_probe.len());
        for p in to_probe {
            let _ = lib.probe_tx.send(p);
        }
        let worker = tokio::spawn(prober(lib.clone(), tools, probe_rx, stop));
        (lib, worker)
    }

    /// pimedia's own temp files the start-up scan found (taken once).
    pub fn take_leftovers(&self) -> Vec<PathBuf> {
        std::mem::take(&mut self.leftovers.lock().unwrap())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn len(&self) -> usize {
        self.index.read().unwrap().videos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, path: &str) -> Option<Video> {
        self.index.read().unwrap().videos.get(path).cloned()
    }

    /// Every folder, for the upload page's folder choice.
    pub fn folders(&self) -> Vec<String> {
        self.index.read().unwrap().folders.iter().cloned().collect()
    }

    pub fn has_folder(&self, dir: &str) -> bool {
        dir.is_empty() || self.index.read().unwrap().folders.contains(dir)
    }

    /// Adds or refreshes a file that appeared (upload, remux output, watcher)
    /// and queues it for probing unless its metadata is already known.
    pub fn add(&self, found: Found, probe: Option<Probe>) {
        let mut v = Video::from_found(found);
        let needs_probe = probe.is_none();
        if let Some(p) = probe {
            let m = p.meta();
            self.cache.lock().unwrap().put(
                v.path.clone(),
                Cached {
                    size: v.size,
                    modified: v.modified,
                    meta: Some(m.clone()),
                    error: None,
                    probe: Some(p),
                },
            );
            v.meta = Some(m);
        }
        let path = v.path.clone();
        {
            let mut index = self.index.write().unwrap();
            let mut dir = v.folder().to_string();
            while !dir.is_empty() {
                index.folders.insert(dir.clone());
                dir = dir.rsplit_once('/').map(|(d, _)| d).unwrap_or("").into();
            }
            index.videos.insert(path.clone(), v);
        }
        self.changed();
        if needs_probe {
            let _ = self.probe_tx.send(path);
        }
    }

    /// Records that `source` was remuxed to `output`.
    pub fn set_remuxed(&self, source: &str, output: &str) {
        self.remuxed
            .write()
            .unwrap()
            .insert(source.to_string(), output.to_string());
        self.changed();
    }

    /// Forgets a file that is gone from disk.
    pub fn remove(&self, path: &str) {
        self.index.write().unwrap().videos.remove(path);
        self.cache.lock().unwrap().remove(path);
        self.changed();
    }

    /// One page of the library as the pages and the API show it.
    pub fn list(&self, q: &Query) -> Listing {
        let prefix = if q.dir.is_empty() {
            String::new()
        } else {
            format!("{}/", q.dir)
        };
        let needle = q.search.trim().to_lowercase();
        let paths = if needle.is_empty() {
            self.sorted_folder(&prefix, q.sort)
        } else {
            let index = self.index.read().unwrap();
            let remuxed = self.remuxed.read().unwrap();
            Arc::new(select(&index, &remuxed, &prefix, &needle, q.sort))
        };
        let index = self.index.read().unwrap();
        let folders: Vec<String> = if needle.is_empty() {
            index
                .folders
                .range(prefix.clone()..)
                .take_while(|f| f.starts_with(&prefix))
                .filter(|f| !f[prefix.len()..].contains('/'))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let per_page = q.per_page.max(1);
        let total = paths.len();
        let pages = total.div_ceil(per_page).max(1);
        let page = q.page.clamp(1, pages);
        let videos = paths
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .filter_map(|p| index.videos.get(p).cloned())
            .collect();
        Listing {
            folders,
            videos,
            total,
            page,
            pages,
        }
    }

    /// One folder's videos in order, computed once per library change:
    /// sorting 10,000 titles on every request would dominate GET /.
    fn sorted_folder(&self, prefix: &str, sort: Sort) -> Arc<Vec<String>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let key = (prefix.to_string(), sort);
        {
            let cache = self.sorted.lock().unwrap();
            if cache.0 == generation {
                if let Some(list) = cache.1.get(&key) {
                    return list.clone();
                }
            }
        }
        let list = {
            let index = self.index.read().unwrap();
            let remuxed = self.remuxed.read().unwrap();
            Arc::new(select(&index, &remuxed, prefix, "", sort))
        };
        let mut cache = self.sorted.lock().unwrap();
        if cache.0 != generation || cache.1.len() > 256 {
            *cache = (generation, HashMap::new());
        }
        cache.1.insert(key, list.clone());
        list
    }

    /// Something was added, removed or replaced: cached orders are stale.
    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Every video, for the JSON API.
    pub fn all(&self) -> Vec<Video> {
        let index = self.index.read().unwrap();
        let remuxed = self.remuxed.read().unwrap();
        index
            .videos
            .values()
            .filter(|v| !is_superseded(&index.videos, &remuxed, v))
            .cloned()
            .collect()
    }

    /// `name.*.vtt` and `name.vtt` beside a video, as (path, language).
    pub fn subtitles_for(&self, video: &str) -> Vec<(String, Option<String>)> {
        let (dir, name) = video.rsplit_once('/').unwrap_or(("", video));
        let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
        let folder = if dir.is_empty() {
            self.root.clone()
        } else {
            self.root.join(dir)
        };
        let Ok(entries) = std::fs::read_dir(folder) else {
            return Vec::new();
        };
        let mut out: Vec<(String, Option<String>)> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| {
                let middle = n.strip_prefix(stem)?.strip_suffix(".vtt")?;
                let lang = match middle {
                    "" => None,
                    m => Some(m.strip_prefix('.')?.to_string()),
                };
                let path = if dir.is_empty() {
                    n.clone()
                } else {
                    format!("{dir}/{n}")
                };
                Some((path, lang))
            })
            .collect();
        out.sort();
        out
    }

    /// What ffprobe said about `path`, if it was said about the file as
    /// it is now (same size and mtime).
    pub fn probe_of(&self, path: &str) -> Option<Probe> {
        let v = self.get(path)?;
        let cache = self.cache.lock().unwrap();
        cache.get(path, v.size, v.modified)?.probe.clone()
    }

    fn record_probe(&self, path: &str, size: u64, modified: i64, result: Result<Probe, String>) {
        let (meta, error, probe) = match result {
            Ok(p) => (Some(p.meta()), None, Some(p)),
            Err(e) => (None, Some(e), None),
        };
        {
            let mut index = self.index.write().unwrap();
            match index.videos.get_mut(path) {
                Some(v) if v.size == size && v.modified == modified => {
                    v.meta = meta.clone();
                    v.error = error.clone();
                }
                _ => return,
            }
        }
        self.cache.lock().unwrap().put(
            path.to_string(),
            Cached {
                size,
                modified,
                meta,
                error,
                probe,
            },
        );
    }

    /// Writes the metadata cache if it changed. Blocking.
    pub fn save_cache(&self) {
        let snapshot = self.cache.lock().unwrap().take_snapshot();
        if let Some((file, bytes)) = snapshot {
            if let Err(e) = crate::fsutil::write_atomic(&file, &bytes) {
                tracing::warn!("could not save the metadata cache {}: {e}", file.display());
            }
        }
    }
}

/// The paths of the videos in `prefix` (only directly in it unless
/// searching for `needle`), in the order asked for.
fn select(
    index: &Index,
    remuxed: &HashMap<String, String>,
    prefix: &str,
    needle: &str,
    sort: Sort,
) -> Vec<String> {
    let searching = !needle.is_empty();
    let mut videos: Vec<&Video> = index
        .videos
        .range(prefix.to_string()..)
        .take_while(|(p, _)| p.starts_with(prefix))
        .map(|(_, v)| v)
        .filter(|v| searching || !v.path[prefix.len()..].contains('/'))
        .filter(|v| !is_superseded(&index.videos, remuxed, v))
        .filter(|v| {
            !searching
                || v.title.to_lowercase().contains(needle)
                || v.path.to_lowercase().contains(needle)
        })
        .collect();
    match sort {
        Sort::Name => videos.sort_by_cached_key(|v| (v.title.to_lowercase(), v.path.clone())),
        Sort::Date => videos.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.path.cmp(&b.path))),
    }
    videos.into_iter().map(|v| v.path.clone()).collect()
}

/// A remux source whose MP4 exists is shown as that MP4 only.
fn is_superseded(
    videos: &BTreeMap<String, Video>,
    remuxed: &HashMap<String, String>,
    v: &Video,
) -> bool {
    if v.kind != Kind::NeedsRemux {
        return false;
    }
    if remuxed
        .get(&v.path)
        .is_some_and(|out| videos.contains_key(out))
    {
        return true;
    }
    let stem = v.path.rsplit_once('.').map(|(s, _)| s).unwrap_or(&v.path);
    videos.contains_key(&format!("{stem}.mp4"))
}

/// Probes queued files one at a time, off the async workers, and saves the
/// cache when the queue runs dry (and every 100 files on a long first scan).
async fn prober(
    lib: Arc<Library>,
    tools: Tools,
    mut rx: mpsc::UnboundedReceiver<String>,
    stop: CancellationToken,
) {
    let mut since_save = 0usize;
    loop {
        let path = tokio::select! {
            _ = stop.cancelled() => break,
            p = rx.recv() => match p { Some(p) => p, None => break },
        };
        let Some(ffprobe) = tools.ffprobe.clone() else {
            continue;
        };
        let file = lib.root.join(&path);
        let rel = path.clone();
        let result = tokio::task::spawn_blocking(move || {
            let found = found_file(&file, rel)?;
            let probed = media::probe(&ffprobe, &file).map_err(|e| e.to_string());
            Some((found, probed))
        })
        .await;
        if let Ok(Some((found, probed))) = result {
            if let Err(e) = &probed {
                tracing::warn!("{path}: {e}");
            }
            lib.record_probe(&path, found.size, found.modified, probed);
            since_save += 1;
        }
        if since_save > 0 && (rx.is_empty() || since_save >= 100) {
            since_save = 0;
            let lib = lib.clone();
            let _ = tokio::task::spawn_blocking(move || lib.save_cache()).await;
        }
    }
    let _ = tokio::task::spawn_blocking(move || lib.save_cache()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib_with(paths: &[(&str, i64)]) -> Library {
        let (tx, _rx) = mpsc::unbounded_channel();
        let dir = std::env::temp_dir();
        let lib = Library {
            root: dir.clone(),
            remuxed: RwLock::new(Default::default()),
            generation: AtomicU64::new(0),
            sorted: Mutex::new(Default::default()),
            leftovers: Mutex::new(Vec::new()),
            index: RwLock::new(Index::default()),
            cache: Mutex::new(MetaCache::load(&dir.join("pimedia-unit-none"))),
            probe_tx: tx,
        };
        for (p, m) in paths {
            lib.add(
                Found {
                    path: p.to_string(),
                    size: 1,
                    modified: *m,
                    kind: media::kind_of(Path::new(p)).unwrap(),
                },
                None,
            );
        }
        lib
    }

    fn q(dir: &str, search: &str, sort: Sort, page: usize) -> Query {
        Query {
            dir: dir.into(),
            search: search.into(),
            sort,
            page,
            per_page: 2,
        }
    }

    #[test]
    fn lists_one_folder_with_subfolders_and_pages() {
        let lib = lib_with(&[
            ("b.mp4", 3),
            ("a.mp4", 1),
            ("c.mkv", 2),
            ("Kids/x.mp4", 1),
            ("Kids/Deep/y.mp4", 1),
        ]);
        let l = lib.list(&q("", "", Sort::Name, 1));
        assert_eq!(l.folders, vec!["Kids"]);
        assert_eq!(l.total, 3);
        assert_eq!(l.pages, 2);
        let names: Vec<_> = l.videos.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(names, ["a.mp4", "b.mp4"]);
        let l = lib.list(&q("", "", Sort::Date, 1));
        assert_eq!(l.videos[0].path, "b.mp4");
        let l = lib.list(&q("Kids", "", Sort::Name, 1));
        assert_eq!(l.folders, vec!["Kids/Deep"]);
        assert_eq!(l.videos.len(), 1);
        let l = lib.list(&q("", "Y", Sort::Name, 1));
        assert_eq!(l.videos[0].path, "Kids/Deep/y.mp4");
    }

    #[test]
    fn a_remuxed_source_shows_as_its_mp4() {
        let lib = lib_with(&[("film.mkv", 1), ("film.mp4", 2), ("other.mkv", 1)]);
        let l = lib.list(&q("", "", Sort::Name, 1));
        let names: Vec<_> = l.videos.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(names, ["film.mp4", "other.mkv"]);
    }

    #[test]
    fn titles() {
        assert_eq!(title_of("a/My_Film.2020.mkv"), "My Film.2020");
        assert_eq!(title_of(".mp4"), ".mp4");
    }
}
