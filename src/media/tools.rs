use std::path::{Path, PathBuf};

/// Where ffmpeg and ffprobe are, if anywhere.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    pub ffmpeg: Option<PathBuf>,
    pub ffprobe: Option<PathBuf>,
    /// `nice` and `ionice` lower ffmpeg's CPU and disk priority when found.
    pub nice: Option<PathBuf>,
    pub ionice: Option<PathBuf>,
    /// `setpriv --pdeathsig` ties ffmpeg's life to pimedia's.
    pub setpriv: Option<PathBuf>,
}

pub const INSTALL_HINT: &str = "install it with: sudo apt-get install ffmpeg";

impl Tools {
    /// Uses the given paths, else looks on `PATH`. Says once in the log
    /// what is missing; browsing and playback work without either.
    pub fn locate(ffmpeg: Option<PathBuf>, ffprobe: Option<PathBuf>) -> Tools {
        let tools = Tools {
            ffmpeg: ffmpeg.or_else(|| find_on_path("ffmpeg")),
            ffprobe: ffprobe.or_else(|| find_on_path("ffprobe")),
            nice: find_on_path("nice"),
            ionice: find_on_path("ionice"),
            setpriv: find_on_path("setpriv"),
        };
        for (name, found) in [("ffmpeg", &tools.ffmpeg), ("ffprobe", &tools.ffprobe)] {
            match found {
                Some(p) => tracing::info!("using {name} at {}", p.display()),
                None => tracing::warn!(
                    "{name} was not found: videos are listed and play, but without {}; {INSTALL_HINT}",
                    if name == "ffprobe" { "durations and sizes" } else { "MKV conversion" }
                ),
            }
        }
        tools
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
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
