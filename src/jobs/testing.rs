//! A queue in a temp dir for the parts' unit tests: a library that holds
//! nothing, and an ffmpeg that is "found" but never started by them.

use super::{Jobs, Settings, TranscodeOn};
use crate::library::Library;
use crate::media::{Encoder, Target, Tools};
use std::sync::Arc;

pub fn jobs(dir: &std::path::Path) -> Arc<Jobs> {
    let library = Arc::new(Library::for_tests(dir.to_path_buf()));
    let mut tools = Tools::default();
    tools.ffmpeg = Some("/nonexistent/ffmpeg".into());
    tools.ffprobe = Some("/nonexistent/ffprobe".into());
    let settings = Settings {
        workers: 1,
        transcode_workers: 1,
        transcode: true,
        target: tokio::sync::watch::channel(Target::default()).1,
        forced_encoder: Some(Encoder::X264),
        delete_originals: false,
        on_job_done: None,
        disk_reserve: 0,
        transcode_on: TranscodeOn::Auto,
    };
    let versions = Arc::new(crate::versions::Versions::load(dir, dir, Vec::new()));
    Jobs::load(dir, library, versions, tools, settings)
}
