//! Subtitle files beside a video (`name.srt`, `name.en.srt`, `.ass`,
//! `.ssa`) become the WebVTT files the player offers (`name.vtt`,
//! `name.en.vtt`), once each. Many are not UTF-8 (Windows-1252,
//! ISO-8859-x, CP1251 from old PCs): their charset is detected and they
//! are decoded before ffmpeg reads them, so no cue shows as mojibake.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::launch::Priority;
use super::Tools;
use crate::fsutil::{temp_path_for, TempFile};

/// Subtitle files a WebVTT is made from.
const SIDECARS: &[&str] = &["srt", "ass", "ssa"];

/// Text as UTF-8, whatever it was written in: a byte-order mark says it,
/// else valid UTF-8 is taken as it is, else the charset is detected.
pub fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let enc = detector.guess(None, true);
    enc.decode_without_bom_handling(bytes).0.into_owned()
}

/// The language part of `stem.<part>.srt`: kept when it can be part of a
/// file name as pimedia writes them (letters, digits, `-`, `.`).
fn suffix(part: &str) -> Option<String> {
    let p = part.to_ascii_lowercase();
    let ok = !p.is_empty()
        && p.len() <= 32
        && !p.starts_with('.')
        && !p.ends_with('.')
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    ok.then_some(p)
}

/// The subtitle files beside `video` named after any of `stems` that have
/// no WebVTT named after `out_stem` yet, as (sidecar, the WebVTT to make).
fn pending(dir: &Path, stems: &[String], out_stem: &str) -> Vec<(PathBuf, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = crate::paths::readable(&e.file_name()).into_owned();
        let Some((base, ext)) = name.rsplit_once('.') else {
            continue;
        };
        if !SIDECARS.contains(&ext.to_ascii_lowercase().as_str()) {
            continue;
        }
        for stem in stems {
            let Some(rest) = base.strip_prefix(stem) else {
                continue;
            };
            let vtt = match rest {
                "" => super::made::subtitles(out_stem, None),
                r => match r.strip_prefix('.').and_then(suffix) {
                    Some(lang) => super::made::subtitles(out_stem, Some(&lang)),
                    None => continue,
                },
            };
            let vtt = dir.join(vtt);
            if !vtt.exists() && !out.iter().any(|(_, v)| v == &vtt) {
                out.push((e.path(), vtt));
            }
            break;
        }
    }
    out.sort();
    out
}

/// Makes the WebVTT files for the subtitle files beside `video` (named
/// after it or after `source`, the file it was made from). Returns those
/// made. Blocking.
pub fn convert_beside(tools: &Tools, video: &Path, source: Option<&Path>) -> Vec<PathBuf> {
    let (Some(dir), Some(out_stem)) = (video.parent(), stem_of(video)) else {
        return Vec::new();
    };
    let mut stems = vec![out_stem];
    if let Some(s) = source.and_then(stem_of) {
        stems.push(s);
    }
    let mut made = Vec::new();
    for (sidecar, vtt) in pending(dir, &stems, &stems[0]) {
        match convert(tools, &sidecar, &vtt) {
            Ok(()) => {
                tracing::info!("{} became {}", sidecar.display(), vtt.display());
                made.push(vtt);
            }
            Err(why) => tracing::warn!("{}: no WebVTT made: {why}", sidecar.display()),
        }
    }
    made
}

fn stem_of(p: &Path) -> Option<String> {
    Some(crate::paths::readable(p.file_stem()?).into_owned())
}

/// One subtitle file to WebVTT: decoded to UTF-8 in a temp file, converted
/// by ffmpeg to another, renamed into place.
fn convert(tools: &Tools, sidecar: &Path, vtt: &Path) -> Result<(), String> {
    let bytes = std::fs::read(sidecar).map_err(|e| e.to_string())?;
    if bytes.len() > 16 << 20 {
        return Err("it is over 16 MB, too large for subtitles".into());
    }
    let text = decode(&bytes);
    let utf8 = TempFile::new(temp_path_for(sidecar, "sub"));
    std::fs::write(utf8.path(), text).map_err(|e| e.to_string())?;
    let out = TempFile::new(temp_path_for(vtt, "sub"));
    let mut cmd = tools
        .ffmpeg_command(Priority::Background)
        .ok_or_else(|| tools.ffmpeg_unavailable())?;
    let status = cmd
        .args([
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-sub_charenc",
            "UTF-8",
            "-i",
        ])
        .arg(utf8.path())
        .args(["-map", "0:s:0", "-c:s", "webvtt", "-f", "webvtt", "-y"])
        .arg(out.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if !status.status.success() {
        let err = String::from_utf8_lossy(&status.stderr);
        return Err(err.lines().last().unwrap_or("ffmpeg failed").to_string());
    }
    crate::fsutil::sync_file(out.path()).map_err(|e| e.to_string())?;
    std::fs::rename(out.path(), vtt).map_err(|e| e.to_string())?;
    out.keep();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_any_charset_becomes_utf8() {
        // Windows-1252, as an old PC saved it.
        let cp1252 = b"1\r\n00:00:01,000 --> 00:00:02,000\r\nDas M\xe4dchen sagt: \xabOui, tr\xe8s bien\xbb \x96 \xe7a va?\r\n";
        let text = decode(cp1252);
        assert!(
            text.contains("Das Mädchen sagt: «Oui, très bien» – ça va?"),
            "{text}"
        );
        // Cyrillic in CP1251.
        let cp1251 = "Привет, как дела? Это субтитры к фильму, который мы смотрим вместе.";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(cp1251);
        assert_eq!(decode(&bytes), cp1251);
        // UTF-8, with and without a byte-order mark, stays as it is.
        assert_eq!(decode("Grüße".as_bytes()), "Grüße");
        assert_eq!(decode(b"\xef\xbb\xbfGr\xc3\xbc\xc3\x9fe"), "Grüße");
    }

    #[test]
    fn sidecars_are_found_by_the_video_or_its_source_name() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "holiday.srt",
            "holiday.en.srt",
            "holiday.pt-BR.ass",
            "holiday.de.vtt",
            "holidays.srt",
            "holiday..srt",
            "other.srt",
            "clip.fr.ssa",
        ] {
            std::fs::write(d.path().join(f), "x").unwrap();
        }
        std::fs::write(d.path().join("holiday.vtt"), "WEBVTT").unwrap();
        let names = |v: Vec<(PathBuf, PathBuf)>| -> Vec<(String, String)> {
            v.into_iter()
                .map(|(a, b)| {
                    let n = |p: PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
                    (n(a), n(b))
                })
                .collect()
        };
        assert_eq!(
            names(pending(d.path(), &["holiday".to_string()], "holiday")),
            [
                ("holiday.en.srt".into(), "holiday.en.vtt".into()),
                ("holiday.pt-BR.ass".into(), "holiday.pt-br.vtt".into()),
            ],
            "holiday.vtt is there already"
        );
        // A TV version named after its source's subtitles.
        assert_eq!(
            names(pending(
                d.path(),
                &["clip.tv".to_string(), "clip".to_string()],
                "clip.tv"
            )),
            [("clip.fr.ssa".into(), "clip.tv.fr.vtt".into())]
        );
    }
}
