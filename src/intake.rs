//! What happens to a video file that arrives, however it came: a form
//! upload, a tus upload, the watch folder or the start-up scan. It goes
//! into the library (which probes it, unless the upload already did, and
//! makes its poster); once what it holds is known, it gets a remux or a
//! transcode job when the TVs can't play it as it is and no playable
//! version of it exists yet. This is the one place that rule lives.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::jobs::Jobs;
use crate::library::{Found, Library};
use crate::media::{self, Conversion, Probe, Target};

pub struct Intake {
    library: Arc<Library>,
    jobs: Arc<Jobs>,
    /// What the household's TVs play.
    target: Target,
    /// `--transcode`: off, video no TV plays is marked, not encoded.
    transcode: bool,
}

impl Intake {
    pub fn new(library: Arc<Library>, jobs: Arc<Jobs>, target: Target, transcode: bool) -> Intake {
        Intake {
            library,
            jobs,
            target,
            transcode,
        }
    }

    /// A file that is new or changed on disk. `probe` is what ffprobe said
    /// of it, when the caller already asked; `owner` is the browser to tell
    /// when its conversion is ready.
    pub async fn arrived(&self, found: Found, probe: Option<Probe>, owner: Option<String>) {
        let path = found.path.clone();
        self.library.add(found, probe);
        self.convert_if_needed(&path, owner).await;
    }

    /// Runs until `stop`: first every file already in the library (the
    /// start-up scan), then each file as soon as ffprobe has read it.
    pub async fn run(
        self: Arc<Self>,
        mut probed: mpsc::UnboundedReceiver<String>,
        stop: CancellationToken,
    ) {
        for v in self.library.all() {
            self.convert_if_needed(&v.path, None).await;
        }
        loop {
            let path = tokio::select! {
                _ = stop.cancelled() => return,
                p = probed.recv() => match p { Some(p) => p, None => return },
            };
            self.convert_if_needed(&path, None).await;
        }
    }

    /// What `probe` of the file at `path` needs: nothing when the TVs play
    /// it as it is; a transcode when its video must be encoded again; else
    /// a remux (which, with `--transcode off`, ends as "needs transcode").
    fn needed(&self, path: &str, probe: &Probe) -> Option<Conversion> {
        let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if self.target.plays_as_is(ext, probe) {
            return None;
        }
        Some(
            media::plan(probe, &self.target, self.transcode)
                .map(|p| p.conversion())
                .unwrap_or(Conversion::Remux),
        )
    }

    async fn convert_if_needed(&self, path: &str, owner: Option<String>) {
        let Some(v) = self.library.get(path) else {
            return;
        };
        if self.library.is_superseded(path) {
            return;
        }
        // Not read yet: the indexer says when it is.
        let Some(probe) = self.library.probe_of(path) else {
            return;
        };
        // Tried already, and the file has not changed since (a failed or
        // cancelled job is retried from the jobs page, not at each start).
        if let Some(last) = self.jobs.for_source(path) {
            if last.state.is_live() || last.finished.is_some_and(|f| f as i64 >= v.modified) {
                return;
            }
        }
        let Some(kind) = self.needed(path, &probe) else {
            return;
        };
        // A version pimedia made is never a source itself. Asked last: it
        // looks through every job's record, and most files stop above.
        if self.library.is_output(path) {
            return;
        }
        if kind == Conversion::Transcode {
            // It shows as itself (with a poster) for as long as that takes.
            self.library.source_stays(path);
        }
        self.jobs.enqueue(path, kind, owner).await;
    }
}
