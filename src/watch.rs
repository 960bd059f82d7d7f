//! The watch folder: files copied in by scp, SMB or a USB stick join the
//! library once they stop changing; renames move entries; deletes remove
//! them. A periodic scan catches what events miss (network file systems,
//! an overflowed event queue, the inotify watch limit).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind, RenameMode};
use notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::fsutil::blocking;
use crate::intake::Intake;
use crate::library::{found_file, scan, Found, Library};
use crate::media::kind_of;
use crate::paths::check_relative;

/// A file must keep its size and mtime this long before it is probed.
const STABLE: Duration = Duration::from_secs(2);
/// ...or this long while a writer still has it open (no close-write yet).
const STABLE_OPEN: Duration = Duration::from_secs(30);
const TICK: Duration = Duration::from_millis(500);
/// A file the library took in is checked for once its events are surely
/// here (the debouncer waits 500 ms, then one tick).
const FRESH_CHECK: Duration = Duration::from_secs(2);
/// Full scans: a safety net with events, the only way without them.
const SCAN_WITH_EVENTS: Duration = Duration::from_secs(600);
const SCAN_WITHOUT_EVENTS: Duration = Duration::from_secs(30);

/// A file seen changing, waiting to settle.
struct Candidate {
    size: u64,
    modified: Option<SystemTime>,
    since: Instant,
    /// Written to and not closed yet, as far as events tell.
    writing: bool,
}

pub struct Watcher {
    root: PathBuf,
    state_dir: PathBuf,
    library: Arc<Library>,
    intake: Arc<Intake>,
    candidates: HashMap<PathBuf, Candidate>,
    /// Files the library took in, with when: each is looked for once its
    /// events are surely here (see `check_fresh`).
    fresh: Vec<(String, Instant)>,
}

/// Starts watching `root`; the task stops with `stop`.
pub fn start(
    library: Arc<Library>,
    intake: Arc<Intake>,
    added: mpsc::UnboundedReceiver<String>,
    state_dir: PathBuf,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let root = library.root().to_path_buf();
    let (tx, rx) = mpsc::unbounded_channel::<DebounceEventResult>();
    let debouncer = new_debouncer(Duration::from_millis(500), None, move |r| {
        let _ = tx.send(r);
    })
    .and_then(|mut d| d.watch(&root, RecursiveMode::Recursive).map(|_| d));
    let (debouncer, scan_every) = match debouncer {
        Ok(d) => (Some(d), SCAN_WITH_EVENTS),
        Err(e) => {
            if watch_limit_reached(&e) {
                tracing::warn!(
                    "the kernel's inotify watch limit is reached, so new files are found by a scan every {}s instead; raise it with: sudo sysctl fs.inotify.max_user_watches=524288 (and add that line to /etc/sysctl.d/90-pimedia.conf)",
                    SCAN_WITHOUT_EVENTS.as_secs()
                );
            } else {
                tracing::warn!(
                    "cannot watch {} for changes ({e}); scanning it every {}s instead",
                    root.display(),
                    SCAN_WITHOUT_EVENTS.as_secs()
                );
            }
            (None, SCAN_WITHOUT_EVENTS)
        }
    };
    let mut w = Watcher {
        root: library.root().to_path_buf(),
        state_dir,
        library,
        intake,
        candidates: HashMap::new(),
        fresh: Vec::new(),
    };
    tokio::spawn(async move {
        // Dropping the debouncer stops its thread.
        let _keep = debouncer;
        w.run(rx, added, scan_every, stop).await;
    })
}

impl Watcher {
    async fn run(
        &mut self,
        mut rx: mpsc::UnboundedReceiver<DebounceEventResult>,
        mut added: mpsc::UnboundedReceiver<String>,
        scan_every: Duration,
        stop: CancellationToken,
    ) {
        let mut tick = tokio::time::interval(TICK);
        let mut next_scan = Instant::now() + scan_every;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                r = rx.recv() => match r {
                    Some(Ok(events)) => {
                        for e in events {
                            if e.need_rescan() {
                                tracing::info!("file events were lost; rescanning the library");
                                next_scan = Instant::now();
                            }
                            tracing::debug!("file event: {:?} {:?}", e.event.kind, e.event.paths);
                            self.event(&e.event.kind, &e.event.paths).await;
                        }
                    }
                    Some(Err(errors)) => {
                        for e in errors {
                            tracing::warn!("file watcher: {e}; rescanning the library");
                        }
                        next_scan = Instant::now();
                    }
                    None => {}
                },
                Some(path) = added.recv() => self.fresh.push((path, Instant::now())),
                _ = tick.tick() => {
                    if Instant::now() >= next_scan {
                        self.rescan().await;
                        next_scan = Instant::now() + scan_every;
                    }
                    self.settle().await;
                    self.check_fresh().await;
                }
            }
        }
    }

    /// The library path of a file, unless pimedia must ignore it: outside
    /// the root, any dot component (temps, the state dir), the state dir.
    fn rel(&self, path: &Path) -> Option<String> {
        if path.starts_with(&self.state_dir) {
            return None;
        }
        let rel = path.strip_prefix(&self.root).ok()?;
        // A name that is not UTF-8 is known by how it reads.
        let rel: Vec<_> = rel.iter().map(crate::paths::readable).collect();
        check_relative(&rel.join("/")).filter(|r| !r.is_empty())
    }

    async fn event(&mut self, kind: &EventKind, paths: &[PathBuf]) {
        match kind {
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) if paths.len() == 2 => {
                self.renamed(&paths[0], &paths[1]).await;
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) | EventKind::Remove(_) => {
                for p in paths {
                    if let Some(video) = self.removed(p) {
                        // A version of it went: made again if still wanted.
                        self.intake.convert_if_needed(&video, None).await;
                    }
                }
            }
            EventKind::Create(CreateKind::Folder) => {
                for p in paths {
                    self.folder_appeared(p).await;
                }
            }
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                for p in paths {
                    if let Some(c) = self.candidates.get_mut(p) {
                        c.writing = false;
                    } else {
                        self.candidate(p, false).await;
                    }
                }
            }
            EventKind::Create(_) | EventKind::Modify(_) => {
                let writing = matches!(
                    kind,
                    EventKind::Modify(ModifyKind::Data(_)) | EventKind::Create(CreateKind::File)
                );
                for p in paths {
                    if is_dir(p).await {
                        self.folder_appeared(p).await;
                    } else {
                        self.candidate(p, writing).await;
                    }
                }
            }
            _ => {}
        }
    }

    async fn candidate(&mut self, path: &Path, writing: bool) {
        if self.rel(path).is_none() || kind_of(path).is_none() {
            return;
        }
        let md = tokio::fs::metadata(path).await.ok();
        let entry = self
            .candidates
            .entry(path.to_path_buf())
            .or_insert(Candidate {
                size: md.as_ref().map(|m| m.len()).unwrap_or(0),
                modified: md.as_ref().and_then(|m| m.modified().ok()),
                since: Instant::now(),
                writing,
            });
        entry.writing |= writing;
        entry.since = Instant::now();
    }

    async fn folder_appeared(&mut self, dir: &Path) {
        let Some(rel) = self.rel(dir) else { return };
        self.library.add_folder(&rel);
        // A folder moved in arrives as one event: its files come from a walk.
        let (walk, state) = (dir.to_path_buf(), self.state_dir.clone());
        let Some(found) = blocking(move || scan(&walk, &state)).await else {
            return;
        };
        for f in found.folders {
            self.library.add_folder(&format!("{rel}/{f}"));
        }
        for f in found.videos {
            self.candidate(&dir.join(&f.path), false).await;
        }
    }

    /// A file or folder gone; the video whose made file it was, if so.
    fn removed(&mut self, path: &Path) -> Option<String> {
        self.candidates.remove(path);
        let rel = self.rel(path)?;
        // Events come after a debounce: a file taken to the trash and
        // restored at once is back before its removal is heard.
        if path.symlink_metadata().is_ok() {
            tracing::debug!("{rel} was moved away and is back; kept");
            return None;
        }
        if let Some(crate::media::versions::Made::Version(video, v)) =
            crate::media::versions::parse(rel.rsplit('/').next().unwrap_or(&rel))
        {
            tracing::info!("the {} version of {video} is gone", v.name());
            let dir = rel.rsplit_once('/').map(|(d, _)| format!("{d}/"));
            return Some(format!("{}{video}", dir.unwrap_or_default()));
        }
        if self.library.get(&rel).is_some() {
            tracing::info!("{rel} was deleted or moved away; removed from the library");
            self.library.remove(&rel);
        } else if self.library.has_folder(&rel) {
            tracing::info!("folder {rel} is gone; its videos leave the library");
            self.library.remove_folder(&rel);
        }
        None
    }

    /// A file created and deleted within one debounce window gives no
    /// event at all: the library may hold it (an upload, a remux output)
    /// although it is gone.
    async fn check_fresh(&mut self) {
        let now = Instant::now();
        let (due, young): (Vec<_>, Vec<_>) = std::mem::take(&mut self.fresh)
            .into_iter()
            .partition(|(_, at)| now.duration_since(*at) >= FRESH_CHECK);
        self.fresh = young;
        if due.is_empty() {
            return;
        }
        let rels: Vec<String> = due.iter().map(|(rel, _)| rel.clone()).collect();
        let root = self.root.clone();
        let gone = blocking(move || {
            let paths: Vec<PathBuf> = rels
                .iter()
                .map(|r| crate::paths::on_disk(&root, r))
                .collect();
            paths
                .into_iter()
                .filter(|p| !p.exists())
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        for path in gone {
            self.removed(&path);
        }
    }

    async fn renamed(&mut self, from: &Path, to: &Path) {
        let (old, new) = (self.rel(from), self.rel(to));
        if is_dir(to).await {
            if let Some(old) = old {
                self.library.remove_folder(&old);
            }
            self.folder_appeared(to).await;
            return;
        }
        let found = match new {
            Some(n) => found_at(to, n).await,
            None => None,
        };
        match (old, found) {
            (Some(old), Some(found)) if self.library.rename(&old, found.clone()) => {
                tracing::info!("{old} was renamed to {}", found.path);
                self.candidates.remove(from);
            }
            (old, _) => {
                if old.is_some() {
                    self.removed(from);
                }
                self.candidate(to, false).await;
            }
        }
    }

    /// Takes every candidate that has stopped changing.
    async fn settle(&mut self) {
        if self.candidates.is_empty() {
            return;
        }
        let paths: Vec<PathBuf> = self.candidates.keys().cloned().collect();
        let Some(stats) = blocking(move || {
            paths
                .into_iter()
                .filter_map(|p| {
                    let md = std::fs::metadata(&p).ok()?;
                    Some((p, (md.len(), md.modified().ok())))
                })
                .collect::<HashMap<_, _>>()
        })
        .await
        else {
            return;
        };
        let now = Instant::now();
        let mut ready = Vec::new();
        self.candidates.retain(|path, c| {
            let Some(&(len, modified)) = stats.get(path) else {
                return false;
            };
            if len != c.size || modified != c.modified {
                c.size = len;
                c.modified = modified;
                c.since = now;
                return true;
            }
            let waited = now.duration_since(c.since);
            if waited >= STABLE_OPEN || (waited >= STABLE && !c.writing) {
                ready.push(path.clone());
                return false;
            }
            true
        });
        for path in ready {
            self.arrived(&path).await;
        }
    }

    /// A settled file: into the library (probed there) and, when TVs can't
    /// play it, the remux queue. pimedia's own outputs are already in the
    /// library with this size and mtime, so they cause no work.
    async fn arrived(&mut self, path: &Path) {
        let Some(rel) = self.rel(path) else { return };
        let Some(found) = found_at(path, rel.clone()).await else {
            return;
        };
        if let Some(known) = self.library.get(&rel) {
            if known.size == found.size && known.modified == found.modified {
                return;
            }
        }
        tracing::info!("new or changed file: {rel}");
        self.intake.arrived(found, None, None).await;
    }

    /// Compares the disk with the library: new or changed files become
    /// candidates, vanished ones leave.
    async fn rescan(&mut self) {
        let (root, state) = (self.root.clone(), self.state_dir.clone());
        let Some(found) = blocking(move || scan(&root, &state)).await else {
            return;
        };
        let on_disk: std::collections::HashSet<&str> =
            found.videos.iter().map(|f| f.path.as_str()).collect();
        for v in self.library.all_paths() {
            if !on_disk.contains(v.as_str()) {
                tracing::info!("{v} is gone from disk; removed from the library");
                self.library.remove(&v);
            }
        }
        for f in &found.folders {
            self.library.add_folder(f);
        }
        for f in found.videos {
            let known = self.library.get(&f.path);
            if known.is_none_or(|k| k.size != f.size || k.modified != f.modified) {
                let (root, rel) = (self.root.clone(), f.path.clone());
                let Some(path) = blocking(move || crate::paths::on_disk(&root, &rel)).await else {
                    continue;
                };
                self.candidate(&path, false).await;
            }
        }
    }
}

async fn is_dir(path: &Path) -> bool {
    tokio::fs::metadata(path).await.is_ok_and(|m| m.is_dir())
}

async fn found_at(path: &Path, rel: String) -> Option<Found> {
    let path = path.to_path_buf();
    blocking(move || found_file(&path, rel)).await.flatten()
}

/// Whether notify failed at the kernel's inotify watch limit: its own
/// kind for it, or `ENOSPC` from `inotify_add_watch` (the errno, not the
/// message, which is the C library's and in its language).
fn watch_limit_reached(e: &notify::Error) -> bool {
    match &e.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        notify::ErrorKind::Io(io) => io.raw_os_error() == Some(nix::errno::Errno::ENOSPC as i32),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::watch_limit_reached;

    #[test]
    fn the_watch_limit_is_known_by_its_errno() {
        let enospc = std::io::Error::from_raw_os_error(nix::errno::Errno::ENOSPC as i32);
        assert!(watch_limit_reached(&notify::Error::io(enospc)));
        assert!(watch_limit_reached(&notify::Error::new(
            notify::ErrorKind::MaxFilesWatch
        )));
        let other = std::io::Error::other("No space left on device (a message, not an errno)");
        assert!(!watch_limit_reached(&notify::Error::io(other)));
        let denied = std::io::Error::from_raw_os_error(nix::errno::Errno::EACCES as i32);
        assert!(!watch_limit_reached(&notify::Error::io(denied)));
    }
}
