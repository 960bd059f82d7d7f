use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::launch::{find_on_path, Launcher, Priority};

/// ffmpeg and ffprobe as pimedia can use them: found, and shown at start-up
/// to start through the chain every job uses.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    /// `None` when missing or when it cannot start (see `cannot_start`).
    pub ffmpeg: Option<PathBuf>,
    pub ffprobe: Option<PathBuf>,
    /// Why a found ffmpeg or ffprobe cannot start ("ffmpeg cannot start: …").
    pub cannot_start: Option<String>,
    launcher: Launcher,
}

pub const INSTALL_HINT: &str = "install it with: sudo apt-get install ffmpeg";

impl Tools {
    /// Uses the given paths, else looks on `PATH`, then runs each once the
    /// way pimedia will (`-version` through the launch chain). Says once in
    /// the log what is missing or broken; browsing and playback work
    /// without either. Blocking.
    pub fn locate(ffmpeg: Option<PathBuf>, ffprobe: Option<PathBuf>) -> Tools {
        let mut launcher = Launcher::for_this_binary();
        let mut ffmpeg = ffmpeg.or_else(|| find_on_path("ffmpeg"));
        let mut ffprobe = ffprobe.or_else(|| find_on_path("ffprobe"));
        let mut problems = Vec::new();
        for (name, slot, priority) in [
            ("ffmpeg", &mut ffmpeg, Priority::Background),
            ("ffprobe", &mut ffprobe, Priority::Interactive),
        ] {
            let Some(path) = slot.clone() else {
                tracing::warn!(
                    "{name} was not found: videos are listed and play, but without {}; {INSTALL_HINT}",
                    if name == "ffprobe" { "durations and sizes" } else { "MKV conversion" }
                );
                continue;
            };
            let mut result = starts(&launcher, &path, name, priority);
            if let (Err(why), Some(bare)) = (&result, launcher.without_guard()) {
                if starts(&bare, &path, name, priority).is_ok() {
                    tracing::warn!(
                        "pimedia cannot start its own binary as ffmpeg's guard ({why}); ffmpeg runs without it, so after a kill -9 of pimedia outside systemd a running ffmpeg finishes on its own"
                    );
                    launcher = bare;
                    result = Ok(());
                }
            }
            match result {
                Ok(()) => tracing::info!("using {name} at {}", path.display()),
                Err(why) => {
                    *slot = None;
                    problems.push(format!("{name} cannot start: {why}"));
                }
            }
        }
        let cannot_start = (!problems.is_empty()).then(|| problems.join("; "));
        if let Some(text) = &cannot_start {
            tracing::error!(
                "{text}. Conversions, posters and /listen wait until this is fixed and pimedia is restarted."
            );
        }
        Tools {
            ffmpeg,
            ffprobe,
            cannot_start,
            launcher,
        }
    }

    /// ffmpeg through the launch chain, if it can run.
    pub fn ffmpeg_command(&self, priority: Priority) -> Option<Command> {
        Some(self.launcher.command(self.ffmpeg.as_deref()?, priority))
    }

    /// ffprobe through the launch chain, if it can run.
    pub fn ffprobe_command(&self) -> Option<Command> {
        Some(
            self.launcher
                .command(self.ffprobe.as_deref()?, Priority::Interactive),
        )
    }

    /// Another program on `PATH` (`tesseract`) through the same chain
    /// (the guard, nice and idle I/O for `priority`), if it is installed.
    pub fn command_for(&self, program: &str, priority: Priority) -> Option<Command> {
        Some(self.launcher.command(&find_on_path(program)?, priority))
    }

    /// Why ffmpeg can't be used, as a sentence's end ("… can't be streamed: {this}").
    pub fn ffmpeg_unavailable(&self) -> String {
        match &self.cannot_start {
            Some(why) => why.clone(),
            None => format!("ffmpeg is not installed; {INSTALL_HINT}"),
        }
    }

    /// Why nothing can be converted, if so: ffmpeg or ffprobe is missing or
    /// cannot start.
    pub fn problem(&self) -> Option<String> {
        (self.ffmpeg.is_none() || self.ffprobe.is_none()).then(|| self.ffmpeg_unavailable())
    }
}

/// Runs `program -version` as pimedia would run it.
fn starts(
    launcher: &Launcher,
    program: &Path,
    name: &str,
    priority: Priority,
) -> Result<(), String> {
    let out = launcher
        .command(program, priority)
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() && out.stdout.starts_with(format!("{name} version").as_bytes()) {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("it printed nothing");
    Err(format!("{} ({})", said.trim(), out.status))
}
