//! How pimedia starts ffmpeg and ffprobe. Every child goes through one
//! chain, `pimedia --pimedia-child-guard <pid> [nice -n 10|19 ionice -c 3] ffmpeg …`,
//! that works under the shipped systemd unit: it makes no capability call
//! (`setpriv` did, and the unit's `SystemCallFilter=~@privileged` refuses
//! `capset`).
//!
//! The guard is pimedia's own binary: it asks the kernel to kill it when its
//! parent dies (`PR_SET_PDEATHSIG`, kept across `exec`), then becomes the
//! next program. So ffmpeg never outlives pimedia, even after `kill -9`
//! outside systemd; under systemd the unit's cgroup also ends every child
//! when the service stops.
//!
//! `PR_SET_PDEATHSIG` fires when the *thread* that started the child ends
//! (prctl(2)): pimedia starts children on the blocking-pool thread that then
//! waits for them, or on a runtime worker, which lives as long as the server.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The first argument that makes pimedia's binary a guard.
pub const GUARD_ARG: &str = "--pimedia-child-guard";

/// The running binary, even if it was replaced on disk since it started.
const SELF_EXE: &str = "/proc/self/exe";

/// How much a child may take from the web server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Transcodes, which take a core for as long as the video lasts: nice
    /// 19 and idle I/O. (The idle scheduling class, `chrt --idle`, measured
    /// no better for page latency in `bench/transcode.sh`, twice.)
    Lowest,
    /// Remuxes and posters: nice 10 and idle I/O, so pages stay quick.
    Background,
    /// What a person waits for (a probe of their upload, `/listen`).
    Interactive,
}

#[derive(Debug, Clone, Default)]
pub struct Launcher {
    guard: Option<PathBuf>,
    nice: Option<PathBuf>,
    ionice: Option<PathBuf>,
}

impl Launcher {
    /// The chain for children of this process, which must be pimedia's
    /// binary (its `main` calls [`guard_if_asked`] first).
    pub fn for_this_binary() -> Launcher {
        Launcher {
            guard: Path::new(SELF_EXE)
                .exists()
                .then(|| PathBuf::from(SELF_EXE)),
            nice: find_on_path("nice"),
            ionice: find_on_path("ionice"),
        }
    }

    /// The same chain without the guard, for where pimedia's binary cannot
    /// be started again (qemu-user runs it, but cannot `exec` it).
    pub fn without_guard(&self) -> Option<Launcher> {
        self.guard.as_ref()?;
        Some(Launcher {
            guard: None,
            ..self.clone()
        })
    }

    /// A command that runs `program` through the chain; the caller adds
    /// the program's own arguments and its pipes.
    pub fn command(&self, program: &Path, priority: Priority) -> Command {
        let mut chain: Vec<OsString> = Vec::new();
        if let Some(guard) = &self.guard {
            chain.extend([
                guard.into(),
                GUARD_ARG.into(),
                std::process::id().to_string().into(),
            ]);
        }
        let niceness = match priority {
            Priority::Lowest => Some("19"),
            Priority::Background => Some("10"),
            Priority::Interactive => None,
        };
        if let (Some(n), Some(nice)) = (niceness, &self.nice) {
            chain.extend([nice.into(), "-n".into(), n.into()]);
        }
        if priority != Priority::Interactive {
            if let Some(ionice) = &self.ionice {
                chain.extend([ionice.into(), "-c".into(), "3".into()]);
            }
        }
        chain.push(program.into());
        let mut cmd = Command::new(&chain[0]);
        cmd.args(&chain[1..]);
        cmd
    }
}

/// Called first in `main`: when this process was started as a guard, it
/// ties itself to its parent and becomes the program it was given (so this
/// returns only on failure, with the exit code to use).
pub fn guard_if_asked() -> Option<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != GUARD_ARG {
        return None;
    }
    Some(guard(args))
}

fn guard(mut args: impl Iterator<Item = OsString>) -> ExitCode {
    let parent: Option<i32> = args
        .next()
        .and_then(|p| p.into_string().ok())
        .and_then(|p| p.parse().ok());
    let (Some(parent), Some(program)) = (parent, args.next()) else {
        eprintln!("pimedia: {GUARD_ARG} needs the parent's pid and a program");
        return ExitCode::from(2);
    };
    if let Err(e) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL) {
        eprintln!(
            "pimedia: cannot tie {} to pimedia's life: {e}",
            program.to_string_lossy()
        );
        return ExitCode::from(126);
    }
    // The parent may have died before the signal was asked for.
    if nix::unistd::getppid().as_raw() != parent {
        return ExitCode::from(125);
    }
    let e = Command::new(&program).args(args).exec();
    eprintln!("pimedia: cannot start {}: {e}", program.to_string_lossy());
    ExitCode::from(127)
}

/// The first executable `name` on `PATH`.
pub(super) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(cmd: &Command) -> Vec<String> {
        std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn background_work_is_guarded_and_lowered_interactive_only_guarded() {
        let l = Launcher {
            guard: Some("/proc/self/exe".into()),
            nice: Some("/usr/bin/nice".into()),
            ionice: Some("/usr/bin/ionice".into()),
        };
        let pid = std::process::id().to_string();
        let bg = words(&l.command(Path::new("/usr/bin/ffmpeg"), Priority::Background));
        assert_eq!(
            bg,
            [
                "/proc/self/exe",
                GUARD_ARG,
                &pid,
                "/usr/bin/nice",
                "-n",
                "10",
                "/usr/bin/ionice",
                "-c",
                "3",
                "/usr/bin/ffmpeg"
            ]
        );
        let lowest = words(&l.command(Path::new("/usr/bin/ffmpeg"), Priority::Lowest));
        assert_eq!(
            lowest[3..],
            [
                "/usr/bin/nice",
                "-n",
                "19",
                "/usr/bin/ionice",
                "-c",
                "3",
                "/usr/bin/ffmpeg"
            ]
        );
        let fg = words(&l.command(Path::new("/usr/bin/ffprobe"), Priority::Interactive));
        assert_eq!(fg, ["/proc/self/exe", GUARD_ARG, &pid, "/usr/bin/ffprobe"]);
        let bare = words(&Launcher::default().command(Path::new("ffmpeg"), Priority::Background));
        assert_eq!(bare, ["ffmpeg"]);
    }
}
