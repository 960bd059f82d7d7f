//! Picture subtitles become WebVTT text, end to end with real parts:
//! subtitle streams of known text in real containers — Blu-ray (PGS,
//! drawn by ffmpeg's drawtext and written by the test writer in
//! `media::pgs`), DVD (VobSub, made from an SRT by dvdauthor's `spumux`)
//! and DVB (made from that by ffmpeg's `dvbsub` encoder) — read by the
//! binary's `subtitles` job with Debian's tesseract: each cue's text and
//! times, two lines, a cue at the top, a forced track, the player's
//! label; a German track read with the German model, which its track
//! waits for while it is missing, the other tracks read meanwhile (and
//! an English track read while a Hungarian one waits for its pack);
//! SDH tracks whose sound descriptions are in other colours and places,
//! and music marks alone, read whole from a DVD and from a Blu-ray;
//! progress, nice 19, cancel, retry, and a restart that reads nothing
//! again.

mod common;
use common::*;

use pimedia::media::pgs;
use std::path::Path;
use std::process::Command;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// White `lines` drawn on black, as ink (0 or 1) row after row.
fn drawn(dir: &Path, lines: &[&str], width: u16, height: u16) -> Vec<u8> {
    let at: Vec<(&str, u32)> = (0..).zip(lines).map(|(i, l)| (*l, 10 + 48 * i)).collect();
    drawn_at(dir, &at, width, height)
}

/// `lines` drawn on black, each with its top at a row, as ink (0 or 1).
fn drawn_at(dir: &Path, lines: &[(&str, u32)], width: u16, height: u16) -> Vec<u8> {
    let raw = dir.join("text.raw");
    let filters: Vec<String> = lines
        .iter()
        .map(|(l, y)| {
            format!("drawtext=fontfile={FONT}:text='{l}':fontcolor=white:fontsize=36:x=12:y={y}")
        })
        .collect();
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("color=black:s={width}x{height}"),
            "-vf",
            &filters.join(","),
            "-frames:v",
            "1",
            "-pix_fmt",
            "gray",
            "-f",
            "rawvideo",
        ],
        &raw,
    );
    std::fs::read(raw)
        .unwrap()
        .iter()
        .map(|v| (*v > 128) as u8)
        .collect()
}

/// The colours of an SDH picture: paper, the outline, then the text's.
const OUTLINE: u8 = 1;
const WHITE: u8 = 2;
const YELLOW: u8 = 3;
const CYAN: u8 = 4;
const MAGENTA: u8 = 5;
/// Each colour as red, green, blue and opacity, for spumux's PNGs.
const RGBA: [[u8; 4]; 6] = [
    [0, 0, 0, 0],
    [0, 0, 0, 255],
    [255, 255, 255, 255],
    [255, 255, 0, 255],
    [0, 255, 255, 255],
    [255, 0, 255, 255],
];
/// Each colour as a Blu-ray palette entry: index, Y, Cr, Cb, opacity.
const YCRCBA: [[u8; 5]; 6] = [
    [0, 16, 128, 128, 0],
    [1, 16, 128, 128, 255],
    [2, 235, 128, 128, 255],
    [3, 219, 138, 16, 255],
    [4, 188, 16, 154, 255],
    [5, 78, 230, 214, 255],
];

/// A subtitle picture as an SDH track draws one: each line (its text,
/// colour and top row) with a black outline on paper, as colours row
/// after row.
fn sdh_colours(dir: &Path, lines: &[(&str, u8, u32)], w: usize, h: usize) -> Vec<u8> {
    let at: Vec<(&str, u32)> = lines.iter().map(|(l, _, y)| (*l, *y)).collect();
    let ink = drawn_at(dir, &at, w as u16, h as u16);
    let inked = |x: usize, y: usize| ink[y * w + x] == 1;
    let colour_at = |y: usize| {
        let line = lines
            .iter()
            .rev()
            .find(|(_, _, top)| y + 4 >= *top as usize);
        line.map_or(WHITE, |l| l.1)
    };
    let mut colours = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let outline = (y.saturating_sub(2)..(y + 3).min(h))
                .any(|ny| (x.saturating_sub(2)..(x + 3).min(w)).any(|nx| inked(nx, ny)));
            colours.push(match (inked(x, y), outline) {
                (true, _) => colour_at(y),
                (false, true) => OUTLINE,
                _ => 0,
            });
        }
    }
    colours
}

/// A DVD frame's SDH picture (see [`sdh_colours`]) as a PNG of four
/// colours, as spumux takes.
fn sdh_picture(dir: &Path, name: &str, lines: &[(&str, u8, u32)]) -> std::path::PathBuf {
    let (w, h) = (720, 576);
    let mut pam =
        format!("P7\nWIDTH {w}\nHEIGHT {h}\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n")
            .into_bytes();
    for c in sdh_colours(dir, lines, w, h) {
        pam.extend_from_slice(&RGBA[c as usize]);
    }
    let raw = dir.join(format!("{name}.pam"));
    std::fs::write(&raw, pam).unwrap();
    let png = dir.join(format!("{name}.png"));
    ffmpeg(&["-i", raw.to_str().unwrap(), "-pix_fmt", "rgba"], &png);
    png
}

/// A Blu-ray film: video and audio, an English PGS track (a line, two
/// lines, a sign at the top) and a forced-only English track.
fn blu_ray_film(dir: &Path, out: &Path) {
    let one = drawn(dir, &["Wake up, Neo."], 640, 64);
    let two = drawn(dir, &["Follow the", "white rabbit."], 640, 112);
    let sign = drawn(dir, &["EXIT"], 640, 64);
    let shown = |start, end, y, height, ink, forced| pgs::write::Shown {
        start,
        end,
        x: 640,
        y,
        width: 640,
        height,
        ink,
        forced,
    };
    let full = [
        shown(0.5, 2.0, 900, 64, &one[..], false),
        shown(2.5, 4.25, 880, 112, &two[..], false),
        shown(5.0, 6.0, 40, 64, &sign[..], false),
    ];
    let forced = [shown(5.0, 6.0, 40, 64, &sign[..], true)];
    let tracks = [
        (pgs::write::sup((1920, 1080), &full), "eng", false),
        (pgs::write::sup((1920, 1080), &forced), "eng", true),
    ];
    blu_ray_film_of(dir, 7, &tracks, out);
}

/// A Blu-ray film in an MKV: 1080p video and audio, and a PGS track for
/// each of `tracks` (its `.sup`, its language, whether it is forced).
fn blu_ray_film_of(dir: &Path, seconds: u32, tracks: &[(Vec<u8>, &str, bool)], out: &Path) {
    let flat = dir.join("flat.mp4");
    make_clip_of(
        &flat,
        "1920x1080",
        seconds,
        &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
    );
    let mut inputs = vec!["-i".to_string(), flat.to_string_lossy().into_owned()];
    let mut outputs = "-copyts -map 0 -c copy"
        .split(' ')
        .map(String::from)
        .collect::<Vec<_>>();
    for (n, (sup, lang, forced)) in tracks.iter().enumerate() {
        let file = dir.join(format!("track{n}.sup"));
        std::fs::write(&file, sup).unwrap();
        inputs.extend(["-i".to_string(), file.to_string_lossy().into_owned()]);
        outputs.extend([
            "-map".to_string(),
            (n + 1).to_string(),
            format!("-metadata:s:s:{n}"),
            format!("language={lang}"),
        ]);
        if *forced {
            outputs.extend([format!("-disposition:s:{n}"), "forced".to_string()]);
        }
    }
    let args: Vec<&str> = inputs.iter().chain(&outputs).map(String::as_str).collect();
    ffmpeg(&args, out);
}

/// An SRT of `cues` (start, end, text).
fn srt(cues: &[(f64, f64, &str)]) -> String {
    let t = |s: f64| {
        let ms = (s * 1000.0).round() as u64;
        format!(
            "{:02}:{:02}:{:02},{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    cues.iter()
        .enumerate()
        .map(|(i, (a, b, text))| format!("{}\n{} --> {}\n{text}\n\n", i + 1, t(*a), t(*b)))
        .collect()
}

/// What spumux draws on a DVD subtitle track: an SRT's text in its own
/// font, or ready-made PNG pictures (start, end, file).
enum Spu<'a> {
    Text(&'a [(f64, f64, &'a str)]),
    Pictures(&'a [(f64, f64, std::path::PathBuf)]),
}

/// A DVD film in an MKV: MPEG-2 video, AC-3 audio and a VobSub track of
/// `cues` in `lang`, drawn by spumux as a DVD authoring tool does.
fn dvd_film(dir: &Path, seconds: u32, cues: &[(f64, f64, &str)], lang: &str, out: &Path) {
    dvd_film_of(dir, seconds, &[(lang, Spu::Text(cues))], out);
}

/// spumux's description of one subtitle stream.
fn spu_xml(dir: &Path, n: usize, spu: &Spu<'_>) -> String {
    let clock = |s: f64| format!("00:00:{:02}.{:02}", s as u32, ((s * 100.0) as u32) % 100);
    let inner = match spu {
        Spu::Text(cues) => {
            let file = dir.join(format!("subs{n}.srt"));
            std::fs::write(&file, srt(cues)).unwrap();
            format!(
                r#"<textsub filename="{}" characterset="UTF-8" fontsize="28.0" font="{FONT}" horizontal-alignment="center" vertical-alignment="bottom" left-margin="60" right-margin="60" top-margin="20" bottom-margin="30" subtitle-fps="25" movie-fps="25" movie-width="720" movie-height="574"/>"#,
                file.display()
            )
        }
        Spu::Pictures(shown) => shown
            .iter()
            .map(|(a, b, png)| {
                format!(
                    r#"<spu start="{}" end="{}" image="{}" xoffset="0" yoffset="0"/>"#,
                    clock(*a),
                    clock(*b),
                    png.display()
                )
            })
            .collect(),
    };
    format!(r#"<subpictures format="PAL"><stream>{inner}</stream></subpictures>"#)
}

/// A DVD film in an MKV: MPEG-2 video, AC-3 audio and a VobSub track for
/// each of `tracks` (its language and what it shows), drawn by spumux as
/// a DVD authoring tool does.
fn dvd_film_of(dir: &Path, seconds: u32, tracks: &[(&str, Spu<'_>)], out: &Path) {
    let mut mpg = dir.join("film.mpg");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=720x576:r=25",
            "-f",
            "lavfi",
            "-i",
            "sine",
            "-t",
            &seconds.to_string(),
            "-target",
            "pal-dvd",
        ],
        &mpg,
    );
    for (n, (_, spu)) in tracks.iter().enumerate() {
        let xml = dir.join(format!("spu{n}.xml"));
        std::fs::write(&xml, spu_xml(dir, n, spu)).unwrap();
        let with = dir.join(format!("with{n}.mpg"));
        let log = dir.join("spumux.log");
        let ok = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "spumux -s{n} '{}' < '{}' > '{}' 2>'{}'",
                xml.display(),
                mpg.display(),
                with.display(),
                log.display()
            ))
            .status()
            .expect("tests/run.sh installs dvdauthor");
        assert!(
            ok.success(),
            "spumux: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        mpg = with;
    }
    let mut args: Vec<String> = ["-fflags", "+genpts", "-i", mpg.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    // The DVD's navigation stream can't go into an MKV.
    args.extend(
        "-map 0:v -map 0:a -map 0:s -c copy"
            .split(' ')
            .map(String::from),
    );
    // Each stream's language by its DVD sub-stream (0x20 + spumux's -s),
    // whatever order ffmpeg finds them in.
    let found = ffprobe_json(&mpg, &["-show_streams", "-select_streams", "s"]);
    for (n, s) in found["streams"].as_array().unwrap().iter().enumerate() {
        let id = s["id"].as_str().and_then(|i| i.strip_prefix("0x"));
        let spu = id.and_then(|i| usize::from_str_radix(i, 16).ok()).unwrap() - 0x20;
        let lang = tracks[spu].0;
        args.extend([format!("-metadata:s:s:{n}"), format!("language={lang}")]);
    }
    ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>(), out);
}

/// A temp dir for a server, with its media folder made.
fn with_media() -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let media = d.path().join("media");
    std::fs::create_dir(&media).unwrap();
    (d, media)
}

/// Nothing hidden is left in the media folder: every temp file is gone.
fn no_temp_files_left(s: &Server) {
    let left = hidden_files(&s.media());
    assert!(left.is_empty(), "{left:?}");
}

/// The newest job of `kind` for `source`, once it reaches a final state.
fn ended(s: &Server, source: &str, kind: &str) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    s.wait_until(90, &format!("the {kind} job of {source} to end"), || {
        last = job_of(s, source, kind);
        matches!(
            last["state"].as_str(),
            Some("done" | "failed" | "cancelled")
        )
    });
    last
}

fn job_of(s: &Server, source: &str, kind: &str) -> serde_json::Value {
    s.json("/api/jobs")
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["source"] == source && j["kind"] == kind)
        .cloned()
        .unwrap_or_default()
}

/// A WebVTT file's cues: (start, end, text, placed at the top).
fn cues_of(vtt: &str) -> Vec<(f64, f64, String, bool)> {
    let secs = |t: &str| {
        let p: Vec<f64> = t.split(':').map(|x| x.parse().unwrap()).collect();
        p[0] * 3600.0 + p[1] * 60.0 + p[2]
    };
    vtt.split("\n\n")
        .filter_map(|block| {
            let mut lines = block.lines();
            let timing = lines.next()?;
            let (a, rest) = timing.split_once(" --> ")?;
            let b = rest.split(' ').next()?;
            let text: Vec<&str> = lines.collect();
            Some((secs(a), secs(b), text.join("\n"), rest.contains("line:0")))
        })
        .collect()
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.1
}

#[test]
fn blu_ray_subtitles_become_a_webvtt_track_read_once() {
    let (d, media) = with_media();
    blu_ray_film(d.path(), &media.join("film.mkv"));
    let s = Server::start_in(d, &[]);
    // The remux does not wait for the subtitles.
    assert_eq!(ended(&s, "film.mkv", "remux")["state"], "done");
    let job = ended(&s, "film.mkv", "subtitles");
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(
        job["plan"],
        serde_json::json!([
            "subtitle stream 2 (Blu-ray pictures, English): read by OCR into WebVTT",
            "subtitle stream 3 (Blu-ray pictures, English, forced): read by OCR into WebVTT"
        ])
    );
    let vtt = std::fs::read_to_string(s.media().join("film.eng.vtt")).unwrap();
    let cues = cues_of(&vtt);
    let texts: Vec<&str> = cues.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        texts,
        ["Wake up, Neo.", "Follow the\nwhite rabbit.", "EXIT"],
        "{vtt}"
    );
    for (c, (a, b)) in cues.iter().zip([(0.5, 2.0), (2.5, 4.25), (5.0, 6.0)]) {
        assert!(near(c.0, a) && near(c.1, b), "{c:?} vs {a}-{b}\n{vtt}");
    }
    assert_eq!(
        cues.iter().map(|c| c.3).collect::<Vec<_>>(),
        [false, false, true],
        "the sign is placed at the top: {vtt}"
    );
    // The forced-only track is a track of its own.
    let forced = std::fs::read_to_string(s.media().join("film.eng.forced.vtt")).unwrap();
    assert_eq!(cues_of(&forced).len(), 1, "{forced}");
    assert_eq!(cues_of(&forced)[0].2, "EXIT");
    // The player offers both, saying where they came from.
    let (_, page) = s.text("/watch/film.mp4");
    assert!(page.contains("English (from picture subtitles)"), "{page}");
    assert!(
        page.contains("English, forced (from picture subtitles)"),
        "{page}"
    );
    no_temp_files_left(&s);
    // A restart (a probe cache hit) reads nothing again.
    let modified = std::fs::metadata(s.media().join("film.eng.vtt"))
        .unwrap()
        .modified()
        .unwrap();
    let jobs_before = s.json("/api/jobs").as_array().unwrap().len();
    let d = s.stop();
    let s = Server::start_in(d, &[]);
    s.wait_until(10, "the library to be read", || {
        s.json("/api/videos").to_string().contains("film.mp4")
    });
    assert!(s.log_text().contains("listening") || !s.log_text().is_empty());
    let jobs_after = s.json("/api/jobs").as_array().unwrap().len();
    assert_eq!(jobs_before, jobs_after, "{}", s.json("/api/jobs"));
    assert_eq!(
        std::fs::metadata(s.media().join("film.eng.vtt"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
}

#[test]
fn dvd_and_dvb_subtitles_become_webvtt() {
    let (d, media) = with_media();
    let said = [
        (1.0, 2.5, "Wake up, Neo."),
        (3.0, 4.75, "Follow the\nwhite rabbit."),
        (5.5, 7.0, "Knock, knock."),
    ];
    dvd_film(d.path(), 8, &said, "eng", &media.join("dvd.mkv"));
    // A DVB recording of the same: ffmpeg's dvbsub encoder in a TS.
    let dvd = media.join("dvd.mkv");
    let mut args = vec!["-i", dvd.to_str().unwrap()];
    args.extend(
        "-map 0:v -map 0:a -map 0:s -c:v libx264 -preset ultrafast -c:a aac -c:s dvbsub -metadata:s:s:0 language=eng -f mpegts"
            .split(' '),
    );
    ffmpeg(&args, &d.path().join("dvb.ts"));
    std::fs::rename(d.path().join("dvb.ts"), media.join("dvb.ts")).unwrap();
    let s = Server::start_in(d, &[]);
    for (source, vtt) in [("dvd.mkv", "dvd.eng.vtt"), ("dvb.ts", "dvb.eng.vtt")] {
        reads_as(&s, source, vtt, &said);
    }
    no_temp_files_left(&s);
}

const SYSTEM_TESSDATA: &str = "/usr/share/tesseract-ocr/5/tessdata";

/// A tessdata folder of the test's own in `dir`, with English only.
fn english_only(dir: &Path) -> std::path::PathBuf {
    let tessdata = dir.join("tessdata");
    std::fs::create_dir(&tessdata).unwrap();
    std::fs::copy(
        Path::new(SYSTEM_TESSDATA).join("eng.traineddata"),
        tessdata.join("eng.traineddata"),
    )
    .unwrap();
    tessdata
}

#[test]
fn a_missing_language_pack_makes_its_track_wait_until_it_is_installed() {
    // "Installing" German is copying its model in, as the package does.
    let (d, media) = with_media();
    let tessdata = english_only(d.path());
    let system = Path::new(SYSTEM_TESSDATA);
    assert!(
        system.join("deu.traineddata").exists(),
        "tests/run.sh installs tesseract-ocr-deu"
    );
    let german = [(1.0, 3.0, "Schöne Grüße aus Köln")];
    let english = [(1.0, 3.0, "Greetings from Cologne")];
    let tracks = [("ger", Spu::Text(&german)), ("eng", Spu::Text(&english))];
    dvd_film_of(d.path(), 5, &tracks, &media.join("film.mkv"));
    let prefix = tessdata.to_str().unwrap().to_string();
    let s = Server::start_with_env(d, &[], &[("TESSDATA_PREFIX", &prefix)]);
    let eng = s.media().join("film.eng.vtt");
    s.wait_until(30, "the job to wait for the German model", || {
        let j = job_of(&s, "film.mkv", "subtitles");
        eng.exists()
            && j["state"] == "queued"
            && j["error"]
                .as_str()
                .is_some_and(|e| e.contains("sudo apt install tesseract-ocr-deu"))
    });
    let (_, page) = s.text("/jobs");
    assert!(page.contains("apt install tesseract-ocr-deu"), "{page}");
    assert!(s.log_text().contains("apt install tesseract-ocr-deu"));
    let read_first = (
        std::fs::read(&eng).unwrap(),
        std::fs::metadata(&eng).unwrap().modified().unwrap(),
    );
    std::fs::copy(
        system.join("deu.traineddata"),
        tessdata.join("deu.traineddata"),
    )
    .unwrap();
    reads_as(&s, "film.mkv", "film.ger.vtt", &german);
    // The English track, read while German waited, is not read again.
    let read_now = (
        std::fs::read(&eng).unwrap(),
        std::fs::metadata(&eng).unwrap().modified().unwrap(),
    );
    assert_eq!(read_first, read_now);
    let vtts: Vec<String> = media_files(&s.media())
        .into_iter()
        .filter(|f| f.ends_with(".vtt"))
        .collect();
    assert_eq!(vtts, ["film.eng.vtt", "film.ger.vtt"]);
    let (_, page) = s.text("/watch/film.mp4");
    assert!(page.contains("(from picture subtitles)"), "{page}");
}

#[test]
fn the_english_track_is_read_while_the_hungarian_one_waits_for_its_pack() {
    let (d, media) = with_media();
    let tessdata = english_only(d.path());
    let english = [(1.0, 3.0, "Wake up, Neo."), (4.0, 5.5, "Knock, knock.")];
    let hungarian = [(1.0, 3.0, "Ébredj, Neo.")];
    let tracks = [("eng", Spu::Text(&english)), ("hun", Spu::Text(&hungarian))];
    dvd_film_of(d.path(), 6, &tracks, &media.join("film.mkv"));
    let prefix = tessdata.to_str().unwrap().to_string();
    let s = Server::start_with_env(d, &[], &[("TESSDATA_PREFIX", &prefix)]);
    let vtt = s.media().join("film.eng.vtt");
    let mut job = serde_json::Value::Null;
    s.wait_until(90, "English read, the job waiting for Hungarian", || {
        job = job_of(&s, "film.mkv", "subtitles");
        vtt.exists()
            && job["state"] == "queued"
            && job["error"]
                .as_str()
                .is_some_and(|e| e.contains("sudo apt install tesseract-ocr-hun"))
    });
    let text = std::fs::read_to_string(&vtt).unwrap();
    let cues = cues_of(&text);
    let words: Vec<&str> = cues.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(words, ["Wake up, Neo.", "Knock, knock."], "{text}");
    for (c, (a, b, _)) in cues.iter().zip(english) {
        assert!(near(c.0, a) && near(c.1, b), "{c:?} vs {a}-{b}");
    }
    assert!(!s.media().join("film.hun.vtt").exists());
    let plan = job["plan"].to_string();
    for line in [
        "(DVD pictures, English): read by OCR into WebVTT",
        "(DVD pictures, Magyar): waits for tesseract-ocr-hun",
    ] {
        assert!(plan.contains(line), "{job}");
    }
    let (_, page) = s.text("/jobs");
    assert!(page.contains("apt install tesseract-ocr-hun"), "{page}");
    // The English track plays while the Hungarian one waits.
    s.wait_until(30, "the player to offer the English track", || {
        s.text("/watch/film.mp4")
            .1
            .contains("English (from picture subtitles)")
    });
    no_temp_files_left(&s);
}

/// An SDH track: when each cue shows, what it draws (each line's text,
/// colour and top row on a DVD's 576 rows) and what a viewer reads:
/// sound descriptions in yellow, cyan and magenta beside white dialogue,
/// one at the top of the frame, and music marks alone.
type SdhCue = (f64, f64, &'static [(&'static str, u8, u32)], &'static str);
const SDH: [SdhCue; 6] = [
    (
        1.0,
        3.0,
        &[("[Applause]", YELLOW, 60), ("Thank you all.", WHITE, 470)],
        "[Applause]\nThank you all.",
    ),
    (
        3.5,
        5.0,
        &[("[Knocking on door]", CYAN, 470)],
        "[Knocking on door]",
    ),
    (
        5.5,
        7.0,
        &[("Listen.", WHITE, 420), ("--- Soft music ---", YELLOW, 470)],
        "Listen.\n--- Soft music ---",
    ),
    (7.5, 8.5, &[("...", WHITE, 470)], "..."),
    (9.0, 10.0, &[("---", YELLOW, 470)], "---"),
    (
        10.5,
        11.5,
        &[("[Door slams]", MAGENTA, 470)],
        "[Door slams]",
    ),
];

/// The subtitles job of `source` ends done, and `vtt` beside it holds
/// `said` (start, end, text): every cue, its words and its times.
fn reads_as(s: &Server, source: &str, vtt: &str, said: &[(f64, f64, &str)]) {
    let job = ended(s, source, "subtitles");
    assert_eq!(job["state"], "done", "{job}");
    let text = std::fs::read_to_string(s.media().join(vtt)).unwrap();
    let cues = cues_of(&text);
    let words: Vec<&str> = cues.iter().map(|c| c.2.as_str()).collect();
    let want: Vec<&str> = said.iter().map(|c| c.2).collect();
    assert_eq!(words, want, "{source}: {text}");
    for (c, (a, b, _)) in cues.iter().zip(said) {
        assert!(near(c.0, *a) && near(c.1, *b), "{source}: {c:?} vs {a}-{b}");
    }
}

/// What a viewer of [`SDH`] reads, with its times.
fn sdh_said() -> Vec<(f64, f64, &'static str)> {
    SDH.iter().map(|(a, b, _, said)| (*a, *b, *said)).collect()
}

#[test]
fn a_deaf_viewers_dvd_track_keeps_its_sounds_whatever_their_colour_or_place() {
    let (d, media) = with_media();
    let pictures: Vec<_> = SDH
        .iter()
        .enumerate()
        .map(|(n, (a, b, lines, _))| (*a, *b, sdh_picture(d.path(), &format!("cue{n}"), lines)))
        .collect();
    let tracks = [("eng", Spu::Pictures(&pictures))];
    dvd_film_of(d.path(), 12, &tracks, &media.join("sdh.mkv"));
    let s = Server::start_in(d, &[]);
    reads_as(&s, "sdh.mkv", "sdh.eng.vtt", &sdh_said());
}

#[test]
fn a_deaf_viewers_blu_ray_track_keeps_its_sounds_whatever_their_colour_or_place() {
    let (d, media) = with_media();
    // The same cues on a 1080-row frame, each one object of its size.
    let pictures: Vec<Vec<u8>> = SDH
        .iter()
        .map(|(_, _, lines, _)| {
            let lines: Vec<_> = lines
                .iter()
                .map(|(t, c, y)| (*t, *c, y * 1080 / 576))
                .collect();
            sdh_colours(d.path(), &lines, 1920, 1080)
        })
        .collect();
    let shown: Vec<_> = SDH
        .iter()
        .zip(&pictures)
        .map(|((start, end, _, _), ink)| pgs::write::Shown {
            start: *start,
            end: *end,
            x: 0,
            y: 0,
            width: 1920,
            height: 1080,
            ink,
            forced: false,
        })
        .collect();
    let sup = pgs::write::sup_in((1920, 1080), &YCRCBA, &shown);
    blu_ray_film_of(d.path(), 12, &[(sup, "eng", false)], &media.join("sdh.mkv"));
    let s = Server::start_in(d, &[]);
    reads_as(&s, "sdh.mkv", "sdh.eng.vtt", &sdh_said());
}

#[test]
fn a_long_track_shows_progress_runs_at_nice_19_and_can_be_cancelled_and_retried() {
    let (d, media) = with_media();
    // 600 cues of 0.4 s each.
    let lines: Vec<String> = (0..600).map(|i| format!("Line number {i}")).collect();
    let said: Vec<(f64, f64, &str)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i as f64 * 0.5, i as f64 * 0.5 + 0.4, l.as_str()))
        .collect();
    dvd_film(d.path(), 301, &said, "eng", &media.join("long.mkv"));
    let s = Server::start_in(d, &[]);
    let mut id = 0;
    s.wait_until(60, "tesseract to be reading pictures", || {
        let j = job_of(&s, "long.mkv", "subtitles");
        id = j["id"].as_u64().unwrap_or(0);
        j["state"] == "running" && j["pictures"][0].as_u64().is_some_and(|n| n > 0)
    });
    let (_, page) = s.text("/jobs");
    assert!(page.contains(" of 600 pictures"), "{page}");
    // This server's tesseract reads a list in its media folder; others
    // (other tests' servers asking for the installed models) are not it.
    let ps = Command::new("ps")
        .args(["-o", "ni=,args=", "-C", "tesseract"])
        .output()
        .unwrap();
    let ps = String::from_utf8_lossy(&ps.stdout);
    let media = s.media().to_string_lossy().into_owned();
    let ours: Vec<&str> = ps.lines().filter(|l| l.contains(&media)).collect();
    assert!(!ours.is_empty(), "{ps}");
    assert!(ours.iter().all(|l| l.trim().starts_with("19 ")), "{ps}");
    let r = post_json(
        &s,
        &format!("/api/jobs/{id}/cancel"),
        &serde_json::Value::Null,
    );
    assert_eq!(r.status(), 200);
    assert_eq!(ended(&s, "long.mkv", "subtitles")["state"], "cancelled");
    s.wait_until(10, "tesseract to stop and its files to go", || {
        let ps = Command::new("pgrep")
            .args(["-x", "tesseract"])
            .output()
            .unwrap();
        ps.stdout.is_empty() && hidden_files(&s.media()).is_empty()
    });
    assert!(!s.media().join("long.eng.vtt").exists());
    let r = post_json(
        &s,
        &format!("/api/jobs/{id}/retry"),
        &serde_json::Value::Null,
    );
    assert_eq!(r.status(), 200);
    let job = ended(&s, "long.mkv", "subtitles");
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["pictures"], serde_json::json!([600, 600]));
    let vtt = std::fs::read_to_string(s.media().join("long.eng.vtt")).unwrap();
    let cues = cues_of(&vtt);
    let exact = cues.iter().zip(&said).filter(|(c, w)| c.2 == w.2).count();
    assert!(exact >= 570, "{exact} of 600 exact:\n{vtt}");
}
