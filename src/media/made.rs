//! What is made from a video, named in one place: its TV version
//! (`Film.mp4` of `Film.mkv`, `clip.tv.mp4` of `clip.mp4`), its smaller
//! versions and audio-language copies (`Film.mp4.720p`, `Film.mp4.audio-2`,
//! see [`super::versions`]) and its WebVTT subtitles (`Film.eng.vtt`, from
//! a text track, a subtitle file beside it, or read from pictures). Jobs
//! name what they write through it, the library finds a video's subtitles
//! through it, and `manage` takes what it names along on a rename, a move
//! or the trash. (Posters are the library's, in the state dir.)

use std::path::Path;

use super::{PLAYABLE, SOURCES, SUBTITLES};
use crate::paths::on_disk;

/// The playable MP4 made from the video at `path` (a library path or a
/// file name): `name.mp4` beside it, or `name.tv.mp4` when the source is
/// itself an `.mp4`, so the two never collide. When that name is taken by
/// another file, the job picks `name (1).mp4` and its record says so.
pub fn tv_version(path: &str) -> String {
    let (stem, ext) = path.rsplit_once('.').unwrap_or((path, ""));
    if ext.eq_ignore_ascii_case("mp4") {
        format!("{stem}.tv.mp4")
    } else {
        format!("{stem}.mp4")
    }
}

/// The WebVTT file of a video whose name without its extension is
/// `stem`: `stem.<suffix>.vtt` (a language, `eng.forced`, `eng.2`), or
/// `stem.vtt` without one.
pub fn subtitles(stem: &str, suffix: Option<&str>) -> String {
    match suffix {
        Some(s) => format!("{stem}.{s}.vtt"),
        None => format!("{stem}.vtt"),
    }
}

/// The suffix of a WebVTT file named for `stem` (`Some(None)` for
/// `stem.vtt`, `Some(Some("eng.2"))` for `stem.eng.2.vtt`); `None` when it
/// is not one of its subtitles.
pub fn subtitles_suffix<'a>(name: &'a str, stem: &str) -> Option<Option<&'a str>> {
    match name.strip_prefix(stem)?.strip_suffix(".vtt")? {
        "" => Some(None),
        m => Some(Some(m.strip_prefix('.')?)),
    }
}

/// A name without a video or subtitle extension ("Cake.mp4" -> "Cake"):
/// the stem every file made from it or beside it carries.
pub fn stem_of(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && [PLAYABLE, SOURCES, SUBTITLES]
                    .iter()
                    .any(|l| l.contains(&ext.to_ascii_lowercase().as_str())) =>
        {
            stem
        }
        _ => name,
    }
}

/// `(folder, name)` of a relative path.
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// What goes along with these videos when they are renamed, moved or
/// trashed: the subtitle files beside them (`stem.srt`, `stem.en.vtt`,
/// …, from text or read from pictures) and the files made of them
/// (`stem.mp4.720p`, `stem.mp4.audio-1`), each going with the video whose
/// stem matches it longest. Blocking.
pub fn companions(root: &Path, videos: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs: Vec<&str> = videos.iter().map(|v| split(v).0).collect();
    dirs.dedup();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(on_disk(root, dir)) else {
            continue;
        };
        let names: Vec<String> = entries
            .flatten()
            .map(|e| crate::paths::readable(&e.file_name()).into_owned())
            .collect();
        let stems_here: Vec<&str> = names.iter().map(|n| stem_of(n)).collect();
        let ours: Vec<&str> = videos
            .iter()
            .filter(|v| split(v).0 == dir)
            .map(|v| stem_of(split(v).1))
            .collect();
        for n in &names {
            // Subtitles, and versions with another audio track first.
            let is_sub = super::versions::parse(n).is_some()
                || n.rsplit_once('.')
                    .is_some_and(|(_, e)| SUBTITLES.contains(&e.to_ascii_lowercase().as_str()));
            if !is_sub {
                continue;
            }
            let owner = stems_here
                .iter()
                .filter(|s| n.len() > s.len() && n.starts_with(*s) && n[s.len()..].starts_with('.'))
                .filter(|s| {
                    // Only video stems can own subtitles.
                    names.iter().any(|v| {
                        stem_of(v) == **s
                            && !v.rsplit_once('.').is_some_and(|(_, e)| {
                                SUBTITLES.contains(&e.to_ascii_lowercase().as_str())
                            })
                    })
                })
                .max_by_key(|s| s.len());
            if owner.is_some_and(|o| ours.contains(o)) {
                out.push(if dir.is_empty() {
                    n.clone()
                } else {
                    format!("{dir}/{n}")
                });
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_what_is_made() {
        assert_eq!(tv_version("Films/a.mkv"), "Films/a.mp4");
        assert_eq!(tv_version("IMG_0042.MOV"), "IMG_0042.mp4");
        assert_eq!(tv_version("clip.mp4"), "clip.tv.mp4");
        assert_eq!(tv_version("clip.MP4"), "clip.tv.mp4");
        assert_eq!(subtitles("film", Some("eng")), "film.eng.vtt");
        assert_eq!(subtitles("film", None), "film.vtt");
        assert_eq!(
            subtitles_suffix("film.eng.2.vtt", "film"),
            Some(Some("eng.2"))
        );
        assert_eq!(subtitles_suffix("film.vtt", "film"), Some(None));
        assert_eq!(subtitles_suffix("filmx.vtt", "film"), None);
        assert_eq!(subtitles_suffix("film.eng.srt", "film"), None);
        assert_eq!(stem_of("Cake.mp4"), "Cake");
        assert_eq!(stem_of("Cake.en.vtt"), "Cake.en");
        assert_eq!(stem_of("Cake.mp4.720p"), "Cake.mp4.720p");
    }

    #[test]
    fn subtitles_go_with_the_video_whose_name_they_carry() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "a.mkv",
            "a.mp4",
            "a.en.vtt",
            "a.srt",
            "a.b.mp4",
            "a.b.vtt",
            "other.srt",
        ] {
            std::fs::write(d.path().join(f), "").unwrap();
        }
        let subs = companions(d.path(), &["a.mkv".into(), "a.mp4".into()]);
        assert_eq!(subs, ["a.en.vtt", "a.srt"]);
    }
}
