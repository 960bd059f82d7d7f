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
    Failed {
        reason: String,
        /// Worth another try: killed by a signal, disk full, I/O error.
        transient: bool,
        tail: Vec<String>,
    },
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
        let pid = self.pid.load(Ordering::SeqCst);
        if pid != 0 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// ffmpeg at background priority, set up for sidecar: all three pipes
/// (sidecar panics otherwise), "level+info" lines (what it parses), never a
/// prompt or an overwrite.
fn sidecar_command(tools: &Tools) -> Option<Command> {
    let mut cmd = tools.ffmpeg_command(Priority::Background)?;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.args(["-hide_banner", "-nostdin", "-n", "-loglevel", "level+info"]);
    Some(cmd)
}

/// ffmpeg writing the first audio track of `file` to its stdout as MP3
/// (`/listen`); the caller sets the pipes and owns the child.
pub fn audio_as_mp3(tools: &Tools, file: &Path) -> Option<Command> {
    let mut cmd = tools.ffmpeg_command(Priority::Interactive)?;
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-i"])
        .arg(file)
        .args(["-vn", "-map", "0:a:0", "-c:a", "libmp3lame", "-b:a", "160k"])
        .args(["-f", "mp3", "pipe:1"]);
    Some(cmd)
}

/// Runs `ffmpeg -i input <output_args>`, reporting progress against
/// `duration`. Blocking.
pub fn run(
    tools: &Tools,
    input: &Path,
    output_args: &[String],
    duration: Option<f64>,
    control: &Control,
    on_progress: impl FnMut(Progress),
) -> Outcome {
    run_with_input_args(
        tools,
        &[],
        input,
        output_args,
        duration,
        control,
        on_progress,
    )
}

/// [`run`] with options for the input (such as `-ss` to seek before decoding).
pub fn run_with_input_args(
    tools: &Tools,
    input_args: &[String],
    input: &Path,
    output_args: &[String],
    duration: Option<f64>,
    control: &Control,
    mut on_progress: impl FnMut(Progress),
) -> Outcome {
    let Some(mut cmd) = sidecar_command(tools) else {
        return Outcome::Failed {
            reason: tools.ffmpeg_unavailable(),
            transient: false,
            tail: Vec::new(),
        };
    };
    cmd.args(input_args).arg("-i").arg(input).args(output_args);
    let mut child = match FfmpegCommand::from(cmd).spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome::Failed {
                reason: format!("ffmpeg could not be started: {e}"),
                transient: false,
                tail: Vec::new(),
            }
        }
    };
    control.pid.store(child.as_inner().id(), Ordering::SeqCst);
    if control.cancelled.load(Ordering::SeqCst) {
        let _ = child.kill();
    }
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
                    FfmpegEvent::Progress(p) => {
                        let done = parse_time(&p.time);
                        let percent = match (done, duration) {
                            (Some(t), Some(d)) if d > 0.0 => (t / d * 100.0).clamp(0.0, 100.0),
                            _ => 0.0,
                        };
                        let speed = (p.speed > 0.0).then_some(p.speed);
                        let eta_secs = match (done, duration, speed) {
                            (Some(t), Some(d), Some(s)) => {
                                Some(((d - t).max(0.0) / s as f64) as u64)
                            }
                            _ => None,
                        };
                        on_progress(Progress {
                            percent,
                            speed,
                            eta_secs,
                        });
                    }
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
    let status = child.wait();
    control.pid.store(0, Ordering::SeqCst);
    let tail: Vec<String> = tail.into_iter().collect();
    if control.cancelled.load(Ordering::SeqCst) {
        return Outcome::Cancelled;
    }
    match status {
        Ok(s) if s.success() => Outcome::Done,
        Ok(s) => {
            use std::os::unix::process::ExitStatusExt;
            let text = tail.join("\n");
            let disk =
                text.contains("No space left on device") || text.contains("Input/output error");
            let (reason, transient) = match s.signal() {
                Some(sig) => (format!("ffmpeg was killed by signal {sig}"), true),
                None if disk => (
                    format!(
                        "ffmpeg could not write the output (exit status {}): {}",
                        s.code().unwrap_or(-1),
                        last_error(&tail)
                    ),
                    true,
                ),
                None => (
                    format!(
                        "ffmpeg failed (exit status {}): {}",
                        s.code().unwrap_or(-1),
                        last_error(&tail)
                    ),
                    false,
                ),
            };
            Outcome::Failed {
                reason,
                transient,
                tail,
            }
        }
        Err(e) => Outcome::Failed {
            reason: format!("could not wait for ffmpeg: {e}"),
            transient: true,
            tail,
        },
    }
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
    fn times() {
        assert_eq!(parse_time("00:01:02.50"), Some(62.5));
        assert_eq!(parse_time("10.0"), Some(10.0));
        assert_eq!(parse_time("N/A"), None);
    }
}
