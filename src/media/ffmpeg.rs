//! Running ffmpeg through ffmpeg-sidecar: blocking, so callers put it on
//! the blocking pool. Every child is waited for (no zombies), its events are
//! drained (or ffmpeg stalls on a full pipe), and success is its exit
//! status, not sidecar's "No streams found" error (false when writing files).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use ffmpeg_sidecar::command::FfmpegCommand;
use ffmpeg_sidecar::event::{FfmpegEvent, LogLevel};

use super::launch::Priority;
use super::Tools;

/// Lines of ffmpeg's log kept for a failed job.
const TAIL: usize = 20;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Progress {
    pub percent: f64,
    pub speed: Option<f32>,
    pub eta_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    Cancelled,
    /// The disk filled up while ffmpeg wrote (`ENOSPC`): nothing is wrong
    /// with the input, and it is worth trying again once there is room.
    NoSpace {
        tail: Vec<String>,
    },
    Failed {
        why: Failure,
        /// The last lines of ffmpeg's log.
        tail: Vec<String>,
    },
}

/// Why an ffmpeg run failed, as data; [`Failure::sentence`] says it to a
/// person (the jobs page, the API, the log).
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// No ffmpeg to run: why, as the start-up check said it.
    Unavailable(String),
    /// It would not start (the OS error).
    NotStarted(String),
    /// It was started but could not be waited for (the OS error).
    Lost(String),
    /// A signal ended it (out of memory, a kill from outside).
    Killed { signal: i32 },
    /// It could not write its output (an I/O error on the disk).
    CouldNotWrite { status: i32, line: String },
    /// It exited with an error: its status and most telling line.
    Exited { status: i32, line: String },
}

impl Failure {
    /// Worth another try: a kill, an I/O error, a lost child. Not: bad
    /// input, or no ffmpeg.
    pub fn transient(&self) -> bool {
        matches!(
            self,
            Failure::Lost(_) | Failure::Killed { .. } | Failure::CouldNotWrite { .. }
        )
    }

    pub fn sentence(&self) -> String {
        match self {
            Failure::Unavailable(why) => why.clone(),
            Failure::NotStarted(e) => format!("ffmpeg could not be started: {e}"),
            Failure::Lost(e) => format!("could not wait for ffmpeg: {e}"),
            Failure::Killed { signal } => format!("ffmpeg was killed by signal {signal}"),
            Failure::CouldNotWrite { status, line } => {
                format!("ffmpeg could not write the output (exit status {status}): {line}")
            }
            Failure::Exited { status, line } => {
                format!("ffmpeg failed (exit status {status}): {line}")
            }
        }
    }
}

/// What the async side shares with a running ffmpeg: the pid to signal,
/// and whether the stop was asked for (so a kill is not a crash).
#[derive(Debug, Default)]
pub struct Control {
    pub pid: AtomicU32,
    pub cancelled: AtomicBool,
}

impl Control {
    /// Stops ffmpeg; the thread that runs it reaps it.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.signal(nix::sys::signal::Signal::SIGKILL);
    }

    /// Stops ffmpeg without saying the stop was asked for (another job
    /// of the same run was cancelled).
    pub fn kill(&self) {
        self.signal(nix::sys::signal::Signal::SIGKILL);
    }

    /// Freezes ffmpeg where it is (SIGSTOP), or lets it go on (SIGCONT).
    /// The launch chain `exec`s, so the pid is ffmpeg's own.
    pub fn pause(&self, paused: bool) {
        use nix::sys::signal::Signal;
        self.signal(if paused {
            Signal::SIGSTOP
        } else {
            Signal::SIGCONT
        });
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = self.pid.load(Ordering::SeqCst);
        if pid != 0 {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal);
        }
    }
}

/// ffmpeg at a low priority, set up for sidecar: all three pipes
/// (sidecar panics otherwise), "level+info" lines (what it parses), never a
/// prompt or an overwrite.
fn sidecar_command(tools: &Tools, priority: Priority) -> Option<Command> {
    let mut cmd = tools.ffmpeg_command(priority)?;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.args(["-hide_banner", "-nostdin", "-n", "-loglevel", "level+info"]);
    Some(cmd)
}

/// ffmpeg writing the first audio track of `file` to its stdout as MP3
/// (`/listen`); the caller sets the pipes and owns the child.
pub fn audio_as_mp3(tools: &Tools, file: &Path) -> Option<Command> {
    // Live, but never ahead of the TV's own work: as a remux runs.
    let mut cmd = tools.ffmpeg_command(Priority::Background)?;
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-i"])
        .arg(file)
        .args(["-vn", "-map", "0:a:0", "-c:a", "libmp3lame", "-b:a", "160k"])
        .args(["-f", "mp3", "pipe:1"]);
    Some(cmd)
}

/// One ffmpeg run: `ffmpeg <input_args> -i <input> <output_args>`.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// Options for the input (such as `-ss` to seek before decoding).
    pub input_args: &'a [String],
    pub input: &'a Path,
    pub output_args: &'a [String],
    /// The input's duration, for the percent done.
    pub duration: Option<f64>,
    /// `Background` for remuxes and posters, `Lowest` for transcodes.
    pub priority: Priority,
}

/// Runs ffmpeg at background priority, reporting progress; stops when
/// `control` is cancelled. Blocking.
pub fn run(
    tools: &Tools,
    job: Run<'_>,
    control: &Control,
    on_progress: impl FnMut(Progress),
) -> Outcome {
    let Some(mut cmd) = sidecar_command(tools, job.priority) else {
        return Outcome::Failed {
            why: Failure::Unavailable(tools.ffmpeg_unavailable()),
            tail: Vec::new(),
        };
    };
    cmd.args(job.input_args)
        .arg("-i")
        .arg(job.input)
        .args(job.output_args);
    let mut child = match FfmpegCommand::from(cmd).spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome::Failed {
                why: Failure::NotStarted(e.to_string()),
                tail: Vec::new(),
            }
        }
    };
    control.pid.store(child.as_inner().id(), Ordering::SeqCst);
    if control.cancelled.load(Ordering::SeqCst) {
        let _ = child.kill();
    }
    let tail = drain(&mut child, job.duration, on_progress);
    let status = child.wait();
    control.pid.store(0, Ordering::SeqCst);
    if control.cancelled.load(Ordering::SeqCst) {
        return Outcome::Cancelled;
    }
    match status {
        Ok(s) => judge(s, tail),
        Err(e) => Outcome::Failed {
            why: Failure::Lost(e.to_string()),
            tail,
        },
    }
}

/// Reads every event until ffmpeg ends (or it stalls on a full pipe):
/// progress goes to `on_progress`, and the last lines of its log are kept.
fn drain(
    child: &mut ffmpeg_sidecar::child::FfmpegChild,
    duration: Option<f64>,
    mut on_progress: impl FnMut(Progress),
) -> Vec<String> {
    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL);
    let mut keep = |line: String| {
        if tail.len() == TAIL {
            tail.pop_front();
        }
        tail.push_back(line);
    };
    match child.iter() {
        Ok(events) => {
            for event in events {
                match event {
                    FfmpegEvent::Progress(p) => on_progress(progress(&p.time, p.speed, duration)),
                    FfmpegEvent::Log(level, line)
                        if matches!(
                            level,
                            LogLevel::Warning | LogLevel::Error | LogLevel::Fatal
                        ) || !line.trim_start().starts_with("frame=") =>
                    {
                        keep(line);
                    }
                    // sidecar's own complaints ("No streams found" when
                    // writing a file) are not ffmpeg's verdict.
                    FfmpegEvent::Error(_) => {}
                    _ => {}
                }
            }
        }
        Err(e) => keep(format!("could not read ffmpeg's output: {e}")),
    }
    tail.into_iter().collect()
}

/// Percent, speed and time left from ffmpeg's `time=` and `speed=`.
fn progress(time: &str, speed: f32, duration: Option<f64>) -> Progress {
    let done = parse_time(time);
    let percent = match (done, duration) {
        (Some(t), Some(d)) if d > 0.0 => (t / d * 100.0).clamp(0.0, 100.0),
        _ => 0.0,
    };
    let speed = (speed > 0.0).then_some(speed);
    let eta_secs = match (done, duration, speed) {
        (Some(t), Some(d), Some(s)) => Some(((d - t).max(0.0) / s as f64) as u64),
        _ => None,
    };
    Progress {
        percent,
        speed,
        eta_secs,
    }
}

/// ffmpeg's verdict from its exit: out of disk, killed or an I/O error
/// (worth another try), or failed with its most telling line. ffmpeg says
/// why only in words; this is the one place they are read.
fn judge(status: std::process::ExitStatus, tail: Vec<String>) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    if status.success() {
        return Outcome::Done;
    }
    let text = tail.join("\n");
    if status.signal().is_none() && text.contains("No space left on device") {
        return Outcome::NoSpace { tail };
    }
    let disk = text.contains("Input/output error");
    let status_code = status.code().unwrap_or(-1);
    let why = match status.signal() {
        Some(signal) => Failure::Killed { signal },
        None if disk => Failure::CouldNotWrite {
            status: status_code,
            line: last_error(&tail),
        },
        None => Failure::Exited {
            status: status_code,
            line: last_error(&tail),
        },
    };
    Outcome::Failed { why, tail }
}

/// The most telling line of a failed run.
fn last_error(tail: &[String]) -> String {
    tail.iter()
        .rev()
        .find(|l| l.contains("rror") || l.contains("nvalid"))
        .or(tail.last())
        .cloned()
        .unwrap_or_else(|| "no output".into())
}

/// `00:01:02.50` -> 62.5 seconds.
pub fn parse_time(t: &str) -> Option<f64> {
    let mut secs = 0.0;
    for part in t.trim().trim_start_matches('-').split(':') {
        secs = secs * 60.0 + part.parse::<f64>().ok()?;
    }
    Some(secs)
}

/// Where ffmpeg's temp outputs for `target` go: dot-prefixed, same folder.
pub fn temp_for(target: &Path) -> PathBuf {
    crate::fsutil::temp_path_for(target, "remux")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_from_time_and_speed() {
        let p = progress("00:00:30.00", 2.0, Some(60.0));
        assert_eq!(
            (p.percent, p.speed, p.eta_secs),
            (50.0, Some(2.0), Some(15))
        );
        let unknown = progress("N/A", 0.0, Some(60.0));
        assert_eq!(
            (unknown.percent, unknown.speed, unknown.eta_secs),
            (0.0, None, None)
        );
    }

    #[test]
    fn verdicts_from_the_exit() {
        use std::os::unix::process::ExitStatusExt;
        let status = std::process::ExitStatus::from_raw;
        assert_eq!(judge(status(0), vec![]), Outcome::Done);
        let full = judge(
            status(1 << 8),
            vec!["out.mp4: No space left on device".into()],
        );
        assert!(matches!(full, Outcome::NoSpace { .. }), "{full:?}");
        let why = |o: Outcome| match o {
            Outcome::Failed { why, .. } => why,
            other => panic!("not a failure: {other:?}"),
        };
        let io = why(judge(
            status(1 << 8),
            vec!["out.mp4: Input/output error".into()],
        ));
        assert!(io.transient() && io.sentence().contains("could not write"));
        let killed = why(judge(status(9), vec![]));
        assert_eq!(killed, Failure::Killed { signal: 9 });
        assert!(killed.transient());
        assert_eq!(killed.sentence(), "ffmpeg was killed by signal 9");
        let bad = why(judge(
            status(1 << 8),
            vec!["x".into(), "Invalid data found".into(), "y".into()],
        ));
        assert!(!bad.transient());
        assert_eq!(
            bad.sentence(),
            "ffmpeg failed (exit status 1): Invalid data found"
        );
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("00:01:02.50"), Some(62.5));
        assert_eq!(parse_time("10.0"), Some(10.0));
        assert_eq!(parse_time("N/A"), None);
    }
}
