//! Files made from a video, beside it, that are never library entries of
//! their own: the smaller versions (`name.mp4.720p`, `name.mp4.audio`)
//! and the copies with another audio track first (`name.mp4.audio-2`).
//! Their names are made and read here, in one place: what moves and goes
//! to the trash with a video (`manage`), what the watcher and the library
//! leave alone (no video extension, so never listed, by pimedia or DLNA)
//! and what a download names.
//!
//! - `check.rs`: the picture a version is made from, and what it must be
//!   when it is checked;
//! - `ladder.rs`: what each version is (size, frame rate, bitrate) for a
//!   video, or why it is not made;
//! - `make.rs`: one ffmpeg run that decodes the video once and writes
//!   every version due;
//! - `audio_first.rs`: the copy with another audio language first.

mod audio_first;
mod check;
mod ladder;
mod make;

pub use audio_first::{make as make_audio_first, NotMade};
pub use check::{check, picture};
pub use ladder::{spec, Picture, Spec};
pub use make::{args as make_args, complete_args, Input, Output};

use serde::{Deserialize, Serialize};

/// A smaller version of a video, made once, ahead of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Version {
    #[serde(rename = "1080p")]
    P1080,
    #[serde(rename = "720p")]
    P720,
    #[serde(rename = "480p")]
    P480,
    #[serde(rename = "360p")]
    P360,
    /// The default audio track as an M4A, with the title and the poster.
    #[serde(rename = "audio")]
    Audio,
}

impl Version {
    /// Largest first: the order pages list them and the player tries them.
    pub const ALL: [Version; 5] = [
        Version::P1080,
        Version::P720,
        Version::P480,
        Version::P360,
        Version::Audio,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Version::P1080 => "1080p",
            Version::P720 => "720p",
            Version::P480 => "480p",
            Version::P360 => "360p",
            Version::Audio => "audio",
        }
    }

    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().to_ascii_lowercase();
        Version::ALL.into_iter().find(|v| v.name() == s)
    }

    /// A list as people write it (`720p, audio`; empty or `none` for
    /// none), each once, largest first; `Err` names what is not a version.
    pub fn parse_list(s: &str) -> Result<Vec<Version>, String> {
        let mut out = Vec::new();
        for part in s.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
            if part.eq_ignore_ascii_case("none") {
                continue;
            }
            let v = Version::parse(part).ok_or_else(|| {
                format!("'{part}' is not a version: use any of 1080p, 720p, 480p, 360p, audio")
            })?;
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Lines of the picture's short side: no more than the name says.
    pub fn lines(self) -> Option<u32> {
        match self {
            Version::P1080 => Some(1080),
            Version::P720 => Some(720),
            Version::P480 => Some(480),
            Version::P360 => Some(360),
            Version::Audio => None,
        }
    }

    /// Its name beside the video, from the video's name or library path
    /// (`Films/Film.mp4` -> `Films/Film.mp4.720p`).
    pub fn file_name(self, video: &str) -> String {
        format!("{video}.{}", self.name())
    }

    /// Its file beside the video's on disk, a name that need not be UTF-8.
    pub fn beside(self, video: &std::path::Path) -> std::path::PathBuf {
        let mut name = video.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".{}", self.name()));
        video.with_file_name(name)
    }

    /// The extension a download of it gets.
    pub fn extension(self) -> &'static str {
        match self {
            Version::Audio => "m4a",
            _ => "mp4",
        }
    }

    /// What the page calls it.
    pub fn label(self) -> String {
        match self {
            Version::Audio => "Sound only (M4A)".into(),
            Version::P1080 => "Smaller — 1080p".into(),
            v => format!("For a phone — {}", v.name()),
        }
    }
}

/// Why a version is not made: nothing went wrong, there is nothing to
/// gain. Kept as data; the sentence is made where a person reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NotNeeded {
    /// A sound-only version of a video with no sound.
    NoSound,
    /// A picture version of a video with no picture.
    NoPicture,
    /// The TV version is already `lines` lines at `bitrate` b/s: no
    /// larger than `version` would be.
    NotSmaller {
        version: Version,
        lines: u32,
        bitrate: u64,
    },
}

impl std::fmt::Display for NotNeeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotNeeded::NoSound => f.write_str("the video has no sound"),
            NotNeeded::NoPicture => f.write_str("the video has no picture"),
            NotNeeded::NotSmaller {
                version,
                lines,
                bitrate,
            } => write!(
                f,
                "the TV version is already {lines} lines at {}, no larger than a {} version would be",
                ladder::mbps(*bitrate),
                version.name()
            ),
        }
    }
}

/// A file made from a video: which video (its file name) and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made<'a> {
    Version(&'a str, Version),
    /// The copy with audio track `n` first.
    AudioFirst(&'a str, usize),
}

/// Whether `name` is a file made from a video, and of which.
pub fn parse(name: &str) -> Option<Made<'_>> {
    if let Some((video, n)) = audio_first::parse(name) {
        return Some(Made::AudioFirst(video, n));
    }
    let (video, v) = name.rsplit_once('.')?;
    let v = Version::ALL.into_iter().find(|x| x.name() == v)?;
    (!video.is_empty() && crate::media::kind_of(std::path::Path::new(video)).is_some())
        .then_some(Made::Version(video, v))
}

pub use audio_first::name_for;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_as_people_write_them() {
        assert_eq!(
            Version::parse_list("audio, 720p,480P 720p").unwrap(),
            [Version::P720, Version::P480, Version::Audio]
        );
        assert_eq!(Version::parse_list("").unwrap(), []);
        assert_eq!(Version::parse_list("none").unwrap(), []);
        assert!(Version::parse_list("720p,4k").unwrap_err().contains("'4k'"));
        for v in Version::ALL {
            assert_eq!(
                serde_json::to_string(&v).unwrap(),
                format!("\"{}\"", v.name())
            );
        }
    }

    #[test]
    fn made_files_are_known_by_name() {
        assert_eq!(
            parse("Film.mp4.720p"),
            Some(Made::Version("Film.mp4", Version::P720))
        );
        assert_eq!(
            parse("a.b.tv.mp4.audio"),
            Some(Made::Version("a.b.tv.mp4", Version::Audio))
        );
        assert_eq!(
            parse("Film.mp4.audio-2"),
            Some(Made::AudioFirst("Film.mp4", 2))
        );
        for not in ["Film.720p", "720p", ".mp4.720p", "Film.mp4", "Film.mp4.4k"] {
            assert_eq!(parse(not), None, "{not}");
        }
        assert_eq!(Version::P720.file_name("Film.mp4"), "Film.mp4.720p");
    }
}
