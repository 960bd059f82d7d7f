//! What a file says about itself is hostile too, and so is a stranger on
//! the LAN using the routes that need no password: names from tags are
//! made safe, originals are kept unless a lossless copy is in place, the
//! open routes are bounded, and every GET answers HEAD.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

/// An MKV (H.264 + AAC) with one SRT subtitle stream per language tag.
fn mkv_with_subtitle_tags(out: &Path, tags: &[&str]) {
    let dir = out.parent().unwrap();
    let base = dir.join(".base.mkv");
    make_h264(&base, 2, "aac");
    let srt = dir.join(".cue.srt");
    std::fs::write(&srt, "1\n00:00:00,200 --> 00:00:01,500\nHello there\n").unwrap();
    let mut c = Command::new("ffmpeg");
    c.args(["-v", "error", "-y", "-i"]).arg(&base);
    for _ in tags {
        c.arg("-i").arg(&srt);
    }
    c.args(["-map", "0"]);
    for (i, _) in tags.iter().enumerate() {
        c.args(["-map", &format!("{}", i + 1)]);
    }
    c.args(["-c:v", "copy", "-c:a", "copy", "-c:s", "srt"]);
    for (i, t) in tags.iter().enumerate() {
        c.arg(format!("-metadata:s:s:{i}"))
            .arg(format!("language={t}"));
    }
    assert!(c.arg(out).status().unwrap().success());
    std::fs::remove_file(base).unwrap();
    std::fs::remove_file(srt).unwrap();
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_language_tag_never_shapes_a_path() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("media");
    std::fs::create_dir_all(&m).unwrap();
    // All the traversal needs: a folder named `<stem>.x` beside the video
    // (any client can make one) and the place it points at.
    std::fs::create_dir(m.join("talk.x")).unwrap();
    std::fs::create_dir(d.path().join("somewhere")).unwrap();
    let traversal = "x/../../somewhere/name";
    let html = "html.<img src=x onerror=alert(1)>";
    mkv_with_subtitle_tags(&m.join("talk.mkv"), &[traversal, html, "ENG"]);
    let tags = ffprobe_json(&m.join("talk.mkv"), &["-show_streams"]);
    let said: Vec<&str> = tags["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["tags"]["language"].as_str())
        .collect();
    assert!(
        said.contains(&traversal),
        "the fixture carries the tag: {said:?}"
    );

    let s = Server::start_in(d, &[]);
    let job = finished_job(&s, "talk.mkv");
    assert_eq!(job["state"], "done", "{job}");
    let root = s.dir.path();
    assert!(
        std::fs::read_dir(root.join("somewhere"))
            .unwrap()
            .next()
            .is_none(),
        "nothing was written outside the media dir"
    );
    assert!(std::fs::read_dir(s.media().join("talk.x"))
        .unwrap()
        .next()
        .is_none());
    let files = files_under(&s.media());
    let vtts: Vec<&String> = files.iter().filter(|f| f.ends_with(".vtt")).collect();
    // The stream's number where the tag is not a plain language.
    assert_eq!(
        vtts,
        ["talk.eng.vtt", "talk.sub2.vtt", "talk.sub3.vtt"],
        "{files:?}"
    );
    for v in &vtts {
        let text = std::fs::read_to_string(s.media().join(v)).unwrap();
        assert!(text.contains("Hello there"), "{v}: {text}");
    }
    // The player's tracks are those files; no tag reaches the page as HTML.
    let (_, page) = s.text("/watch/talk.mp4");
    assert!(
        page.contains("talk.sub2.vtt") && page.contains("talk.eng.vtt"),
        "{page}"
    );
    assert!(!page.contains("<img src=x"), "{page}");
}

#[test]
fn delete_originals_removes_a_source_only_after_a_lossless_remux() {
    let d = media_with(&[
        ("film.mkv", &|p| make_h264(p, 2, "aac")),
        ("tape.mpg", &|p| {
            make_clip(p, 2, &["-c:v", "mpeg2video", "-c:a", "mp2"])
        }),
        ("concert.mkv", &|p| make_h264(p, 2, "flac")),
    ]);
    let s = Server::start_in(d, &["--delete-originals"]);
    for src in ["film.mkv", "tape.mpg", "concert.mkv"] {
        assert_eq!(finished_job(&s, src)["state"], "done", "{src}");
    }
    // H.264 + AAC copied as they are: the MP4 is every stream, losslessly.
    let film = ffprobe_json(&s.media().join("film.mp4"), &["-show_streams"]);
    assert_eq!(film["streams"].as_array().unwrap().len(), 2, "{film}");
    s.wait_until(10, "the remuxed original to go", || {
        !s.media().join("film.mkv").exists()
    });
    // A transcode is lossy (and the house may get a TV that plays the
    // original); FLAC can only become AAC in an MP4: both stay.
    assert_eq!(
        ffprobe_json(&s.media().join("tape.mp4"), &["-show_streams"])["streams"][0]["codec_name"],
        "h264"
    );
    assert!(
        s.media().join("tape.mpg").exists(),
        "a transcoded source is kept"
    );
    assert!(
        s.media().join("concert.mkv").exists(),
        "a source whose sound was re-encoded is kept"
    );
    let log = s.log_text();
    assert!(log.contains("kept the original tape.mpg"), "{log}");
    let api = s.text("/api/videos").1;
    assert!(
        !api.contains("film.mkv") && api.contains("tape.mp4"),
        "{api}"
    );
}
