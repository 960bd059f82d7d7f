//! What happens to a video file that arrives, however it came: a form
//! upload, a tus upload, the watch folder or the start-up scan. It goes
//! into the library (which probes it, unless the upload already did, and
//! makes its poster), and into the remux queue when TVs can't play it as it
//! is and no MP4 of it exists yet. This is the one place that rule lives.

use std::sync::Arc;

use crate::jobs::Jobs;
use crate::library::{Found, Library};
use crate::media::{Kind, Probe};

pub struct Intake {
    library: Arc<Library>,
    jobs: Arc<Jobs>,
}

impl Intake {
    pub fn new(library: Arc<Library>, jobs: Arc<Jobs>) -> Intake {
        Intake { library, jobs }
    }

    /// A file that is new or changed on disk. `probe` is what ffprobe said
    /// of it, when the caller already asked; `owner` is the browser to tell
    /// when its conversion is ready.
    pub async fn arrived(&self, found: Found, probe: Option<Probe>, owner: Option<String>) {
        let path = found.path.clone();
        self.library.add(found, probe);
        self.convert_if_needed(&path, owner).await;
    }

    /// At start-up: every file already in the library that needs a
    /// conversion and never had a job gets one.
    pub async fn catch_up(&self) {
        let known = self.jobs.sources();
        for v in self.library.all() {
            if !known.contains(&v.path) {
                self.convert_if_needed(&v.path, None).await;
            }
        }
    }

    async fn convert_if_needed(&self, path: &str, owner: Option<String>) {
        let Some(v) = self.library.get(path) else {
            return;
        };
        if v.kind == Kind::NeedsRemux && !self.library.is_superseded(path) {
            self.jobs.enqueue(path, owner).await;
        }
    }
}
