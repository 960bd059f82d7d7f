//! ffprobe and ffmpeg: finding them, reading what a file holds.

pub mod encoder;
pub mod ffmpeg;
mod ink;
pub mod launch;
pub mod made;
mod marks;
pub mod mp4;
pub mod ocr;
pub mod pgs;
pub mod pictures;
mod plan;
mod probe;
pub mod sidecar;
pub mod tags;
mod target;
mod tools;
pub mod versions;
pub mod vobsub;

pub use encoder::Encode;
pub use encoder::Encoder;
pub use plan::{
    picture_tracks, plan, AudioAction, Conversion, NeedsTranscode, PictureTrack, Plan, VideoAction,
};
pub use probe::{probe, start_time, Format, Meta, Probe, ProbeError, Stream};
pub use target::{shown_size, Target, TV_CODECS};
pub use tools::{Tools, INSTALL_HINT};

/// Containers TV browsers may play as they are; whether a file does is
/// decided by probing it ([`Target::plays_as_is`]).
pub const PLAYABLE: &[&str] = &["mp4", "m4v", "webm"];
/// Containers that always need a conversion to MP4 (a remux where the
/// streams can be copied).
pub const SOURCES: &[&str] = &[
    "mkv", "mov", "3gp", "3g2", "avi", "divx", "ts", "m2ts", "mts", "m2t", "flv", "f4v", "wmv",
    "asf", "mpg", "mpeg", "m2v", "vob", "mod", "tod", "dv", "mxf", "ogv", "ogm", "rm", "rmvb",
];
/// Subtitle files that may sit beside a video or be uploaded.
pub const SUBTITLES: &[&str] = &["srt", "vtt", "ass", "ssa"];

/// What the library does with a file, judged by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A container TV browsers may play: it plays as it is unless probing
    /// says its streams need a conversion.
    Playable,
    /// A container no TV browser plays (MKV, AVI, WMV, …): always
    /// converted to MP4, by a remux where the streams allow, else a
    /// transcode (which the probe decides, not the extension).
    Convert,
}

pub fn kind_of(path: &std::path::Path) -> Option<Kind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if PLAYABLE.contains(&ext.as_str()) {
        Some(Kind::Playable)
    } else if SOURCES.contains(&ext.as_str()) {
        Some(Kind::Convert)
    } else {
        None
    }
}

/// An output's length may differ from its source's by this much
/// (container rounding, the last frame).
pub const DURATION_SLACK: f64 = 1.0;

/// The extension a video's `Content-Type` stands for, when a file comes
/// without a usable name.
pub fn extension_for(content_type: &str) -> Option<&'static str> {
    let t = content_type.split(';').next()?.trim().to_ascii_lowercase();
    Some(match t.as_str() {
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/x-matroska" => "mkv",
        "video/webm" => "webm",
        "video/x-msvideo" | "video/avi" | "video/msvideo" => "avi",
        "video/mp2t" => "ts",
        "video/mpeg" => "mpg",
        "video/x-ms-wmv" => "wmv",
        "video/x-ms-asf" => "asf",
        "video/3gpp" => "3gp",
        "video/3gpp2" => "3g2",
        "video/x-flv" => "flv",
        "video/x-dv" => "dv",
        "video/ogg" => "ogv",
        _ => return None,
    })
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
        Some("3gp") => "video/3gpp",
        Some("mpg") | Some("mpeg") | Some("vob") => "video/mpeg",
        Some("asf") => "video/x-ms-asf",
        Some("ogv") => "video/ogg",
        Some("mkv") => "video/x-matroska",
        Some("avi") => "video/x-msvideo",
        Some("ts") | Some("m2ts") | Some("mts") | Some("m2t") | Some("tod") => "video/mp2t",
        Some("flv") | Some("f4v") => "video/x-flv",
        Some("dv") => "video/x-dv",
        Some("mxf") => "application/mxf",
        Some("rm") | Some("rmvb") => "application/vnd.rn-realmedia",
        Some("3g2") => "video/3gpp2",
        Some("divx") => "video/x-msvideo",
        Some("mod") | Some("m2v") => "video/mpeg",
        Some("ogm") => "video/ogg",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_camcorders_and_old_disks_hold_is_taken() {
        for name in [
            "MOV001.MOD",
            "MOV001.TOD",
            "film.divx",
            "old.rm",
            "old.rmvb",
            "rec.m2t",
            "phone.3g2",
            "flash.f4v",
            "anime.ogm",
            "tape.dv",
            "cam.mxf",
        ] {
            assert_eq!(
                kind_of(std::path::Path::new(name)),
                Some(Kind::Convert),
                "{name}"
            );
        }
    }
}
