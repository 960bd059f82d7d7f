//! The library's background worker: probes new or changed files one at a
//! time, then makes their posters, off the async workers and at low
//! priority, saving the metadata cache as it goes.

use crate::sync::Locked;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::Digest;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use super::{found_file, Library};
use crate::fsutil::blocking;
use crate::media::ffmpeg::{self, Control, Outcome};
use crate::media::{self, Tools};

pub enum Work {
    Probe(String),
    Poster(String),
    /// A poster whose video went or changed.
    DropPoster(u64),
}

/// The indexer's queue, and which files it has yet to probe (so a remux
/// job can wait for a probe rather than run a second ffprobe).
pub struct Queue {
    work: mpsc::UnboundedSender<Work>,
    probing: Mutex<HashSet<String>>,
    /// Woken whenever a probe ends.
    probed: Notify,
}

impl Queue {
    pub fn new() -> (Queue, mpsc::UnboundedReceiver<Work>) {
        let (work, rx) = mpsc::unbounded_channel();
        let q = Queue {
            work,
            probing: Mutex::new(HashSet::new()),
            probed: Notify::new(),
        };
        (q, rx)
    }

    pub fn push(&self, w: Work) {
        if let Work::Probe(p) = &w {
            self.probing.locked().insert(p.clone());
        }
        let _ = self.work.send(w);
    }

    /// ffprobe's turn for `path` is over, whatever it found.
    pub fn probe_finished(&self, path: &str) {
        self.probing.locked().remove(path);
        self.probed.notify_waiters();
    }

    /// Returns once ffprobe has run on `path`, if it was queued or running.
    pub async fn wait_for_probe(&self, path: &str) {
        loop {
            let probed = self.probed.notified();
            tokio::pin!(probed);
            // Registered before the check, so a probe that ends between
            // the two still wakes us.
            probed.as_mut().enable();
            if !self.probing.locked().contains(path) {
                return;
            }
            probed.await;
        }
    }
}

/// The poster's file name for a file as it is now: a new version of the
/// file gets a new name, so a poster may be cached forever.
pub fn poster_id(path: &str, size: u64, modified: i64) -> u64 {
    let d = sha2::Sha256::digest(format!("{path}\0{size}\0{modified}").as_bytes());
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// A poster's file name (and URL part): 16 lowercase hex digits.
pub fn poster_name(id: u64) -> String {
    format!("{id:016x}")
}

/// The id in a poster's name, if it is one.
pub fn parse_poster_name(name: &str) -> Option<u64> {
    let ok = name.len() == 16 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ok.then(|| u64::from_str_radix(name, 16).ok()).flatten()
}

/// Width of a poster; the height follows the video's shape.
const POSTER_WIDTH: u32 = 480;

/// Grabs one frame at about 10% of the video into `out` (a JPEG), or says
/// why it could not. Blocking.
fn make_poster(
    tools: &Tools,
    file: &Path,
    duration: Option<f64>,
    out: &Path,
) -> Result<(), String> {
    let at = duration.map(|d| d * 0.1).unwrap_or(0.0);
    let tmp = crate::fsutil::TempFile::new(crate::fsutil::temp_path_for(out, "poster"));
    let args: Vec<String> = [
        "-frames:v",
        "1",
        "-vf",
        &format!("scale={POSTER_WIDTH}:-2"),
        "-q:v",
        "5",
        "-an",
        "-f",
        "image2",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([tmp.path().to_string_lossy().into_owned()])
    .collect();
    let input_args = ["-ss".to_string(), format!("{at:.2}")];
    let run = ffmpeg::Run {
        input_args: &input_args,
        input: file,
        output_args: &args,
        duration: None,
        priority: crate::media::launch::Priority::Background,
    };
    match ffmpeg::run(tools, run, &Control::default(), |_| {}) {
        Outcome::Done => {}
        Outcome::Cancelled => return Err("ffmpeg was stopped".into()),
        Outcome::NoSpace { .. } => return Err("the disk is full".into()),
        Outcome::Failed { why, .. } => return Err(why.sentence()),
    }
    std::fs::rename(tmp.path(), out).map_err(|e| format!("cannot save it: {e}"))?;
    tmp.keep();
    Ok(())
}

pub async fn run(
    lib: Arc<Library>,
    tools: Tools,
    thumbs: PathBuf,
    mut rx: mpsc::UnboundedReceiver<Work>,
    stop: CancellationToken,
) {
    let indexer = Indexer { lib, tools, thumbs };
    let mut since_save = 0usize;
    loop {
        let work = tokio::select! {
            _ = stop.cancelled() => break,
            w = rx.recv() => match w { Some(w) => w, None => break },
        };
        let changed = match work {
            Work::Probe(path) => indexer.probe(path).await,
            Work::Poster(path) => indexer.poster(path).await,
            Work::DropPoster(id) => indexer.drop_poster(id).await,
        };
        since_save += usize::from(changed);
        if since_save > 0 && (rx.is_empty() || since_save >= 100) {
            since_save = 0;
            indexer.save().await;
        }
    }
    indexer.save().await;
}

/// The indexer task's own state: what it writes to (the library's
/// metadata, the thumbs folder) and how it runs ffmpeg.
struct Indexer {
    lib: Arc<Library>,
    tools: Tools,
    thumbs: PathBuf,
}

impl Indexer {
    /// ffprobe on one file; whether the metadata cache changed.
    async fn probe(&self, path: String) -> bool {
        let lib = &self.lib;
        if self.tools.ffprobe.is_none() {
            return false;
        }
        // A conversion job may have probed it meanwhile.
        if lib.probe_of(&path).is_some() {
            lib.queue.probe_finished(&path);
            return false;
        }
        let (root, rel, tools) = (lib.root.clone(), path.clone(), self.tools.clone());
        let result = blocking(move || {
            let file = crate::paths::on_disk(&root, &rel);
            let found = found_file(&file, rel)?;
            let probed = media::probe(&tools, &file).map_err(|e| e.to_string());
            // Subtitle files beside it become the player's WebVTT tracks.
            if probed.as_ref().is_ok_and(|p| p.video().is_some()) {
                media::sidecar::convert_beside(&tools, &file, None);
            }
            Some((found, probed))
        })
        .await
        .flatten();
        let Some((found, probed)) = result else {
            lib.queue.probe_finished(&path);
            return false;
        };
        if let Err(e) = &probed {
            tracing::warn!("{path}: {e}");
        }
        let has_video = probed.as_ref().is_ok_and(|p| p.video().is_some());
        lib.record_probe(&path, found.size, found.modified, probed);
        if has_video {
            lib.queue.push(Work::Poster(path));
        }
        true
    }

    /// A poster for one file, if it should have one; whether the metadata
    /// cache changed.
    async fn poster(&self, path: String) -> bool {
        let lib = &self.lib;
        if self.tools.ffmpeg.is_none() {
            return false;
        }
        let Some(v) = lib.get(&path) else {
            return false;
        };
        if !lib.wants_poster(&v) {
            return false;
        }
        let id = poster_id(&v.path, v.size, v.modified);
        let out = self.thumbs.join(format!("{}.jpg", poster_name(id)));
        let (file, tools, duration) = (
            crate::paths::on_disk(&lib.root, &path),
            self.tools.clone(),
            v.meta.as_ref().and_then(|m| m.duration),
        );
        let made = blocking(move || make_poster(&tools, &file, duration, &out))
            .await
            .unwrap_or_else(|| Err("the poster thread stopped unexpectedly".into()));
        // Once per version of the file: a failure is remembered.
        if let Err(why) = &made {
            tracing::warn!("no poster for {path}: {why}");
        }
        lib.record_poster(&path, v.size, v.modified, made.ok().map(|()| id));
        true
    }

    async fn drop_poster(&self, id: u64) -> bool {
        let file = self.thumbs.join(format!("{}.jpg", poster_name(id)));
        let _ = tokio::fs::remove_file(file).await;
        false
    }

    async fn save(&self) {
        let lib = self.lib.clone();
        blocking(move || lib.save_cache()).await;
    }
}
