//! One job, start to end: probe, plan (a remux or a transcode), ffmpeg to
//! hidden temp files (a failed hardware encode is done again with
//! libx264), check the output's duration, fsync, rename, update the library.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::shows::{self, Showing};
use super::{Job, Jobs};
use crate::format::human_size;
use crate::fsutil::{blocking, TempFile};
use crate::library::found_file;
use crate::media::ffmpeg::{self, Control, Outcome};
use crate::media::launch::Priority;
use crate::media::{self, mp4, Conversion, Encoder, Plan, DURATION_SLACK};

#[derive(Debug, Clone)]
pub enum Ended {
    /// The MP4's library path.
    Done(String),
    Cancelled,
    /// Stopped for another job's sake: queued again, the attempt given
    /// back (a version made in one run with one that was cancelled).
    GiveBack,
    /// The disk is too full to write the output: the job waits for space
    /// (its temp file is gone, the source untouched).
    NoSpace(Room),
    /// Nothing to make (a version no smaller than its video): not a
    /// failure, never retried.
    NotNeeded(crate::media::versions::NotNeeded),
    /// What it needs is not installed yet (an OCR language pack): the job
    /// waits, looking again now and then; the sentence says what to do.
    Missing(String),
    Failed {
        reason: String,
        transient: bool,
        log: Vec<String>,
        needs_transcode: bool,
    },
}

pub(super) fn failed(reason: impl Into<String>) -> Ended {
    Ended::Failed {
        reason: reason.into(),
        transient: false,
        log: Vec::new(),
        needs_transcode: false,
    }
}

/// How full the disk was when a conversion could not start or finish.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Room {
    /// Checked before starting: about `need` bytes, with `free` free and
    /// `reserve` kept.
    TooLittle { need: u64, free: u64, reserve: u64 },
    /// It filled up while ffmpeg wrote.
    FilledUp,
}

impl Room {
    /// What the jobs page and the API say.
    pub fn sentence(self) -> String {
        match self {
            Room::TooLittle { need, free, reserve } => format!(
                "the disk is too full: the MP4 needs about {} and {} is free (with {} kept in reserve); it starts once there is room",
                human_size(need),
                human_size(free),
                human_size(reserve)
            ),
            Room::FilledUp => {
                "the disk filled up while writing the MP4; it is tried again once there is room"
                    .into()
            }
        }
    }
}

pub async fn run(jobs: Arc<Jobs>, job: &Job, control: Arc<Control>) -> Ended {
    match steps(&jobs, job, control).await {
        Ok(rel) => Ended::Done(rel),
        Err(ended) => ended,
    }
}

/// The job's steps; each either hands on what the next needs or ends it.
async fn steps(jobs: &Arc<Jobs>, job: &Job, control: Arc<Control>) -> Result<String, Ended> {
    if jobs.tools.ffmpeg.is_none() || jobs.tools.ffprobe.is_none() {
        return Err(failed(jobs.tools.ffmpeg_unavailable()));
    }
    let src = Source::locate(jobs, job).await?;
    let probe = probe(jobs, job, &src.path).await?;
    let settings = &jobs.settings;
    let plan = media::plan(&probe, &settings.target.borrow(), settings.transcode).map_err(|e| {
        Ended::Failed {
            reason: e.to_string(),
            transient: false,
            log: Vec::new(),
            needs_transcode: true,
        }
    })?;
    let duration = plan.output_duration(&probe);
    room_for(jobs, &src).await?;
    let mut encoder = match plan.conversion() {
        Conversion::Transcode => {
            let e = jobs.encoder.get(&jobs.tools).await;
            jobs.set_encoder(job.id, e);
            e
        }
        Conversion::Remux | Conversion::Version | Conversion::Subtitles => Encoder::X264,
    };
    let out = loop {
        jobs.set_plan(job.id, plan.describe(encoder));
        let out = Outputs::new(&src, &plan);
        let task = Task {
            src: &src.path,
            plan: &plan,
            duration,
            video_from: None,
        };
        let ran = convert(jobs, job, control.clone(), task, &out, encoder).await;
        match ran {
            Err(Ended::Failed { reason, .. })
                if encoder.is_hardware() && plan.conversion() == Conversion::Transcode =>
            {
                tracing::warn!(
                    "job {}: {} failed ({reason}); encoding again with libx264",
                    job.id,
                    encoder.name()
                );
                encoder = Encoder::X264;
                jobs.set_encoder(job.id, encoder);
            }
            Err(e) => return Err(no_space_or(&src, e).await),
            Ok(()) => break out,
        }
    };
    complete(jobs, job, &src, (&plan, &probe), out, duration).await
}

/// The last steps of every conversion, the Pi's or a runner's: the MP4
/// is whole, on disk, in place, and the library knows it.
async fn complete(
    jobs: &Arc<Jobs>,
    job: &Job,
    src: &Source,
    (plan, probe): (&Plan, &media::Probe),
    out: Outputs,
    duration: Option<f64>,
) -> Result<String, Ended> {
    let (summary, cut_off) = match verify(jobs, &src.path, &out, duration).await {
        Ok(s) => s,
        Err(e) => return Err(no_space_or(src, e).await),
    };
    if let Some(claimed) = cut_off {
        let (ends, of) = (
            crate::format::clock(summary.duration),
            crate::format::clock(claimed),
        );
        let line = format!(
            "the source ends at {ends} of the {of} its header says: the file seems cut off, and the MP4 has what there is"
        );
        tracing::warn!("job {}: {line}", job.id);
        let note = format!("It ends at {ends} of {of}: the file seems cut off.");
        jobs.set_note(job.id, line, note);
    }
    save(&out).await?;
    let mp4 = place(jobs, src, plan, out).await?;
    let rel = record(
        jobs,
        job,
        src,
        &plan.output_probe(probe, summary.duration),
        &mp4,
    );
    if jobs.settings.delete_originals {
        remove_original(jobs, job, src, plan, probe, &mp4).await;
    }
    Ok(rel)
}

/// A runner's MP4 for `job` (`video`, a temp file beside the source):
/// held to the rules a transcode on the Pi is, then completed on the Pi
/// by a remux with what the runner does not make (the source's audio
/// tracks as the plan has them, its subtitles as WebVTT) and placed.
pub async fn finish_remote(jobs: Arc<Jobs>, job: &Job, video: TempFile) -> Ended {
    let steps = async {
        let src = Source::locate(&jobs, job).await?;
        let probe = probe(&jobs, job, &src.path).await?;
        let target = *jobs.settings.target.borrow();
        let plan = media::plan(&probe, &target, true).map_err(|e| failed(e.to_string()))?;
        let media::VideoAction::Encode(encode) = &plan.video_action else {
            return Err(failed("this video no longer needs a transcode"));
        };
        let duration = plan.output_duration(&probe);
        let mut described = plan.describe(Encoder::X264);
        if let Some(first) = described.first_mut() {
            *first = format!(
                "video stream {} ({}): transcoded to H.264 on the PC {}",
                plan.video,
                plan.video_codec,
                job.runner.as_deref().unwrap_or("")
            );
        }
        jobs.set_plan(job.id, described);
        check_remote(&jobs, video.path(), encode.level, &plan, duration).await?;
        room_for(&jobs, &src).await?;
        let out = Outputs::new(&src, &plan);
        let task = Task {
            src: &src.path,
            plan: &plan,
            duration,
            video_from: Some(video.path()),
        };
        let control = Arc::new(Control::default());
        if let Err(e) = convert(&jobs, job, control, task, &out, Encoder::X264).await {
            return Err(no_space_or(&src, e).await);
        }
        complete(&jobs, job, &src, (&plan, &probe), out, duration).await
    };
    match steps.await {
        Ok(rel) => Ended::Done(rel),
        Err(ended) => ended,
    }
}

/// What a runner sent must be what a transcode on the Pi makes: H.264,
/// 8-bit 4:2:0, within the plan's level, as long as the source's picture,
/// with sound when the source has it.
async fn check_remote(
    jobs: &Jobs,
    file: &Path,
    level: u32,
    plan: &Plan,
    duration: Option<f64>,
) -> Result<(), Ended> {
    let (tools, f) = (jobs.tools.clone(), file.to_path_buf());
    let probe = match blocking(move || media::probe(&tools, &f)).await {
        Some(Ok(p)) => p,
        Some(Err(e)) => return Err(failed(format!("the PC's MP4 can't be read: {e}"))),
        None => return Err(failed("reading the PC's MP4 stopped unexpectedly")),
    };
    let refuse = |why: String| Err(failed(format!("the PC's MP4 was refused: {why}")));
    let Some(v) = probe.video() else {
        return refuse("it has no picture".into());
    };
    if v.codec != "h264" {
        return refuse(format!("its video is {}, not H.264", v.codec));
    }
    if v.format.pix_fmt.as_deref() != Some("yuv420p") {
        return refuse(format!(
            "its picture is {}, not 8-bit 4:2:0",
            v.format
                .pix_fmt
                .as_deref()
                .unwrap_or("of an unknown format")
        ));
    }
    if let Some(l) = v.format.level.filter(|l| *l > level as i32) {
        return refuse(format!(
            "its H.264 level is {}.{}, above {}.{}",
            l / 10,
            l % 10,
            level / 10,
            level % 10
        ));
    }
    let has_sound = probe.streams.iter().any(|s| s.kind == "audio");
    if !plan.audio.is_empty() && !has_sound {
        return refuse("it has no sound, and the source has".into());
    }
    let got = v.duration.or(probe.duration);
    if let (Some(want), Some(got)) = (duration, got) {
        if (want - got).abs() > DURATION_SLACK {
            return refuse(format!(
                "it is {got:.1} s long, the source's picture {want:.1} s"
            ));
        }
    }
    Ok(())
}

/// `--delete-originals`: the source goes only when its MP4 is a lossless
/// copy of every stream (a remux that dropped nothing) and ffprobe reads
/// back from the placed file every stream the plan promised. A transcode
/// always keeps its source: its output is lossy, and the house may get a
/// TV that plays the original.
async fn remove_original(
    jobs: &Jobs,
    job: &Job,
    src: &Source,
    plan: &Plan,
    source: &media::Probe,
    mp4: &Path,
) {
    if !plan.keeps_every_stream(source) {
        tracing::info!(
            "kept the original {} (--delete-originals): its {} is not a lossless copy of every stream",
            job.source,
            plan.conversion().name()
        );
        return;
    }
    let vtts: Vec<PathBuf> = plan
        .subtitles
        .iter()
        .map(|s| src.dir.join(Plan::subtitle_name(mp4, &s.suffix)))
        .collect();
    let (tools, out) = (jobs.tools.clone(), mp4.to_path_buf());
    let read_back = blocking(move || {
        let subtitles_there = vtts
            .iter()
            .all(|v| std::fs::metadata(v).is_ok_and(|m| m.len() > 0));
        let codecs: Vec<String> = match media::probe(&tools, &out) {
            Ok(p) => p
                .streams
                .iter()
                .filter(|s| matches!(s.kind.as_str(), "video" | "audio") && !s.attached_pic)
                .map(|s| s.codec.clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        (codecs, subtitles_there)
    })
    .await;
    let (got, subtitles_there) = read_back.unwrap_or_default();
    let want = plan.promised_codecs(source);
    if got != want || !subtitles_there {
        tracing::warn!(
            "kept the original {} (--delete-originals): its MP4 reads back as {got:?}, not {want:?}{}",
            job.source,
            if subtitles_there { "" } else { ", or a subtitle file is missing" }
        );
        return;
    }
    match tokio::fs::remove_file(&src.path).await {
        Ok(()) => {
            tracing::info!("removed the original {} (--delete-originals)", job.source);
            jobs.library.remove(&job.source);
        }
        Err(e) => tracing::warn!("could not remove the original {}: {e}", job.source),
    }
}

/// A failure while the output's temp file is still there: when the disk
/// is all but full, the job waits for space instead of failing. (ffmpeg
/// does not always exit non-zero, or say so, when a write fails.)
async fn no_space_or(src: &Source, e: Ended) -> Ended {
    if !matches!(e, Ended::Failed { .. }) {
        return e;
    }
    let dir = src.dir.clone();
    let free = blocking(move || crate::fsutil::free_space(&dir))
        .await
        .flatten();
    if free.is_some_and(|f| f < 256 * 1024) {
        return Ended::NoSpace(Room::FilledUp);
    }
    e
}

/// Whether the disk has room for the output (about the source's size)
/// and the reserve uploads keep; if not, the job waits for space.
async fn room_for(jobs: &Jobs, src: &Source) -> Result<(), Ended> {
    let (dir, file) = (src.dir.clone(), src.path.clone());
    let (free, need) = blocking(move || {
        let need = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        (crate::fsutil::free_space(&dir), need)
    })
    .await
    .unwrap_or((None, 0));
    let reserve = jobs.settings.disk_reserve;
    match free {
        Some(free) if free < need.saturating_add(reserve) => Err(Ended::NoSpace(Room::TooLittle {
            need,
            free,
            reserve,
        })),
        _ => Ok(()),
    }
}

/// The source file and where its outputs go.
pub(super) struct Source {
    root: PathBuf,
    pub(super) path: PathBuf,
    pub(super) dir: PathBuf,
    /// The playable MP4's name (see [`media::made::tv_version`]).
    pub(super) output_name: String,
}

impl Source {
    pub(super) async fn locate(jobs: &Jobs, job: &Job) -> Result<Source, Ended> {
        let root = jobs.library.root().to_path_buf();
        let (r, rel) = (root.clone(), job.source.clone());
        let path = blocking(move || crate::paths::on_disk(&r, &rel))
            .await
            .ok_or_else(|| failed("finding the source stopped unexpectedly"))?;
        // Its outputs are named as the library reads it (a name that is
        // not UTF-8 gets a UTF-8 one).
        let (Some(dir), Some(name)) = (
            path.parent().map(Path::to_path_buf),
            job.source.rsplit('/').next().filter(|n| !n.is_empty()),
        ) else {
            return Err(failed("the source path has no file name"));
        };
        if !tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file()) {
            return Err(failed("the source file is gone"));
        }
        let output_name = media::made::tv_version(name);
        Ok(Source {
            root,
            path,
            dir,
            output_name,
        })
    }
}

/// What ffprobe says of the source. The library probed it already (scan or
/// upload) unless it changed since; if its probe is on the way, the job
/// waits for it rather than run a second one.
pub(super) async fn probe(jobs: &Jobs, job: &Job, src: &Path) -> Result<media::Probe, Ended> {
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        jobs.library.wait_for_probe(&job.source),
    )
    .await;
    if let Some(p) = jobs.library.probe_of(&job.source) {
        return Ok(p);
    }
    let (t, s) = (jobs.tools.clone(), src.to_path_buf());
    match blocking(move || media::probe(&t, &s)).await {
        Some(Ok(p)) => {
            jobs.library.record_probe_of(&job.source, p.clone());
            Ok(p)
        }
        Some(Err(e)) => Err(failed(format!("ffmpeg can't read this file: {e}"))),
        None => Err(failed("probing the source stopped unexpectedly")),
    }
}

/// ffmpeg's hidden temp outputs, removed unless they are put in place.
struct Outputs {
    mp4: TempFile,
    subs: Vec<TempFile>,
}

impl Outputs {
    fn new(src: &Source, plan: &Plan) -> Outputs {
        let target = src.dir.join(&src.output_name);
        // A temp file goes beside its final name: only ever in the
        // source's own folder, whatever a plan's name says.
        let subs = plan
            .subtitles
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let name = Plan::subtitle_name(&target, &s.suffix);
                let name = crate::fsutil::checked_name(&name)
                    .map(str::to_string)
                    .unwrap_or_else(|_| format!("subtitles-{i}.vtt"));
                TempFile::new(ffmpeg::temp_for(&src.dir.join(name)))
            })
            .collect();
        Outputs {
            mp4: TempFile::new(ffmpeg::temp_for(&target)),
            subs,
        }
    }

    fn sub_paths(&self) -> Vec<PathBuf> {
        self.subs.iter().map(|t| t.path().to_path_buf()).collect()
    }
}

/// What ffmpeg converts: the source, the plan, and how long the output
/// will be (for the percent done).
#[derive(Clone, Copy)]
struct Task<'a> {
    src: &'a Path,
    plan: &'a Plan,
    duration: Option<f64>,
    /// The video a runner made, copied instead of the plan's video.
    video_from: Option<&'a Path>,
}

/// Runs ffmpeg on the blocking pool, reporting progress to the job: a
/// remux at background priority, a transcode at the lowest.
async fn convert(
    jobs: &Arc<Jobs>,
    job: &Job,
    control: Arc<Control>,
    task: Task<'_>,
    out: &Outputs,
    encoder: Encoder,
) -> Result<(), Ended> {
    let Task {
        src,
        plan,
        duration,
        video_from,
    } = task;
    let (input_args, args, priority) = match video_from {
        // The runner's video is input 0, the source input 1: a remux.
        Some(video) => (
            vec!["-i".to_string(), video.to_string_lossy().into_owned()],
            plan.combine_args(out.mp4.path(), &out.sub_paths()),
            Priority::Background,
        ),
        None => (
            plan.input_args(encoder),
            plan.output_args(out.mp4.path(), &out.sub_paths(), encoder),
            match plan.conversion() {
                Conversion::Remux => Priority::Background,
                _ => Priority::Lowest,
            },
        ),
    };
    let run = Ffmpeg {
        input_args,
        input: src.to_path_buf(),
        args,
        duration,
        priority,
    };
    run_ffmpeg(jobs, job.id, run, control).await
}

/// One ffmpeg run of a job's, as [`run_ffmpeg`] takes it.
pub(super) struct Ffmpeg {
    pub input_args: Vec<String>,
    pub input: PathBuf,
    pub args: Vec<String>,
    pub duration: Option<f64>,
    pub priority: Priority,
}

/// Runs ffmpeg off the async workers, its progress on job `id`; how it
/// ended, as the job's end when it did not succeed.
pub(super) async fn run_ffmpeg(
    jobs: &Arc<Jobs>,
    id: u64,
    run: Ffmpeg,
    control: Arc<Control>,
) -> Result<(), Ended> {
    let (jobs2, tools) = (jobs.clone(), jobs.tools.clone());
    let outcome = blocking(move || {
        let task = ffmpeg::Run {
            input_args: &run.input_args,
            input: &run.input,
            output_args: &run.args,
            duration: run.duration,
            priority: run.priority,
        };
        ffmpeg::run(&tools, task, &control, |p| jobs2.set_progress(id, p))
    })
    .await
    .unwrap_or(Outcome::Failed {
        why: ffmpeg::Failure::Lost("the thread that ran it stopped unexpectedly".into()),
        tail: Vec::new(),
    });
    match outcome {
        Outcome::Done => Ok(()),
        Outcome::Cancelled => Err(Ended::Cancelled),
        Outcome::NoSpace { .. } => Err(Ended::NoSpace(Room::FilledUp)),
        Outcome::Failed { why, tail } => Err(Ended::Failed {
            reason: why.sentence(),
            transient: why.transient(),
            log: tail,
            needs_transcode: false,
        }),
    }
}

/// The output must be whole: the source's duration, give or take, and its
/// index first. Read from the file itself, without a process.
async fn verify(
    jobs: &Jobs,
    source: &Path,
    out: &Outputs,
    source_duration: Option<f64>,
) -> Result<(mp4::Mp4Summary, Option<f64>), Ended> {
    let o = out.mp4.path().to_path_buf();
    let summary = match blocking(move || mp4::summarize(&o)).await {
        Some(Ok(Some(s))) => s,
        Some(Ok(None)) => {
            return Err(failed(
                "the MP4 ffmpeg wrote is not a readable MP4; it was not kept",
            ))
        }
        Some(Err(e)) => {
            return Err(failed(format!(
                "the MP4 ffmpeg wrote can't be read back: {e}"
            )))
        }
        None => return Err(failed("checking the output stopped unexpectedly")),
    };
    let mut cut_off = None;
    if let Some(a) = source_duration {
        let b = summary.duration;
        let short = b < a - DURATION_SLACK;
        // Shorter than its header says, and so is the source itself (a
        // download cut off): the MP4 has all there is.
        let source_ends_there = short
            && source_end(jobs, source, b)
                .await
                .is_some_and(|end| (end - b).abs() <= DURATION_SLACK);
        if source_ends_there {
            cut_off = Some(a);
        } else if (a - b).abs() > DURATION_SLACK {
            return Err(failed(format!(
                "the MP4 is {b:.1} s long but the source's picture and sound last {a:.1} s; it was not kept"
            )));
        }
    }
    if !summary.faststart {
        return Err(failed(
            "ffmpeg put the MP4's index at the end; it was not kept",
        ));
    }
    Ok((summary, cut_off))
}

/// Where the source's last packet ends, read from its packets past
/// `after` seconds (not from its header, which a cut-off file keeps).
async fn source_end(jobs: &Jobs, source: &Path, after: f64) -> Option<f64> {
    let mut cmd = jobs.tools.ffprobe_command()?;
    cmd.args(["-v", "quiet", "-read_intervals"])
        .arg(format!("{:.3}%", (after - 5.0).max(0.0)))
        .args([
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
        ])
        .arg(source)
        .stdin(std::process::Stdio::null());
    let out = blocking(move || cmd.output()).await?.ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (pts, dur) = l.split_once(',').unwrap_or((l, "0"));
            Some(
                pts.trim().parse::<f64>().ok()?
                    + dur
                        .trim()
                        .trim_end_matches(',')
                        .parse::<f64>()
                        .unwrap_or(0.0),
            )
        })
        .reduce(f64::max)
}

/// fsync of every output, before any is renamed into sight.
async fn save(out: &Outputs) -> Result<(), Ended> {
    let all: Vec<PathBuf> = std::iter::once(out.mp4.path().to_path_buf())
        .chain(out.sub_paths())
        .collect();
    match blocking(move || all.iter().try_for_each(|p| crate::fsutil::sync_file(p))).await {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(Ended::Failed {
            reason: format!("the output could not be saved to disk: {e}"),
            transient: true,
            log: Vec::new(),
            needs_transcode: false,
        }),
        None => Err(failed("saving the output stopped unexpectedly")),
    }
}

/// Renames the MP4 to a free name beside the source, its subtitles after
/// its final stem. Returns the MP4's path.
async fn place(jobs: &Jobs, src: &Source, plan: &Plan, out: Outputs) -> Result<PathBuf, Ended> {
    let _one_at_a_time = jobs.rename_lock.lock().await;
    let suffixes: Vec<Option<String>> = plan.subtitles.iter().map(|s| s.suffix.clone()).collect();
    let (tmp, subs, dir, name) = (
        out.mp4.path().to_path_buf(),
        out.sub_paths(),
        src.dir.clone(),
        src.output_name.clone(),
    );
    let placed = blocking(move || -> std::io::Result<PathBuf> {
        let mp4 = crate::fsutil::place_unique(&tmp, &dir, &name)?;
        for (sub, sfx) in subs.iter().zip(&suffixes) {
            crate::fsutil::place_unique(sub, &dir, &Plan::subtitle_name(&mp4, sfx))?;
        }
        Ok(mp4)
    })
    .await;
    match placed {
        Some(Ok(mp4)) => {
            out.mp4.keep();
            for t in out.subs {
                t.keep();
            }
            Ok(mp4)
        }
        Some(Err(e)) => Err(failed(format!("the MP4 could not be put in place: {e}"))),
        None => Err(failed("renaming stopped unexpectedly")),
    }
}

/// The library learns of the MP4 (with what is known of it, so it is not
/// probed again) and that the source shows as it. Returns the MP4's
/// library path.
fn record(jobs: &Jobs, job: &Job, src: &Source, output: &media::Probe, mp4: &Path) -> String {
    let rel = mp4
        .strip_prefix(&src.root)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(found) = found_file(mp4, rel.clone()) {
        jobs.library.add(found, Some(output.clone()));
    }
    shows::tell(&jobs.library, &job.source, Showing::AsOutput(&rel));
    // Its versions are due now that it exists (intake decides which).
    jobs.library.judge_again(&rel);
    rel
}
