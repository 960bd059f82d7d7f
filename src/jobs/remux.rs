//! One job, start to end: probe, plan, ffmpeg to hidden temp files, check
//! the output's duration, fsync, rename, update the library.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Job, Jobs};
use crate::fsutil::TempFile;
use crate::library::found_file;
use crate::media::ffmpeg::{self, Control, Outcome};
use crate::media::{self, mp4, Plan};

pub enum Ended {
    /// The MP4's library path.
    Done(String),
    Cancelled,
    Failed {
        reason: String,
        transient: bool,
        log: Vec<String>,
        needs_transcode: bool,
    },
}

fn failed(reason: impl Into<String>) -> Ended {
    Ended::Failed {
        reason: reason.into(),
        transient: false,
        log: Vec::new(),
        needs_transcode: false,
    }
}

/// Durations may differ by this much (container rounding, last frame).
const DURATION_SLACK: f64 = 1.0;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

pub async fn run(jobs: Arc<Jobs>, job: &Job, control: Arc<Control>) -> Ended {
    if jobs.tools.ffmpeg.is_none() || jobs.tools.ffprobe.is_none() {
        return failed(jobs.tools.ffmpeg_unavailable());
    }
    let root = jobs.library.root().to_path_buf();
    let src = root.join(&job.source);
    let (Some(dir), Some(stem)) = (
        src.parent().map(Path::to_path_buf),
        src.file_stem().and_then(|s| s.to_str()).map(str::to_string),
    ) else {
        return failed("the source path has no file name");
    };
    if !src.is_file() {
        return failed("the source file is gone");
    }

    // The library probed it already (scan or upload) unless it changed
    // since; if its probe is on the way, wait for it rather than run two.
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        jobs.library.wait_for_probe(&job.source),
    )
    .await;
    let probe = match jobs.library.probe_of(&job.source) {
        Some(p) => p,
        None => {
            let (t, s) = (jobs.tools.clone(), src.clone());
            match blocking(move || media::probe(&t, &s)).await {
                Some(Ok(p)) => {
                    jobs.library.record_probe_of(&job.source, p.clone());
                    p
                }
                Some(Err(e)) => return failed(format!("ffmpeg can't read this file: {e}")),
                None => return failed("probing the source stopped unexpectedly"),
            }
        }
    };
    let plan = match media::plan(&probe) {
        Ok(p) => p,
        Err(e) => {
            return Ended::Failed {
                reason: e.to_string(),
                transient: false,
                log: Vec::new(),
                needs_transcode: true,
            }
        }
    };
    jobs.set_plan(job.id, plan.describe());

    let target = dir.join(format!("{stem}.mp4"));
    let tmp_mp4 = TempFile::new(ffmpeg::temp_for(&target));
    let tmp_subs: Vec<TempFile> = plan
        .subtitles
        .iter()
        .map(|s| {
            TempFile::new(ffmpeg::temp_for(
                &dir.join(Plan::subtitle_name(&target, &s.suffix)),
            ))
        })
        .collect();
    let sub_paths: Vec<PathBuf> = tmp_subs.iter().map(|t| t.path().to_path_buf()).collect();
    let args = plan.output_args(tmp_mp4.path(), &sub_paths);

    let outcome = {
        let (jobs2, tools, id, duration) =
            (jobs.clone(), jobs.tools.clone(), job.id, probe.duration);
        let src = src.clone();
        blocking(move || {
            ffmpeg::run(&tools, &src, &args, duration, &control, |p| {
                jobs2.set_progress(id, p)
            })
        })
        .await
        .unwrap_or(Outcome::Failed {
            reason: "the ffmpeg thread stopped unexpectedly".into(),
            transient: true,
            tail: Vec::new(),
        })
    };
    match outcome {
        Outcome::Done => {}
        Outcome::Cancelled => return Ended::Cancelled,
        Outcome::Failed {
            reason,
            transient,
            tail,
        } => {
            return Ended::Failed {
                reason,
                transient,
                log: tail,
                needs_transcode: false,
            }
        }
    }

    // The output must be whole: same duration as the source, give or take,
    // and its index first. Read from the file itself, without a process.
    let summary = {
        let o = tmp_mp4.path().to_path_buf();
        blocking(move || mp4::summarize(&o)).await
    };
    let summary = match summary {
        Some(Ok(Some(s))) => s,
        Some(Ok(None)) => {
            return failed("the MP4 ffmpeg wrote is not a readable MP4; it was not kept")
        }
        Some(Err(e)) => return failed(format!("the MP4 ffmpeg wrote can't be read back: {e}")),
        None => return failed("checking the output stopped unexpectedly"),
    };
    if let Some(a) = probe.duration {
        let b = summary.duration;
        if (a - b).abs() > DURATION_SLACK {
            return failed(format!(
                "the MP4 is {b:.1} s long but the source is {a:.1} s; it was not kept"
            ));
        }
    }
    if !summary.faststart {
        return failed("ffmpeg put the MP4's index at the end; it was not kept");
    }

    let all: Vec<PathBuf> = std::iter::once(tmp_mp4.path().to_path_buf())
        .chain(sub_paths.clone())
        .collect();
    match blocking(move || all.iter().try_for_each(|p| crate::fsutil::sync_file(p))).await {
        Some(Ok(())) => {}
        Some(Err(e)) => {
            return Ended::Failed {
                reason: format!("the output could not be saved to disk: {e}"),
                transient: true,
                log: Vec::new(),
                needs_transcode: false,
            }
        }
        None => return failed("saving the output stopped unexpectedly"),
    }

    // Rename: the MP4 to a free name, its subtitles after its final stem.
    let placed = {
        let _one_at_a_time = jobs.rename_lock.lock().await;
        let suffixes: Vec<Option<String>> =
            plan.subtitles.iter().map(|s| s.suffix.clone()).collect();
        let (tmp, dir2, name) = (
            tmp_mp4.path().to_path_buf(),
            dir.clone(),
            format!("{stem}.mp4"),
        );
        blocking(move || -> std::io::Result<PathBuf> {
            let mp4 = crate::fsutil::place_unique(&tmp, &dir2, &name)?;
            for (sub, sfx) in sub_paths.iter().zip(&suffixes) {
                crate::fsutil::place_unique(sub, &dir2, &Plan::subtitle_name(&mp4, sfx))?;
            }
            Ok(mp4)
        })
        .await
    };
    let mp4 = match placed {
        Some(Ok(p)) => p,
        Some(Err(e)) => return failed(format!("the MP4 could not be put in place: {e}")),
        None => return failed("renaming stopped unexpectedly"),
    };
    tmp_mp4.keep();
    for t in tmp_subs {
        t.keep();
    }
    let rel = mp4
        .strip_prefix(&root)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(found) = found_file(&mp4, rel.clone()) {
        jobs.library
            .add(found, Some(plan.output_probe(&probe, summary.duration)));
    }
    jobs.library.set_remuxed(&job.source, &rel);

    if jobs.settings.delete_originals {
        match tokio::fs::remove_file(&src).await {
            Ok(()) => {
                tracing::info!("removed the original {} (--delete-originals)", job.source);
                jobs.library.remove(&job.source);
            }
            Err(e) => tracing::warn!("could not remove the original {}: {e}", job.source),
        }
    }
    Ended::Done(rel)
}
