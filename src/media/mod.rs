//! ffprobe and ffmpeg: finding them, reading what a file holds.

pub mod ffmpeg;
pub mod launch;
pub mod mp4;
mod plan;
mod probe;
mod tools;

pub use plan::{plan, AudioAction, NeedsTranscode, Plan};
pub use probe::{probe, Meta, Probe, ProbeError, Stream};
pub use tools::{Tools, INSTALL_HINT};

/// Containers TV browsers play as they are.
pub const PLAYABLE: &[&str] = &["mp4", "m4v", "webm", "mov"];
/// Containers that need a remux to MP4 first.
pub const SOURCES: &[&str] = &["mkv", "avi", "ts", "m2ts", "flv", "wmv"];
/// Subtitle files that may sit beside a video or be uploaded.
pub const SUBTITLES: &[&str] = &["srt", "vtt", "ass"];

/// What the library does with a file, judged by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Playable,
    NeedsRemux,
}

pub fn kind_of(path: &std::path::Path) -> Option<Kind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if PLAYABLE.contains(&ext.as_str()) {
        Some(Kind::Playable)
    } else if SOURCES.contains(&ext.as_str()) {
        Some(Kind::NeedsRemux)
    } else {
        None
    }
}

/// The `Content-Type` for a file served from the library.
pub fn content_type(path: &std::path::Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("mp4") | Some("m4v") => "video/mp4",
        Some("webm") => "video/webm",
        Some("mov") => "video/quicktime",
        Some("mkv") => "video/x-matroska",
        Some("avi") => "video/x-msvideo",
        Some("ts") | Some("m2ts") => "video/mp2t",
        Some("flv") => "video/x-flv",
        Some("wmv") => "video/x-ms-wmv",
        Some("vtt") => "text/vtt; charset=utf-8",
        Some("srt") => "application/x-subrip; charset=utf-8",
        Some("ass") => "text/x-ssa; charset=utf-8",
        Some("mp3") => "audio/mpeg",
        Some("m4a") => "audio/mp4",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}
