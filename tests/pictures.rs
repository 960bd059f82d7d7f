//! Picture subtitles read as text, with real parts: Blu-ray (PGS)
//! subtitles of known text (drawn by ffmpeg's drawtext, written as a
//! `.sup` by the test writer in `media::pgs`), muxed into an MKV and taken
//! out again by ffmpeg as a player's file would hold them, then read by
//! Debian's tesseract in one run: each cue's text and times, a two-line
//! cue, a cue at the top, a forced one. (Issue 32's first part: the job
//! that does this for every picture track is still to come.)

mod common;
use common::*;

use pimedia::media::{ocr, pgs, Tools};
use std::path::Path;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// White `lines` drawn on black, as ink (0 or 1) row after row.
fn drawn(dir: &Path, lines: &[&str], width: u16, height: u16) -> Vec<u8> {
    let raw = dir.join("text.raw");
    let filters: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            format!(
                "drawtext=fontfile={FONT}:text='{l}':fontcolor=white:fontsize=36:x=12:y={}",
                10 + 48 * i
            )
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

#[test]
fn blu_ray_subtitles_are_read_as_text_with_their_times_and_places() {
    let d = tempfile::tempdir().unwrap();
    let one = drawn(d.path(), &["Wake up, Neo."], 640, 64);
    let two = drawn(d.path(), &["Follow the", "white rabbit."], 640, 112);
    let sign = drawn(d.path(), &["EXIT"], 640, 64);
    let shown = [
        pgs::write::Shown {
            start: 0.5,
            end: 2.0,
            x: 640,
            y: 900,
            width: 640,
            height: 64,
            ink: &one,
            forced: false,
        },
        pgs::write::Shown {
            start: 2.5,
            end: 4.25,
            x: 640,
            y: 880,
            width: 640,
            height: 112,
            ink: &two,
            forced: false,
        },
        pgs::write::Shown {
            start: 5.0,
            end: 6.0,
            x: 640,
            y: 40,
            width: 640,
            height: 64,
            ink: &sign,
            forced: true,
        },
    ];
    let sup = d.path().join("subs.sup");
    std::fs::write(&sup, pgs::write::sup((1920, 1080), &shown)).unwrap();
    // Into an MKV beside a picture, and out again as ffmpeg copies it.
    let film = d.path().join("film.mkv");
    make_clip(
        &d.path().join("flat.mp4"),
        7,
        &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
    );
    ffmpeg(
        &[
            "-i",
            d.path().join("flat.mp4").to_str().unwrap(),
            "-i",
            sup.to_str().unwrap(),
            // The subtitles' own times, not shifted to start at 0.
            "-copyts",
            "-map",
            "0",
            "-map",
            "1",
            "-c",
            "copy",
            "-metadata:s:s:0",
            "language=eng",
        ],
        &film,
    );
    let probe = ffprobe_json(&film, &["-show_streams"]);
    assert!(
        probe["streams"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["codec_name"] == "hdmv_pgs_subtitle"),
        "{probe}"
    );
    let back = d.path().join("back.sup");
    ffmpeg(
        &[
            "-i",
            film.to_str().unwrap(),
            "-map",
            "0:s:0",
            "-c:s",
            "copy",
            "-f",
            "sup",
        ],
        &back,
    );

    let cues = pgs::cues(&std::fs::read(&back).unwrap()).unwrap();
    assert_eq!(cues.len(), 3);
    let pgms: Vec<Vec<u8>> = cues
        .iter()
        .map(|c| ocr::prepare(&c.pictures[0]).unwrap())
        .collect();
    let model = ocr::model_for(Some("eng"));
    // tesseract through the chain ffmpeg runs in (nice 19, idle I/O).
    let tools = Tools::locate(None, None);
    assert!(
        ocr::has_model(&tools, model).unwrap(),
        "tests/run.sh installs tesseract-ocr-eng"
    );
    let texts = ocr::read(&tools, &pgms, model, d.path()).unwrap();
    assert_eq!(
        texts,
        ["Wake up, Neo.", "Follow the\nwhite rabbit.", "EXIT"]
    );
    for (cue, (start, end)) in cues.iter().zip([(0.5, 2.0), (2.5, 4.25), (5.0, 6.0)]) {
        assert!((cue.start - start).abs() < 0.1, "{} vs {start}", cue.start);
        assert!(
            (cue.end.unwrap() - end).abs() < 0.1,
            "{:?} vs {end}",
            cue.end
        );
    }
    assert_eq!(
        cues.iter().map(|c| c.forced).collect::<Vec<_>>(),
        [false, false, true]
    );
    let vtt = ocr::webvtt(&cues, &texts);
    // (The MKV's clock starts 21 ms in, at the AAC's priming.)
    let lines: Vec<&str> = vtt.lines().collect();
    assert_eq!(lines[0], "WEBVTT");
    assert!(
        lines[2].starts_with("00:00:00.5") && !lines[2].ends_with("line:0"),
        "{vtt}"
    );
    assert!(vtt.contains("\nFollow the\nwhite rabbit.\n"), "{vtt}");
    assert!(
        lines[9].starts_with("00:00:05.0") && lines[9].ends_with(" line:0"),
        "{vtt}"
    );
    assert_eq!(lines[10], "EXIT");
    // Nothing of the run is left beside it.
    let left: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".pimedia-ocr"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_missing_model_is_said_with_its_install_command() {
    let d = tempfile::tempdir().unwrap();
    let tools = Tools::locate(None, None);
    let err = ocr::read(&tools, &[vec![b'P', b'5']], "xyz", d.path()).unwrap_err();
    assert!(matches!(err, ocr::OcrError::Failed(_)), "{err}");
    assert!(!ocr::has_model(&tools, "xyz").unwrap());
    let said = ocr::OcrError::NoModel {
        model: "deu".into(),
        name: "Deutsch".into(),
    }
    .to_string();
    assert!(
        said.contains("sudo apt install tesseract-ocr-deu"),
        "{said}"
    );
}
