//! Version jobs on the Pi: the worker that claims one takes every other
//! version of the same video that is due, and one ffmpeg run (one decode,
//! at the lowest priority) writes them all to hidden temp files. Each is
//! checked (picture, level, sound, duration), fsynced and put in place
//! beside its video, and recorded; one that would not be smaller than the
//! TV version is not made, and its job says why.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::convert::{failed, Ended, Room};
use super::{Job, JobKind, Jobs};
use crate::fsutil::{blocking, now, sync_dir, sync_file, temp_path_for, TempFile};
use crate::media::ffmpeg::{self, Control, Outcome, Run};
use crate::media::launch::Priority;
use crate::media::versions::{self, Input, NotNeeded, Output, Picture, Spec, Version};
use crate::media::{self, Conversion, Encoder, Probe};
use crate::sync::Locked;
use crate::versions::Made;

/// Runs `lead` and the other due versions of its video; how each ended.
pub(super) async fn run(jobs: &Arc<Jobs>, lead: (Job, Version)) -> Vec<(u64, Ended)> {
    let source = lead.0.source.clone();
    // What a runner would take stays for it (decided before the lock).
    let queued: Vec<Job> = jobs
        .saved
        .get()
        .jobs
        .iter()
        .filter(|j| j.source == source && j.kind.version().is_some() && j.state.is_queued())
        .cloned()
        .collect();
    let left: Vec<u64> = queued
        .iter()
        .filter(|j| jobs.left_to_runners(j))
        .map(|j| j.id)
        .collect();
    let siblings = jobs
        .saved
        .edit()
        .claim_versions_of(&source, now(), |j| !left.contains(&j.id));
    let batch: Vec<(Job, Version)> = std::iter::once(lead).chain(siblings).collect();
    let controls: Vec<Arc<Control>> = batch.iter().map(|_| Arc::default()).collect();
    {
        let mut c = jobs.controls.locked();
        for ((j, _), control) in batch.iter().zip(&controls) {
            c.insert(j.id, (Conversion::Version, control.clone()));
        }
    }
    let encoder = jobs.encoder.get(&jobs.tools).await;
    if batch.iter().any(|(_, v)| *v == Version::Audio) {
        poster_of(jobs, &source).await;
    }
    for (j, v) in &batch {
        let plan = vec![format!(
            "{} of {source}, made with the others due in one decode ({})",
            v.name(),
            encoder.name()
        )];
        jobs.set_plan(j.id, plan);
    }
    let wanted: Vec<(u64, Version)> = batch.iter().map(|(j, v)| (j.id, *v)).collect();
    let (j2, s2, w2, c2) = (
        jobs.clone(),
        source.clone(),
        wanted.clone(),
        controls.clone(),
    );
    let ended = blocking(move || make_all(&j2, &s2, &w2, &c2, encoder))
        .await
        .unwrap_or_else(|| {
            let stopped = || failed("making the version stopped unexpectedly");
            wanted
                .iter()
                .map(|(id, _)| (*id, stopped(), None))
                .collect()
        });
    let mut out = Vec::new();
    for (id, e, made) in ended {
        if let Some((version, made)) = made {
            jobs.versions.record(&source, version, made).await;
        }
        out.push((id, e));
    }
    {
        let mut c = jobs.controls.locked();
        for (id, _) in &wanted {
            c.remove(id);
        }
    }
    out
}

/// A runner's picture for a version job (`theirs`, a temp file beside the
/// video): checked as our own would be (its size, level, length), then
/// completed here in one remux: the TV version's first audio as AAC
/// stereo and the subtitles inside. Checked again, put in place, recorded.
pub(super) async fn finish_remote(jobs: &Arc<Jobs>, job: &Job, theirs: TempFile) -> Ended {
    let JobKind::Version(version) = job.kind else {
        return failed("this job makes no version");
    };
    let (j2, source, id) = (jobs.clone(), job.source.clone(), job.id);
    let done = blocking(move || complete_remote(&j2, &source, id, version, theirs)).await;
    let Some((_, ended, made)) = done else {
        return failed("completing the PC's version stopped unexpectedly");
    };
    if let Some((v, m)) = made {
        jobs.versions.record(&job.source, v, m).await;
    }
    ended
}

/// Off the async workers: see [`finish_remote`].
fn complete_remote(
    jobs: &Jobs,
    source: &str,
    id: u64,
    version: Version,
    theirs: TempFile,
) -> EndedOne {
    let fail = |why: String| (id, failed(why), None);
    let (video, probe, pic) = match read_video(jobs, source) {
        Ok(read) => read,
        Err(e) => return (id, e, None),
    };
    let duration = probe.duration.filter(|d| *d > 0.0);
    let spec = match versions::spec(version, pic) {
        Ok(spec) => spec,
        Err(why) => return (id, Ended::NotNeeded(why), None),
    };
    let made = match media::probe(&jobs.tools, theirs.path()) {
        Ok(p) => p,
        Err(e) => return fail(format!("the PC's version can't be read: {e}")),
    };
    // The runner rounds the long side as it likes: within 2 pixels.
    let shown = made.video().and_then(media::shown_size);
    let spec = match shown {
        Some((w, h)) if w.abs_diff(spec.width) <= 2 && h.abs_diff(spec.height) <= 2 => Spec {
            width: w,
            height: h,
            ..spec
        },
        other => {
            return fail(format!(
                "the PC made a picture of {other:?}, not {}x{}",
                spec.width, spec.height
            ))
        }
    };
    if let Err(why) = versions::check(&Output::Video(spec, PathBuf::new()), &made, duration) {
        return fail(format!("the PC's version came out wrong: {why}"));
    }
    let subtitles = subtitles_of(jobs, source, &video);
    let audio_codec = probe.audio_tracks().next().map(|a| a.codec.clone());
    let title = crate::library::title_of(source);
    let input = Input {
        subtitles: &subtitles,
        poster: None,
        audio_codec: audio_codec.as_deref(),
        title: &title,
        encoder: Encoder::X264,
    };
    let target = version.beside(&video);
    let tmp = TempFile::new(temp_path_for(&target, "version"));
    let args = versions::complete_args(&input, &spec, &video, tmp.path());
    let run = Run {
        input_args: &[],
        input: theirs.path(),
        output_args: &args,
        duration,
        priority: Priority::Background,
    };
    match ffmpeg::run(&jobs.tools, run, &Control::default(), |_| {}) {
        Outcome::Done => {}
        Outcome::NoSpace { .. } => return (id, Ended::NoSpace(Room::FilledUp), None),
        Outcome::Cancelled => return (id, Ended::Cancelled, None),
        Outcome::Failed { why, .. } => return fail(why.sentence()),
    }
    let planned = Planned {
        id,
        output: Output::Video(spec, tmp.path().to_path_buf()),
        target,
        rel: version.file_name(source),
        tmp,
    };
    put_in_place(jobs, planned, duration)
}

/// The WebVTT files beside the video (`source`, on disk at `video`), with
/// their languages; a subtitle file that came beside it becomes one first.
fn subtitles_of(jobs: &Jobs, source: &str, video: &Path) -> Vec<(PathBuf, Option<String>)> {
    let root = jobs.library.root();
    let from = jobs
        .library
        .source_of(source)
        .map(|s| crate::paths::on_disk(root, &s));
    media::sidecar::convert_beside(&jobs.tools, video, from.as_deref());
    jobs.library
        .subtitles_for(source)
        .into_iter()
        .map(|f| (crate::paths::on_disk(root, &f.path), f.language))
        .collect()
}

/// The video a version is made from, on disk, as ffprobe reads it now,
/// and its picture; `Err` says how its jobs end instead. Blocking.
fn read_video(jobs: &Jobs, source: &str) -> Result<(PathBuf, Probe, Picture), Ended> {
    let video = crate::paths::on_disk(jobs.library.root(), source);
    let probe = media::probe(&jobs.tools, &video)
        .map_err(|e| failed(format!("ffmpeg can't read the video: {e}")))?;
    if probe.video().is_none() {
        return Err(Ended::NotNeeded(NotNeeded::NoPicture));
    }
    let size = std::fs::metadata(&video).map(|m| m.len()).unwrap_or(0);
    let pic =
        versions::picture(&probe, size).ok_or_else(|| failed("the video's picture has no size"))?;
    Ok((video, probe, pic))
}

/// Waits a little for the video's poster (made just after its probe, and
/// a version is queued at the probe), to be the sound's cover.
async fn poster_of(jobs: &Jobs, source: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline
        && jobs
            .library
            .get(source)
            .is_some_and(|v| v.thumb.is_none() && v.error.is_none())
    {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// How one job of the batch ended, and what its check found.
type EndedOne = (u64, Ended, Option<(Version, Made)>);

/// One planned output: its job, where it goes, its temp file.
struct Planned {
    id: u64,
    output: Output,
    target: PathBuf,
    rel: String,
    tmp: TempFile,
}

impl Planned {
    /// `output` of the video `source` (on disk at `video`), to be written
    /// to a hidden temp file beside where it goes.
    fn new(id: u64, output: Output, source: &str, video: &Path) -> Planned {
        let version = output.version();
        let target = version.beside(video);
        let tmp = TempFile::new(temp_path_for(&target, "version"));
        let output = match output {
            Output::Video(spec, _) => Output::Video(spec, tmp.path().to_path_buf()),
            Output::Audio(_) => Output::Audio(tmp.path().to_path_buf()),
        };
        Planned {
            id,
            output,
            target,
            rel: version.file_name(source),
            tmp,
        }
    }
}

/// The blocking part: plan, room, one ffmpeg, checks, put in place.
fn make_all(
    jobs: &Jobs,
    source: &str,
    wanted: &[(u64, Version)],
    controls: &[Arc<Control>],
    encoder: Encoder,
) -> Vec<EndedOne> {
    let (video, probe, pic) = match read_video(jobs, source) {
        Ok(read) => read,
        Err(e) => {
            return wanted
                .iter()
                .map(|(id, _)| (*id, e.clone(), None))
                .collect()
        }
    };
    let duration = probe.duration.filter(|d| *d > 0.0);
    let first_audio = probe.audio_tracks().next().map(|a| a.codec.clone());
    let mut out: Vec<EndedOne> = Vec::new();
    let mut planned: Vec<Planned> = Vec::new();
    for &(id, version) in wanted {
        match output_of(version, pic, first_audio.is_some()) {
            Ok(output) => planned.push(Planned::new(id, output, source, &video)),
            Err(why) => out.push((id, Ended::NotNeeded(why), None)),
        }
    }
    if planned.is_empty() {
        return out;
    }
    if let Some(room) = too_little_room(jobs, &video, &planned, duration) {
        out.extend(planned.iter().map(|p| (p.id, Ended::NoSpace(room), None)));
        return out;
    }
    let subtitles = subtitles_of(jobs, source, &video);
    let (poster, title) = cover_of(jobs, source);
    let input = Input {
        subtitles: &subtitles,
        poster: poster.as_deref(),
        audio_codec: first_audio.as_deref(),
        title: &title,
        encoder,
    };
    let outputs: Vec<Output> = planned.iter().map(|p| p.output.clone()).collect();
    let (before, after) = versions::make_args(&input, &outputs);
    let run = Run {
        input_args: &before,
        input: &video,
        output_args: &after,
        duration,
        priority: Priority::Lowest,
    };
    let ids: Vec<u64> = wanted.iter().map(|(id, _)| *id).collect();
    let outcome = run_together(jobs, run, &ids, controls);
    let asked = |id: u64| {
        ids.iter()
            .position(|i| *i == id)
            .is_some_and(|i| controls[i].cancelled.load(Ordering::SeqCst))
    };
    out.extend(settle(jobs, planned, outcome, asked, duration));
    out
}

/// What `version` of a video with picture `pic` is, or why it is not
/// needed.
fn output_of(version: Version, pic: Picture, has_sound: bool) -> Result<Output, NotNeeded> {
    match version {
        Version::Audio if !has_sound => Err(NotNeeded::NoSound),
        Version::Audio => Ok(Output::Audio(PathBuf::new())),
        v => Ok(Output::Video(versions::spec(v, pic)?, PathBuf::new())),
    }
}

/// The poster (the sound version's cover) and the title it is tagged with.
fn cover_of(jobs: &Jobs, source: &str) -> (Option<PathBuf>, String) {
    let entry = jobs.library.get(source);
    let poster = entry
        .as_ref()
        .and_then(|v| v.thumb)
        .and_then(|id| jobs.library.poster_file(&crate::library::poster_name(id)))
        .filter(|p| p.is_file());
    let title = entry
        .map(|v| v.title())
        .unwrap_or_else(|| crate::library::title_of(source));
    (poster, title)
}

/// One ffmpeg for the batch: the lead's control stops it, and cancelling
/// any other version stops it too (the others go back).
fn run_together(jobs: &Jobs, run: Run, ids: &[u64], controls: &[Arc<Control>]) -> Outcome {
    let lead = &controls[0];
    ffmpeg::run(&jobs.tools, run, lead, |p| {
        for id in ids {
            jobs.set_progress(*id, p);
        }
        if controls[1..]
            .iter()
            .any(|c| c.cancelled.load(Ordering::SeqCst))
        {
            lead.kill();
        }
    })
}

/// How each planned version ended, from the one run's outcome; `asked`
/// says whose cancel stopped it.
fn settle(
    jobs: &Jobs,
    planned: Vec<Planned>,
    outcome: Outcome,
    asked: impl Fn(u64) -> bool,
    duration: Option<f64>,
) -> Vec<EndedOne> {
    let each = |e: &dyn Fn(u64) -> Ended| -> Vec<EndedOne> {
        planned.iter().map(|p| (p.id, e(p.id), None)).collect()
    };
    match outcome {
        Outcome::Done => planned
            .into_iter()
            .map(|p| put_in_place(jobs, p, duration))
            .collect(),
        Outcome::NoSpace { .. } => each(&|_| Ended::NoSpace(Room::FilledUp)),
        Outcome::Cancelled | Outcome::Failed { .. } if planned.iter().any(|p| asked(p.id)) => {
            each(&|id| {
                if asked(id) {
                    Ended::Cancelled
                } else {
                    Ended::GiveBack
                }
            })
        }
        Outcome::Cancelled => each(&|_| Ended::Cancelled),
        Outcome::Failed { why, tail } => each(&|_| Ended::Failed {
            reason: why.sentence(),
            transient: why.transient(),
            log: tail.clone(),
            needs_transcode: false,
        }),
    }
}

/// The disk's room for every output (about its bitrate times the
/// video's length), beside the reserve.
fn too_little_room(
    jobs: &Jobs,
    video: &Path,
    planned: &[Planned],
    duration: Option<f64>,
) -> Option<Room> {
    let seconds = duration.unwrap_or(0.0);
    let need: u64 = planned
        .iter()
        .map(|p| match &p.output {
            Output::Video(spec, _) => (spec.bitrate() as f64 * seconds / 8.0) as u64,
            Output::Audio(_) => (192_000.0 * seconds / 8.0) as u64,
        })
        .sum();
    let reserve = jobs.settings.disk_reserve;
    let free = crate::fsutil::free_space(video.parent()?)?;
    (free < need.saturating_add(reserve)).then_some(Room::TooLittle {
        need,
        free,
        reserve,
    })
}

/// Checks one output as ffprobe reads it, then fsyncs and renames it
/// over its name beside the video (a version older than its video).
fn put_in_place(jobs: &Jobs, p: Planned, duration: Option<f64>) -> EndedOne {
    let probe = match media::probe(&jobs.tools, p.tmp.path()) {
        Ok(probe) => probe,
        Err(e) => {
            return (
                p.id,
                failed(format!("the version can't be read: {e}")),
                None,
            )
        }
    };
    if let Err(why) = versions::check(&p.output, &probe, duration) {
        return (
            p.id,
            failed(format!("the version came out wrong: {why}")),
            None,
        );
    }
    let placed = sync_file(p.tmp.path())
        .and_then(|_| std::fs::rename(p.tmp.path(), &p.target))
        .and_then(|_| sync_dir(p.target.parent().unwrap_or(Path::new("."))));
    if let Err(e) = placed {
        let e = Ended::Failed {
            reason: format!("the version could not be put in place: {e}"),
            transient: true,
            log: Vec::new(),
            needs_transcode: false,
        };
        return (p.id, e, None);
    }
    p.tmp.keep();
    let size = std::fs::metadata(&p.target).map(|m| m.len()).unwrap_or(0);
    let video = probe.video();
    let made = Made {
        size,
        width: video.and_then(media::shown_size).map(|s| s.0),
        height: video.and_then(media::shown_size).map(|s| s.1),
        bitrate: probe
            .duration
            .filter(|d| *d > 0.0)
            .map(|d| (size as f64 * 8.0 / d) as u64)
            .unwrap_or(0),
    };
    (p.id, Ended::Done(p.rel), Some((p.output.version(), made)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::ffmpeg::Failure;

    fn pic(width: u32, height: u32, bitrate: u64) -> Picture {
        Picture {
            width,
            height,
            fps: Some(25.0),
            bitrate: Some(bitrate),
        }
    }

    #[test]
    fn what_is_not_needed_is_said_as_data() {
        let film = pic(1920, 1080, 10_000_000);
        assert_eq!(
            output_of(Version::Audio, film, false).unwrap_err(),
            NotNeeded::NoSound
        );
        assert!(matches!(
            output_of(Version::Audio, film, true),
            Ok(Output::Audio(_))
        ));
        match output_of(Version::P360, film, true) {
            Ok(Output::Video(spec, _)) => assert_eq!((spec.width, spec.height), (640, 360)),
            other => panic!("{other:?}"),
        }
        // A small, thin clip: a 720p version would be no smaller.
        let why = output_of(Version::P720, pic(854, 480, 900_000), true).unwrap_err();
        assert_eq!(
            why,
            NotNeeded::NotSmaller {
                version: Version::P720,
                lines: 480,
                bitrate: 900_000
            }
        );
        assert!(
            why.to_string().contains("already 480 lines at 0.9 Mb/s"),
            "{why}"
        );
    }

    #[test]
    fn one_run_ends_each_version_as_its_cause_says() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = super::super::testing::jobs(dir.path());
        let video = dir.path().join("Film.mp4");
        let planned = || {
            [(1, Version::P720), (2, Version::Audio)]
                .map(|(id, v)| {
                    let output = output_of(v, pic(1920, 1080, 10_000_000), true).unwrap();
                    Planned::new(id, output, "Film.mp4", &video)
                })
                .into_iter()
                .collect::<Vec<_>>()
        };
        let p = planned();
        assert_eq!(p[0].rel, "Film.mp4.720p");
        assert_eq!(p[0].target, dir.path().join("Film.mp4.720p"));
        let tmp = p[1]
            .tmp
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(tmp.starts_with('.'), "a hidden temp file beside it: {tmp}");
        let names = |ended: Vec<EndedOne>| -> Vec<String> {
            ended
                .into_iter()
                .map(|(id, e, _)| format!("{id} {e:?}"))
                .collect()
        };
        let none = |_: u64| false;
        // Cancelling one stops the run: it is cancelled, the other goes back.
        let ended = settle(&jobs, planned(), Outcome::Cancelled, |id| id == 2, None);
        assert_eq!(names(ended), ["1 GiveBack", "2 Cancelled"]);
        let ended = settle(&jobs, p, Outcome::NoSpace { tail: vec![] }, none, None);
        assert!(names(ended).iter().all(|e| e.contains("NoSpace(FilledUp)")));
        let why = Failure::Killed { signal: 9 };
        let ended = settle(
            &jobs,
            planned(),
            Outcome::Failed {
                why: why.clone(),
                tail: vec!["last".into()],
            },
            none,
            None,
        );
        for (_, e, made) in ended {
            assert!(made.is_none());
            match e {
                Ended::Failed {
                    reason,
                    transient,
                    log,
                    ..
                } => {
                    assert_eq!(
                        (reason, transient, log),
                        (why.sentence(), why.transient(), vec!["last".to_string()])
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        // No temp file is left behind by any of them.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("version"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
