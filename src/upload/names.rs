//! Safe names and accepted types for uploaded files.

use crate::fsutil::cap_name;
use std::path::Path;

use crate::media::{kind_of, PLAYABLE, SOURCES, SUBTITLES};

/// What an upload may be, judged by its (safe) name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Video,
    Subtitle,
}

/// The sentence a 415 carries.
pub fn accepted_types() -> String {
    let videos: Vec<&str> = PLAYABLE.iter().chain(SOURCES).copied().collect();
    format!(
        "pimedia takes videos ({}) and subtitles ({}) only",
        videos.join(", "),
        SUBTITLES.join(", ")
    )
}

pub fn file_type(name: &str) -> Option<FileType> {
    if kind_of(Path::new(name)).is_some() {
        return Some(FileType::Video);
    }
    let (_, ext) = name.rsplit_once('.')?;
    SUBTITLES
        .contains(&ext.to_ascii_lowercase().as_str())
        .then_some(FileType::Subtitle)
}

/// A file name safe to create in the media dir: no directory part (either
/// slash), no control characters, no leading dots or spaces, at most 255
/// bytes with the extension kept; `upload` when nothing is left.
pub fn safe_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end();
    if trimmed.is_empty() {
        return "upload".into();
    }
    cap_name(trimmed, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsutil::numbered;

    #[test]
    fn hostile_names_become_safe() {
        assert_eq!(safe_name("../../x.mp4"), "x.mp4");
        assert_eq!(safe_name("..\\..\\x.mp4"), "x.mp4");
        assert_eq!(safe_name("/etc/x.mp4"), "x.mp4");
        assert_eq!(safe_name(".hidden.mp4"), "hidden.mp4");
        assert_eq!(safe_name(" . .x.mp4"), "x.mp4");
        assert_eq!(safe_name("a\0b\x01c\nd\x7f.mp4"), "abcd.mp4");
        assert_eq!(safe_name("🎬 Holiday — été.mkv"), "🎬 Holiday — été.mkv");
        assert_eq!(safe_name("dir/"), "upload");
        assert_eq!(safe_name("...."), "upload");
        assert_eq!(safe_name(""), "upload");
    }

    #[test]
    fn long_names_keep_their_extension_on_a_char_boundary() {
        let long = format!("{}.mp4", "é".repeat(200));
        let s = safe_name(&long);
        assert!(s.len() <= 255, "{}", s.len());
        assert!(s.ends_with(".mp4"));
        assert!(s.starts_with("éé"));
        let n = numbered(&s, 12);
        assert!(n.len() <= 255 && n.ends_with(" (12).mp4"), "{n}");
    }

    #[test]
    fn numbering() {
        assert_eq!(numbered("a.mp4", 0), "a.mp4");
        assert_eq!(numbered("a.mp4", 1), "a (1).mp4");
        assert_eq!(numbered("noext", 2), "noext (2)");
    }

    #[test]
    fn types() {
        assert_eq!(file_type("a.MKV"), Some(FileType::Video));
        assert_eq!(file_type("a.srt"), Some(FileType::Subtitle));
        assert_eq!(file_type("a.exe"), None);
        assert_eq!(file_type("noext"), None);
        assert!(accepted_types().contains("mkv"));
    }
}
