//! Picture subtitles read as text: each picture prepared as OCR wants it
//! (dark text on white, cropped to its ink with a margin, scaled up when
//! small), one `tesseract` process for a whole track (a list of pictures,
//! pages apart by form feeds; the model loads once), with
//! `OMP_THREAD_LIMIT=1` in its environment (Debian's build uses OpenMP,
//! which is several times slower on small pictures unless limited from
//! outside), then the common confusions mended and WebVTT written: each
//! cue timed by its picture, two lines kept two, a cue at the top of the
//! picture placed at the top. A picture of music marks alone ("...",
//! "---"), from which OCR reads nothing, is read by its shapes
//! (`media::marks`).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::Ordering;

use super::ffmpeg::Control;
use super::launch::Priority;
use super::pgs::{Cue, Picture};
use super::Tools;
use crate::fsutil::{temp_path_for, TempFile};

/// Pictures shorter than this many rows are scaled up. tesseract reads a
/// line 20 to 40 px high well; larger only costs time (`bench/ocr.sh`'s
/// 600 DVD cues, 29 px lines: scaled up below 40 rows, 12.4 s and 587
/// exact; below 24, 11.1 s and 587; below 20, 10.1 s and 597).
const SMALL: u32 = 20;
/// White around the text.
const MARGIN: u32 = 10;

/// Why a track could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("tesseract is not installed: sudo apt install tesseract-ocr")]
    NoTesseract,
    #[error("{}", no_model(models, names))]
    NoModel {
        /// tesseract's names of the missing models (`hun`).
        models: Vec<String>,
        /// Their languages as people say them (`Magyar`).
        names: Vec<String>,
    },
    #[error("tesseract failed: {0}")]
    Failed(String),
    #[error("cancelled")]
    Cancelled,
}

/// The tesseract model for a track's language tag (ISO 639-1, or 639-2
/// B or T: `ger` and `deu` are both German); English when it says none
/// or one the table does not know.
pub fn model_for(lang: Option<&str>) -> &'static str {
    match lang.and_then(crate::format::iso639_2) {
        Some("zho") => "chi_sim",
        Some(code) => code,
        None => "eng",
    }
}

/// "the OCR model for Magyar is not installed: sudo apt install
/// tesseract-ocr-hun", for one missing model or several.
fn no_model(models: &[String], names: &[String]) -> String {
    let packages: Vec<String> = models.iter().map(|m| package_for(m)).collect();
    let (what, is) = if models.len() > 1 {
        ("models", "are")
    } else {
        ("model", "is")
    };
    format!(
        "the OCR {what} for {} {is} not installed: sudo apt install {}",
        names.join(" and "),
        packages.join(" ")
    )
}

/// Debian's package of a tesseract model (`chi_sim` is `tesseract-ocr-chi-sim`).
pub fn package_for(model: &str) -> String {
    format!("tesseract-ocr-{}", model.replace('_', "-"))
}

/// The models `--ocr-languages` names (language codes or model names,
/// comma-separated); without it, English and the locale's language
/// (`de_DE.UTF-8` is German). `Err` names a word that is neither.
pub fn languages(list: Option<&str>, locale: Option<&str>) -> Result<Vec<String>, String> {
    let mut models: Vec<String> = Vec::new();
    let words: Vec<String> = match list {
        Some(l) => l.split(',').map(|w| w.trim().to_lowercase()).collect(),
        None => {
            let own = locale
                .and_then(|l| l.split(['_', '.', '@']).next())
                .filter(|l| crate::format::iso639_2(l).is_some());
            ["eng"].into_iter().chain(own).map(String::from).collect()
        }
    };
    for w in words.iter().filter(|w| !w.is_empty()) {
        let model_name =
            (3..=12).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        let model = if w.contains('_') && model_name {
            // A model of tesseract's own naming (`chi_tra`).
            w.clone()
        } else if crate::format::iso639_2(w).is_some() {
            model_for(Some(w)).to_string()
        } else if model_name {
            // (`frk`, Fraktur)
            w.clone()
        } else {
            return Err(format!(
                "'{w}' is not a language code (such as eng, deu or fr)"
            ));
        };
        if !models.contains(&model) {
            models.push(model);
        }
    }
    Ok(models)
}

/// The system's language, as the locale says it: `LC_ALL`,
/// `LC_MESSAGES` or `LANG`, else `/etc/default/locale` (a service has
/// no locale of its own).
pub fn system_locale() -> Option<String> {
    let set = |v: String| Some(v).filter(|v| !v.is_empty() && v != "C" && v != "POSIX");
    for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Some(v) = std::env::var(var).ok().and_then(set) {
            return Some(v);
        }
    }
    let file = std::fs::read_to_string("/etc/default/locale").ok()?;
    file.lines()
        .filter_map(|l| l.strip_prefix("LANG="))
        .map(|v| v.trim_matches('"').to_string())
        .find_map(set)
}

/// What is missing for reading picture subtitles in `models`: the
/// command that installs it, or `None` when all is there.
pub fn missing_packages(tools: &Tools, models: &[String]) -> Option<String> {
    let packages: Vec<String> = match has_model(tools, "eng") {
        Err(_) => ["tesseract-ocr".to_string()]
            .into_iter()
            .chain(models.iter().map(|m| package_for(m)))
            .collect(),
        Ok(_) => models
            .iter()
            .filter(|m| !has_model(tools, m).unwrap_or(false))
            .map(|m| package_for(m))
            .collect(),
    };
    (!packages.is_empty()).then(|| format!("sudo apt install {}", packages.join(" ")))
}

/// Whether tesseract has `model`; `Err` when tesseract itself is missing.
pub fn has_model(tools: &Tools, model: &str) -> Result<bool, OcrError> {
    Ok(models(tools)?.iter().any(|m| m == model))
}

/// The models tesseract has (`tesseract --list-langs`); `Err` when
/// tesseract itself is missing.
pub fn models(tools: &Tools) -> Result<Vec<String>, OcrError> {
    let out = tools
        .command_for("tesseract", Priority::Interactive)
        .ok_or(OcrError::NoTesseract)?
        .arg("--list-langs")
        .stdin(Stdio::null())
        .output()
        .map_err(|_| OcrError::NoTesseract)?;
    let all = String::from_utf8_lossy(&out.stdout);
    Ok(all.lines().skip(1).map(|l| l.trim().to_string()).collect())
}

/// A picture as OCR wants it: a binary PGM of dark text on white,
/// cropped to its ink with a margin, scaled up when small. `None` when
/// it has no ink.
pub fn prepare(p: &Picture) -> Option<Vec<u8>> {
    let (w, h) = (p.width as usize, p.height as usize);
    let inked = |x: usize, y: usize| p.ink[y * w + x] > 96;
    let rows: Vec<usize> = (0..h).filter(|&y| (0..w).any(|x| inked(x, y))).collect();
    let cols: Vec<usize> = (0..w).filter(|&x| (0..h).any(|y| inked(x, y))).collect();
    let (top, bottom) = (*rows.first()?, *rows.last()?);
    let (left, right) = (*cols.first()?, *cols.last()?);
    let (cw, ch) = ((right - left + 1) as u32, (bottom - top + 1) as u32);
    let k = if ch < SMALL {
        SMALL.div_ceil(ch).min(4)
    } else {
        1
    };
    let (ow, oh) = (cw * k + 2 * MARGIN, ch * k + 2 * MARGIN);
    let mut out = format!("P5 {ow} {oh} 255\n").into_bytes();
    for y in 0..oh {
        for x in 0..ow {
            let inside = x >= MARGIN && y >= MARGIN && x < ow - MARGIN && y < oh - MARGIN;
            let v = if inside {
                let (sx, sy) = ((x - MARGIN) / k, (y - MARGIN) / k);
                255 - p.ink[(top + sy as usize) * w + left + sx as usize]
            } else {
                255
            };
            out.push(v);
        }
    }
    Some(out)
}

/// A cue as WebVTT needs it, once its picture is on its way to OCR.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    pub start: f64,
    pub end: f64,
    /// Its pictures sit in the top third of the frame.
    pub top: bool,
    /// Which page of the track's pictures is its text (none when it has
    /// no ink, or is read by its shapes).
    pub page: Option<usize>,
    /// What it says when it is only marks ("...", "---"), read by their
    /// shapes: OCR reads nothing from them.
    pub marks: Option<String>,
}

/// One track's pictures on their way to tesseract: each prepared and
/// written as it is decoded (hidden, beside the video), so a film's
/// pictures are never all in memory; removed when dropped, on every way
/// out.
pub struct Pages {
    dir: PathBuf,
    /// Named as every temp file is, so a start-up after a crash sweeps them.
    files: Vec<TempFile>,
    cues: Vec<Timed>,
}

impl Pages {
    pub fn new(dir: &Path) -> Pages {
        Pages {
            dir: dir.to_path_buf(),
            files: Vec::new(),
            cues: Vec::new(),
        }
    }

    /// A hidden temp file of this track's beside the video.
    fn temp(&self, name: &str) -> TempFile {
        TempFile::new(temp_path_for(&self.dir.join(name), "ocr"))
    }

    /// Adds a cue: its pictures composed, prepared and written.
    pub fn add(&mut self, cue: &Cue) -> std::io::Result<()> {
        let picture = composed(cue);
        let marks = picture
            .as_ref()
            .and_then(|p| super::marks::read(p, cue.screen.1));
        let pgm = picture
            .as_ref()
            .filter(|_| marks.is_none())
            .and_then(prepare);
        let page = match pgm {
            Some(pgm) => {
                let file = self.temp("page.pgm");
                std::fs::write(file.path(), pgm)?;
                self.files.push(file);
                Some(self.files.len() - 1)
            }
            None => None,
        };
        let top = cue
            .pictures
            .iter()
            .all(|p| cue.screen.1 > 0 && p.y + p.height < cue.screen.1 / 3);
        self.cues.push(Timed {
            start: cue.start,
            end: cue.end.unwrap_or(cue.start + 5.0),
            top,
            page,
            marks,
        });
        Ok(())
    }

    /// How many pictures there are to read.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn cues(&self) -> &[Timed] {
        &self.cues
    }
}

/// The text of each page, in order, read by one tesseract run with
/// `model`, at the lowest priority through the launch chain ffmpeg uses.
/// `on_page` hears how many are read so far; `control` stops it.
/// Blocking.
pub fn read(
    tools: &Tools,
    pages: &Pages,
    model: &str,
    control: &Control,
    mut on_page: impl FnMut(usize),
) -> Result<Vec<String>, OcrError> {
    if pages.is_empty() {
        return Ok(Vec::new());
    }
    let io = |e: std::io::Error| OcrError::Failed(e.to_string());
    let list = pages.temp("pages.txt");
    let mut names = String::new();
    for f in &pages.files {
        names.push_str(&f.path().to_string_lossy());
        names.push('\n');
    }
    std::fs::File::create(list.path())
        .and_then(|mut l| l.write_all(names.as_bytes()))
        .map_err(io)?;
    let mut child = tools
        .command_for("tesseract", Priority::Lowest)
        .ok_or(OcrError::NoTesseract)?
        .arg(list.path())
        .args(["stdout", "-l", model, "--psm", "6"])
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|_| OcrError::NoTesseract)?;
    // The launch chain execs: the pid is tesseract's own, for a cancel.
    control.pid.store(child.id(), Ordering::SeqCst);
    if control.cancelled.load(Ordering::SeqCst) {
        control.kill();
    }
    let mut stdout = child.stdout.take().expect("piped");
    let text = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stdout.read_to_end(&mut all);
        all
    });
    // It says "Page N : file" as it starts each picture.
    let mut said = Vec::new();
    for line in BufReader::new(child.stderr.take().expect("piped")).lines() {
        let Ok(line) = line else { break };
        if let Some(n) = line
            .strip_prefix("Page ")
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
        {
            on_page(n);
        } else {
            said.push(line);
        }
    }
    let status = child.wait().map_err(io)?;
    control.pid.store(0, Ordering::SeqCst);
    let text = text.join().unwrap_or_default();
    if control.cancelled.load(Ordering::SeqCst) {
        return Err(OcrError::Cancelled);
    }
    if !status.success() {
        return Err(OcrError::Failed(
            said.last()
                .map(String::as_str)
                .unwrap_or("no reason given")
                .to_string(),
        ));
    }
    on_page(pages.len());
    let text = String::from_utf8_lossy(&text);
    let mut texts: Vec<String> = text.split('\u{c}').map(mend).collect();
    texts.resize(pages.len(), String::new());
    Ok(texts)
}

/// A cue's pictures as one (two lines may be two objects): each at its
/// place in the box around them all. `None` for a cue with none, or one
/// spread over more pixels than a frame has.
pub fn composed(cue: &Cue) -> Option<Picture> {
    let x0 = cue.pictures.iter().map(|p| p.x).min()?;
    let y0 = cue.pictures.iter().map(|p| p.y).min()?;
    let x1 = cue.pictures.iter().map(|p| p.x + p.width).max()?;
    let y1 = cue.pictures.iter().map(|p| p.y + p.height).max()?;
    if let [one] = cue.pictures.as_slice() {
        return Some(one.clone());
    }
    let (w, h) = ((x1 - x0) as usize, (y1 - y0) as usize);
    if w * h > super::pgs::MAX_PIXELS {
        return None;
    }
    let mut ink = vec![0u8; w * h];
    for p in &cue.pictures {
        for y in 0..p.height as usize {
            for x in 0..p.width as usize {
                let at = (p.y - y0) as usize * w + y * w + (p.x - x0) as usize + x;
                ink[at] = ink[at].max(p.ink[y * p.width as usize + x]);
            }
        }
    }
    Some(Picture {
        x: x0,
        y: y0,
        width: w as u32,
        height: h as u32,
        ink,
    })
}

/// OCR's usual confusions mended, lines trimmed, empty ones dropped.
pub fn mend(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let l = l.trim().replace("''", "\"").replace(['|', '¦'], "I");
            // A lone `l` is the word "I"; so is it before an apostrophe.
            let words: Vec<String> = l
                .split(' ')
                .map(|w| {
                    if w == "l" {
                        "I".to_string()
                    } else if let Some(rest) = w.strip_prefix("l'") {
                        format!("I'{rest}")
                    } else {
                        w.to_string()
                    }
                })
                .collect();
            words.join(" ")
        })
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n")
}

/// What a WebVTT file read from pictures says of itself, after
/// `WEBVTT`: the player's label says so, and the job knows the track is
/// done.
const MARK: &str = "NOTE pimedia read this from picture subtitles";

/// How a WebVTT file was made, from its first lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The source's stream it was read from.
    pub stream: u32,
    /// A track of forced subtitles only.
    pub forced: bool,
}

/// The origin a WebVTT file's start says, if it was read from pictures.
pub fn origin(start: &str) -> Option<Origin> {
    let line = start.lines().find(|l| l.starts_with(MARK))?;
    let rest = line[MARK.len()..].trim();
    let stream = rest
        .strip_prefix("(stream ")?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some(Origin {
        stream,
        forced: rest.contains(", forced"),
    })
}

/// Cues this close (seconds) with the same text and place are one: a
/// Blu-ray fades a line in and out by showing it again with another
/// palette.
const SAME_CUE_GAP: f64 = 0.1;

/// Where a WebVTT file on disk came from, by its first lines; `None` for
/// one not read from pictures (or not readable). Blocking.
pub fn origin_of(file: &Path) -> Option<Origin> {
    let mut head = Vec::with_capacity(HEAD);
    std::fs::File::open(file)
        .ok()?
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .ok()?;
    origin(&String::from_utf8_lossy(&head))
}

/// How much of a WebVTT file's start says where it came from.
const HEAD: usize = 256;

/// WebVTT of the cues and the text of their pages, marked with where it
/// came from; a cue with no text is left out, one at the top of the
/// frame placed at the top, and a line shown again at once (a fade) is
/// one cue.
pub fn webvtt(cues: &[Timed], texts: &[String], from: Origin) -> String {
    let forced = if from.forced { ", forced" } else { "" };
    let mut out = format!("WEBVTT\n\n{MARK} (stream {}{forced})\n", from.stream);
    let mut kept: Vec<(&Timed, f64, &str)> = Vec::new();
    for cue in cues {
        let text = cue.page.and_then(|p| texts.get(p)).or(cue.marks.as_ref());
        let Some(text) = text.map(|t| t.trim()) else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        match kept.last_mut() {
            Some((last, end, said))
                if *said == text && last.top == cue.top && cue.start - *end <= SAME_CUE_GAP =>
            {
                *end = end.max(cue.end);
            }
            _ => kept.push((cue, cue.end, text)),
        }
    }
    for (cue, end, text) in kept {
        let place = if cue.top { " line:0" } else { "" };
        out.push_str(&format!(
            "\n{} --> {}{place}\n{text}\n",
            clock(cue.start),
            clock(end),
        ));
    }
    out
}

fn clock(secs: f64) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_by_the_tracks_language() {
        assert_eq!(model_for(Some("ger")), "deu");
        assert_eq!(model_for(Some("deu")), "deu");
        assert_eq!(model_for(Some("fre")), "fra");
        assert_eq!(model_for(Some("en")), "eng");
        assert_eq!(model_for(Some("chi")), "chi_sim");
        assert_eq!(model_for(Some("x/../../etc")), "eng");
        assert_eq!(model_for(None), "eng");
    }

    #[test]
    fn ocr_languages_come_from_the_flag_or_the_locale() {
        assert_eq!(languages(None, None).unwrap(), ["eng"]);
        assert_eq!(
            languages(None, Some("de_DE.UTF-8")).unwrap(),
            ["eng", "deu"]
        );
        assert_eq!(languages(None, Some("en_GB.UTF-8")).unwrap(), ["eng"]);
        assert_eq!(languages(None, Some("xx_YY")).unwrap(), ["eng"]);
        assert_eq!(
            languages(Some("fr, ger,chi_tra"), Some("de_DE")).unwrap(),
            ["fra", "deu", "chi_tra"]
        );
        assert!(languages(Some("x/../../etc"), None).is_err());
        assert_eq!(package_for("chi_sim"), "tesseract-ocr-chi-sim");
    }

    #[test]
    fn ocrs_confusions_are_mended() {
        assert_eq!(
            mend("  l'm here. |t is\n\n''Run!''  \n"),
            "I'm here. It is\n\"Run!\""
        );
        assert_eq!(mend("so l said"), "so I said");
        assert_eq!(mend(" \n \n"), "");
    }

    #[test]
    fn cues_become_webvtt_with_their_times_and_place() {
        // A tall stroke: a letter, not a mark.
        let pic = |y| Picture {
            x: 0,
            y,
            width: 2,
            height: 5,
            ink: vec![255; 10],
        };
        let cue = |start, end, y| Cue {
            start,
            end: Some(end),
            pictures: vec![pic(y)],
            forced: false,
            screen: (1920, 1080),
        };
        // The first line fades out: shown again at once with another palette.
        let cues = [
            cue(1.5, 3.0, 900),
            cue(3.0, 3.25, 900),
            cue(61.0, 62.0, 40),
            cue(70.0, 71.0, 900),
        ];
        let texts = [
            "Wake up, Neo.\nFollow me.".to_string(),
            " Wake up, Neo.\nFollow me.".to_string(),
            "SIGN".into(),
            "".into(),
        ];
        let from = Origin {
            stream: 3,
            forced: false,
        };
        // Each picture is written as it comes, and gone with its pages.
        let dir = tempfile::tempdir().unwrap();
        let mut pages = Pages::new(dir.path());
        for c in &cues {
            pages.add(c).unwrap();
        }
        assert_eq!(pages.len(), 4);
        let written = || std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(written(), 4);
        let vtt = webvtt(pages.cues(), &texts, from);
        drop(pages);
        assert_eq!(written(), 0);
        assert_eq!(origin(&vtt), Some(from));
        assert_eq!(origin("WEBVTT\n\nNOTE made by hand\n"), None);
        assert_eq!(
            vtt,
            "WEBVTT\n\nNOTE pimedia read this from picture subtitles (stream 3)\n\n00:00:01.500 --> 00:00:03.250\nWake up, Neo.\nFollow me.\n\n00:01:01.000 --> 00:01:02.000 line:0\nSIGN\n"
        );
    }

    #[test]
    fn a_cue_of_marks_alone_keeps_them_without_ocr() {
        // "..." while music plays: three dots on a DVD frame.
        let mut ink = vec![0u8; 30 * 4];
        for x in [2, 3, 6, 7, 10, 11] {
            ink[30 + x] = 255;
            ink[60 + x] = 255;
        }
        let cue = Cue {
            start: 2.0,
            end: Some(3.0),
            pictures: vec![Picture {
                x: 300,
                y: 500,
                width: 30,
                height: 4,
                ink,
            }],
            forced: false,
            screen: (720, 576),
        };
        let dir = tempfile::tempdir().unwrap();
        let mut pages = Pages::new(dir.path());
        pages.add(&cue).unwrap();
        assert!(pages.is_empty(), "no picture for tesseract");
        let from = Origin {
            stream: 2,
            forced: false,
        };
        let vtt = webvtt(pages.cues(), &[], from);
        assert!(
            vtt.ends_with("\n00:00:02.000 --> 00:00:03.000\n...\n"),
            "{vtt}"
        );
    }

    #[test]
    fn small_pictures_are_cropped_inverted_and_scaled() {
        // Ink in a 2x1 box inside a 6x4 picture.
        let mut ink = vec![0u8; 24];
        ink[6 + 2] = 255;
        ink[6 + 3] = 255;
        let p = Picture {
            x: 0,
            y: 0,
            width: 6,
            height: 4,
            ink,
        };
        let pgm = prepare(&p).unwrap();
        // Scaled 4 times at most: 8x4, with 10 px of white all round.
        let header = format!("P5 {} {} 255\n", 2 * 4 + 20, 4 + 20);
        assert!(pgm.starts_with(header.as_bytes()));
        let body = &pgm[header.len()..];
        // White margin, black text.
        assert_eq!(body[0], 255);
        assert_eq!(body[10 * 28 + 10], 0);
        let blank = Picture {
            ink: vec![0; 24],
            ..p
        };
        assert_eq!(prepare(&blank), None);
    }
}
