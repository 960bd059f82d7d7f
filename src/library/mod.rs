//! The media index: what videos exist, their metadata, and how to list them.
//! Kept in memory and updated in place: listing pages and the API never
//! walk the disk (the player reads its video's folder once, for subtitles).

mod cache;
mod indexer;
mod listing;
mod moves;
mod open;
mod scan;
pub mod title;

use crate::sync::{Locked, Shared};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::media::{Kind, Meta, Probe};
pub use cache::{Cached, MetaCache};
use indexer::Work;
pub use indexer::{parse_poster_name, poster_id, poster_name};
use listing::{is_superseded, source_of};
pub use listing::{Listing, Query, Sort, Within};
pub use open::Opened;
pub use scan::{found_file, scan, Found};

/// One video in the library.
#[derive(Debug, Clone, Serialize)]
pub struct Video {
    /// Relative to the media dir, `/`-separated.
    pub path: String,
    pub size: u64,
    /// Unix seconds.
    pub modified: i64,
    pub kind: Kind,
    /// Shared with the metadata cache: one copy per file.
    pub meta: Option<Arc<Meta>>,
    /// Why ffprobe could not read it, when it could not.
    pub error: Option<String>,
    /// The poster's id (see [`poster_name`]), once made.
    pub thumb: Option<u64>,
    /// Its path as the disk spells it when that is not UTF-8 (see
    /// [`Found::disk`]).
    #[serde(skip)]
    pub disk: Option<std::ffi::OsString>,
}

impl Video {
    fn from_found(f: Found) -> Video {
        Video {
            path: f.path,
            size: f.size,
            modified: f.modified,
            kind: f.kind,
            meta: None,
            error: None,
            thumb: None,
            disk: f.disk,
        }
    }

    /// The title shown for it, from the file name, or the file's own
    /// title or date when the name is a camera's (not stored: 10,000 of
    /// them would cost a megabyte).
    pub fn title(&self) -> String {
        let meta = self.meta.as_deref();
        title::title(
            &self.path,
            meta.and_then(|m| m.title.as_deref()),
            meta.and_then(|m| m.created.as_deref()),
        )
    }

    pub fn folder(&self) -> &str {
        self.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
    }
}

/// A human title from a file name alone (see [`title::title`]; a TV
/// version `clip.tv.mp4` is titled as its source `clip.mp4`).
pub fn title_of(path: &str) -> String {
    title::title(path, None, None)
}

type SortedCache = (u64, HashMap<(String, Sort), Arc<Vec<String>>>);

#[derive(Default)]
struct Index {
    videos: BTreeMap<String, Video>,
    folders: BTreeSet<String>,
    /// Source -> the MP4 a remux made of it: they show as one entry.
    remuxed: HashMap<String, String>,
    /// Remux sources whose conversion ended without an MP4, or whose MP4
    /// went: they show as themselves, so only they get a poster of their
    /// own (any other source's poster would be thrown away with it, and
    /// making it would slow its remux).
    stays: HashSet<String>,
}

impl Index {
    /// The paths of every video under `prefix` (a folder ending in `/`).
    fn paths_under(&self, prefix: &str) -> Vec<String> {
        self.videos
            .range(prefix.to_string()..)
            .take_while(|(p, _)| p.starts_with(prefix))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Records `dir` and every folder above it.
    fn add_folder(&mut self, dir: &str) {
        let mut d = dir;
        while !d.is_empty() {
            self.folders.insert(d.to_string());
            d = d.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        }
    }
}

/// The index: videos, folders, and which entry each remux source shows as.
///
/// Locks: `index` and `cache` are never held together, except in `open`
/// (cache, then index); `sorted` is taken alone. The indexer's queue has
/// its own lock, taken alone.
/// A WebVTT file beside a video.
#[derive(Debug, Clone, PartialEq)]
pub struct SubtitleFile {
    pub path: String,
    pub language: Option<String>,
    /// Only the lines not in the film's own language.
    pub forced: bool,
    /// Read by OCR from picture subtitles.
    pub from_pictures: bool,
}

pub struct Library {
    root: PathBuf,
    index: RwLock<Index>,
    /// Bumped on every change of membership or order.
    generation: AtomicU64,
    /// (generation, (folder prefix, sort) -> ordered paths).
    sorted: Mutex<SortedCache>,
    /// What ffprobe said of each file as it was (saved in the state dir).
    cache: Mutex<MetaCache>,
    /// Probes and posters to make, owned by the indexer task.
    queue: indexer::Queue,
    /// `<state-dir>/thumbs`: posters named by [`poster_id`].
    thumbs: PathBuf,
    /// Every path `add`ed, for the watcher: the debouncer drops a create
    /// and a delete that fall in one window, and pimedia's own files enter
    /// the library without an event, so it checks each is still there.
    added: mpsc::UnboundedSender<String>,
    /// Every path ffprobe has just read, for intake to decide whether it
    /// needs a conversion.
    probed: mpsc::UnboundedSender<String>,
}

/// The library's news for the rest of the server.
pub struct Channels {
    pub added: mpsc::UnboundedSender<String>,
    pub probed: mpsc::UnboundedSender<String>,
}

impl Library {
    fn empty(
        root: PathBuf,
        thumbs: PathBuf,
        cache: MetaCache,
        queue: indexer::Queue,
        channels: Channels,
    ) -> Library {
        Library {
            root,
            index: RwLock::new(Index::default()),
            generation: AtomicU64::new(0),
            sorted: Mutex::new(Default::default()),
            cache: Mutex::new(cache),
            queue,
            thumbs,
            added: channels.added,
            probed: channels.probed,
        }
    }

    /// An empty library of `root`, for unit tests elsewhere: nothing
    /// probes, and posters are never made.
    #[cfg(test)]
    pub(crate) fn for_tests(root: PathBuf) -> Library {
        let (queue, _work) = indexer::Queue::new();
        let channels = Channels {
            added: mpsc::unbounded_channel().0,
            probed: mpsc::unbounded_channel().0,
        };
        let none = root.join(".pimedia-unit-none");
        Library::empty(root, none.clone(), MetaCache::load(&none), queue, channels)
    }

    /// Whether `v` should have a poster made now (see `Index::stays`).
    pub(super) fn wants_poster(&self, v: &Video) -> bool {
        v.kind != Kind::Convert || self.index.reading().stays.contains(&v.path)
    }

    /// A remux source stays in the library as it is: its conversion ended
    /// without an MP4 (failed, cancelled, needs a transcode), or its MP4 was
    /// deleted. So it gets a poster.
    pub fn source_stays(&self, path: &str) {
        let needs_poster = {
            let mut index = self.index.writing();
            index.stays.insert(path.to_string());
            index.videos.get(path).is_some_and(|v| v.thumb.is_none())
        };
        if needs_poster {
            self.queue.push(Work::Poster(path.to_string()));
        }
    }

    /// `path` is a remux source whose MP4 exists: it shows as that MP4, and
    /// needs no job.
    pub fn is_superseded(&self, path: &str) -> bool {
        let index = self.index.reading();
        index
            .videos
            .get(path)
            .is_some_and(|v| is_superseded(&index.videos, &index.remuxed, v))
    }

    /// The playable entry a source shows as, once its TV version is made
    /// (`Film.mkv` -> `Film.mp4`); `None` while it is an entry itself.
    pub fn shown_as(&self, path: &str) -> Option<String> {
        let index = self.index.reading();
        let v = index.videos.get(path)?;
        if !is_superseded(&index.videos, &index.remuxed, v) {
            return None;
        }
        let out = index
            .remuxed
            .get(path)
            .filter(|o| index.videos.contains_key(*o))
            .cloned()
            .unwrap_or_else(|| crate::media::made::tv_version(path));
        index.videos.contains_key(&out).then_some(out)
    }

    /// The video `path` was made from, when it is a playable MP4 pimedia
    /// made (so the player can offer the original for download).
    pub fn source_of(&self, path: &str) -> Option<String> {
        let index = self.index.reading();
        source_of(&index.videos, &index.remuxed, path)
    }

    /// `path` is a playable MP4 pimedia made from another video.
    pub fn is_output(&self, path: &str) -> bool {
        self.source_of(path).is_some()
    }

    /// Returns once ffprobe has run on `path`, if it was queued or running.
    pub async fn wait_for_probe(&self, path: &str) {
        self.queue.wait_for_probe(path).await
    }

    /// Records what ffprobe said about a file as it is now, when someone
    /// other than the library ran it (a conversion job).
    pub fn record_probe_of(&self, path: &str, probe: Probe) {
        if let Some(v) = self.get(path) {
            self.record_probe(path, v.size, v.modified, Ok(probe));
        }
    }

    /// Where a poster lives, for a name from a URL, if it is one.
    pub fn poster_file(&self, name: &str) -> Option<PathBuf> {
        parse_poster_name(name).map(|id| self.poster_path(id))
    }

    fn poster_path(&self, id: u64) -> PathBuf {
        self.thumbs.join(format!("{}.jpg", poster_name(id)))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn len(&self) -> usize {
        self.index.reading().videos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, path: &str) -> Option<Video> {
        self.index.reading().videos.get(path).cloned()
    }

    /// The audio tracks of a library MP4 in file order: what a version
    /// with another of them first is made of (none for another container,
    /// or before it is probed).
    pub fn mp4_audio_tracks(&self, path: &str) -> Vec<crate::media::Stream> {
        if crate::media::content_type(Path::new(path)) != "video/mp4" {
            return Vec::new();
        }
        self.probe_of(path)
            .map(|p| p.audio_tracks().cloned().collect())
            .unwrap_or_default()
    }

    /// How the disk spells a video's path, when that is not its path
    /// (a name that is not UTF-8).
    pub fn disk_spelling(&self, path: &str) -> Option<std::ffi::OsString> {
        self.index.reading().videos.get(path)?.disk.clone()
    }

    /// Every video's path, superseded sources included (for the rescan).
    pub fn all_paths(&self) -> Vec<String> {
        self.index.reading().videos.keys().cloned().collect()
    }

    /// Every folder, for the upload page's folder choice.
    pub fn folders(&self) -> Vec<String> {
        self.index.reading().folders.iter().cloned().collect()
    }

    pub fn has_folder(&self, dir: &str) -> bool {
        dir.is_empty() || self.index.reading().folders.contains(dir)
    }

    /// Adds or refreshes a file that appeared (upload, remux output, watcher)
    /// and queues it for probing unless its metadata is already known.
    pub fn add(&self, found: Found, probe: Option<Probe>) {
        let mut v = Video::from_found(found);
        let needs_probe = probe.is_none();
        let has_video = probe.as_ref().is_some_and(|p| p.video().is_some());
        if let Some(p) = probe {
            let m = Arc::new(p.meta());
            self.cache.locked().put(
                v.path.clone(),
                Cached {
                    size: v.size,
                    modified: v.modified,
                    meta: Some(m.clone()),
                    error: None,
                    probe: Some(p),
                    poster_failed: false,
                    version: 0,
                },
            );
            v.meta = Some(m);
        }
        let path = v.path.clone();
        {
            let mut index = self.index.writing();
            index.add_folder(v.folder());
            index.videos.insert(path.clone(), v);
        }
        let _ = self.added.send(path.clone());
        self.changed();
        if needs_probe {
            self.queue.push(Work::Probe(path));
        } else if has_video {
            self.queue.push(Work::Poster(path));
        }
    }

    /// Has the file at `path` judged again (what it needs, its versions)
    /// as when ffprobe has just read it: a TV version a job placed.
    pub fn judge_again(&self, path: &str) {
        let _ = self.probed.send(path.to_string());
    }

    /// Records that `source` was remuxed to `output`. An `output` the
    /// library does not hold was deleted (while pimedia was not running),
    /// so the source stays as it is, as when it is deleted later.
    pub fn set_remuxed(&self, source: &str, output: &str) {
        {
            let mut index = self.index.writing();
            if index.videos.contains_key(output) {
                index.remuxed.insert(source.to_string(), output.to_string());
                drop(index);
                self.changed();
                return;
            }
        }
        self.source_stays(source);
    }

    /// Forgets a file that is gone from disk.
    pub fn remove(&self, path: &str) {
        let (gone, sources) = {
            let mut index = self.index.writing();
            let gone = index.videos.remove(path);
            let sources: Vec<String> = index
                .remuxed
                .iter()
                .filter(|(_, out)| *out == path)
                .map(|(source, _)| source.clone())
                .collect();
            (gone, sources)
        };
        self.cache.locked().remove(path);
        if let Some(id) = gone.and_then(|v| v.thumb) {
            self.queue.push(Work::DropPoster(id));
        }
        for source in sources {
            self.source_stays(&source);
        }
        self.changed();
    }

    /// Every video, for the JSON API.
    pub fn all(&self) -> Vec<Video> {
        let index = self.index.reading();
        index
            .videos
            .values()
            .filter(|v| !is_superseded(&index.videos, &index.remuxed, v))
            .cloned()
            .collect()
    }

    /// `name.*.vtt` and `name.vtt` beside a video, each with its language
    /// (the name's first part: `eng` of `name.eng.2.vtt`) and, from its
    /// first lines, whether it was read from picture subtitles.
    pub fn subtitles_for(&self, video: &str) -> Vec<SubtitleFile> {
        let (dir, name) = video.rsplit_once('/').unwrap_or(("", video));
        let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
        let on_disk = crate::paths::on_disk(&self.root, dir);
        let Ok(entries) = std::fs::read_dir(&on_disk) else {
            return Vec::new();
        };
        let mut out: Vec<SubtitleFile> = entries
            .flatten()
            .map(|e| crate::paths::readable(&e.file_name()).into_owned())
            .filter_map(|n| {
                let middle = crate::media::made::subtitles_suffix(&n, stem)?;
                let origin = crate::media::ocr::origin_of(&on_disk.join(&n));
                let path = if dir.is_empty() {
                    n.clone()
                } else {
                    format!("{dir}/{n}")
                };
                Some(SubtitleFile {
                    path,
                    language: middle
                        .and_then(|m| m.split('.').next())
                        .filter(|l| *l != "forced" && l.parse::<u32>().is_err())
                        .map(str::to_string),
                    forced: origin.is_some_and(|o| o.forced)
                        || middle.is_some_and(|m| m.split('.').any(|p| p == "forced")),
                    from_pictures: origin.is_some(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// What ffprobe said about `path`, if it was said about the file as
    /// it is now (same size and mtime).
    pub fn probe_of(&self, path: &str) -> Option<Probe> {
        let v = self.get(path)?;
        let cache = self.cache.locked();
        cache.get(path, v.size, v.modified)?.probe.clone()
    }

    /// Forgets every video under a folder that is gone, and the folder.
    pub fn remove_folder(&self, dir: &str) {
        let prefix = format!("{dir}/");
        let paths: Vec<String> = {
            let mut index = self.index.writing();
            index
                .folders
                .retain(|f| f != dir && !f.starts_with(&prefix));
            index.paths_under(&prefix)
        };
        for p in paths {
            self.remove(&p);
        }
        self.changed();
    }

    /// A folder appeared (the watcher); its files arrive one by one.
    pub fn add_folder(&self, dir: &str) {
        self.index.writing().add_folder(dir);
    }

    /// A file was renamed: its entry moves, keeping what ffprobe said.
    /// Returns false when `from` was not in the library.
    pub fn rename(&self, from: &str, found: Found) -> bool {
        let Some(old) = self.get(from) else {
            return false;
        };
        let probe = {
            let cache = self.cache.locked();
            cache
                .get(from, old.size, old.modified)
                .filter(|_| old.size == found.size)
                .and_then(|c| c.probe.clone())
        };
        self.remove(from);
        self.add(found, probe);
        true
    }

    fn record_poster(&self, path: &str, size: u64, modified: i64, id: Option<u64>) {
        if let Some(c) = self.cache.locked().get_mut(path, size, modified) {
            c.poster_failed = id.is_none();
        }
        let mut index = self.index.writing();
        match index.videos.get_mut(path) {
            Some(v) if v.size == size && v.modified == modified => v.thumb = id,
            // The file went or changed while its poster was being made.
            _ => {
                if let Some(id) = id {
                    self.queue.push(Work::DropPoster(id));
                }
            }
        }
    }

    fn record_probe(&self, path: &str, size: u64, modified: i64, result: Result<Probe, String>) {
        self.queue.probe_finished(path);
        let (meta, error, probe) = match result {
            Ok(p) => (Some(Arc::new(p.meta())), None, Some(p)),
            Err(e) => (None, Some(e), None),
        };
        let readable = probe.is_some();
        {
            let mut index = self.index.writing();
            match index.videos.get_mut(path) {
                Some(v) if v.size == size && v.modified == modified => {
                    v.meta = meta.clone();
                    v.error = error.clone();
                }
                _ => return,
            }
        }
        self.cache.locked().put(
            path.to_string(),
            Cached {
                size,
                modified,
                meta,
                error,
                probe,
                poster_failed: false,
                version: 0,
            },
        );
        if readable {
            let _ = self.probed.send(path.to_string());
        }
    }

    /// Writes the metadata cache if it changed. Blocking.
    pub fn save_cache(&self) {
        let snapshot = self.cache.locked().take_snapshot();
        if let Some((file, bytes)) = snapshot {
            if let Err(e) = crate::fsutil::write_atomic(&file, &bytes) {
                tracing::warn!("could not save the metadata cache {}: {e}", file.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib_with(paths: &[(&str, i64)]) -> Library {
        let (queue, _work) = indexer::Queue::new();
        let channels = Channels {
            added: mpsc::unbounded_channel().0,
            probed: mpsc::unbounded_channel().0,
        };
        let dir = std::env::temp_dir();
        let none = dir.join("pimedia-unit-none");
        let lib = Library::empty(dir, none.clone(), MetaCache::load(&none), queue, channels);
        for (p, m) in paths {
            lib.add(
                Found {
                    path: p.to_string(),
                    size: 1,
                    modified: *m,
                    kind: crate::media::kind_of(Path::new(p)).unwrap(),
                    disk: None,
                },
                None,
            );
        }
        lib
    }

    fn q(dir: &str, search: &str, sort: Sort, page: usize) -> Query {
        Query {
            within: Within::default(),
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
        assert_eq!(title_of("a/My_Film.2020.mkv"), "My Film (2020)");
        assert_eq!(title_of(".mp4"), ".mp4");
        assert_eq!(title_of("Kids/Birthday.tv.mp4"), "Birthday");
    }
}
