//! Smaller versions, made once: a folder's list applied to what is there,
//! every version checked by ffprobe (size, level, bitrate, sound, the
//! subtitles inside, the M4A's title and cover), made in one decode, never
//! listed, following their video through rename, move, trash and restore,
//! the folder's total and its removal; downloads by the name people read,
//! resumed with ranges.

mod common;
use common::*;

use serde_json::{json, Value};
use std::path::Path;

/// A 1080p H.264 MKV at about 10 Mb/s with AC-3 sound and an English
/// SRT inside: remuxed to an MP4 with its WebVTT beside it.
fn film(p: &Path, seconds: u32) {
    let srt = p.with_extension("src.srt");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(
        &srt,
        "1\n00:00:00,500 --> 00:00:02,000\nWake up, Neo.\n\n2\n00:00:02,500 --> 00:00:03,500\nFollow the white rabbit.\n",
    )
    .unwrap();
    let t = seconds.to_string();
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-i",
            srt.to_str().unwrap(),
            "-t",
            &t,
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-map",
            "2:s",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "10M",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "ac3",
            "-c:s",
            "srt",
            "-metadata:s:s:0",
            "language=eng",
        ],
        p,
    );
    std::fs::remove_file(srt).unwrap();
}

fn entry(s: &Server, path: &str) -> Value {
    s.json("/api/videos")
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["path"] == path)
        .cloned()
        .unwrap_or_default()
}

/// Waits until every one of `names` is ready for the video at `path`.
fn versions_ready(s: &Server, path: &str, names: &[&str]) -> Value {
    let mut v = Value::Null;
    s.wait_until(120, &format!("the versions {names:?} of {path}"), || {
        v = entry(s, path);
        let ready: Vec<&str> = v["versions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|x| x["state"] == "ready")
                    .filter_map(|x| x["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        names.iter().all(|n| ready.contains(n))
    });
    v
}

fn stream<'a>(probe: &'a Value, kind: &str) -> &'a Value {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind && s["disposition"]["attached_pic"] != 1)
        .unwrap_or_else(|| panic!("no {kind} stream in {probe}"))
}

fn duration(probe: &Value) -> f64 {
    probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_folders_versions_are_made_in_one_decode_checked_and_follow_their_video() {
    let dir = media_with(&[("Films/The Matrix 1999.mkv", &|p| film(p, 4))]);
    let (ffmpeg, log) = logging_tool(dir.path(), "ffmpeg");
    let s = Server::start_in(dir, &["--ffmpeg", ffmpeg.to_str().unwrap()]);
    let video = "Films/The Matrix 1999.mp4";
    s.wait_until(60, "the remux", || !entry(&s, video).is_null());
    // Set from the phone on the folder: applied to what is there.
    let r = post_json(
        &s,
        "/api/folders/versions",
        &json!({"path": "Films", "versions": "720p, 480p, audio"}),
    );
    assert_eq!(r.status(), 200);
    let v = versions_ready(&s, video, &["720p", "480p", "audio"]);
    let media = s.media();
    let source = ffprobe_json(&media.join(video), &["-show_format", "-show_streams"]);
    let want = duration(&source);
    for (name, height, max_bitrate) in [("720p", 720, 3_600_000.0), ("480p", 480, 1_900_000.0)] {
        let file = media.join(format!("{video}.{name}"));
        let p = ffprobe_json(&file, &["-show_format", "-show_streams"]);
        let pic = stream(&p, "video");
        assert_eq!(pic["codec_name"], "h264");
        assert_eq!(pic["height"], height, "{name}");
        assert_eq!(pic["profile"], "High");
        assert!(pic["level"].as_i64().unwrap() <= 41);
        assert_eq!(pic["pix_fmt"], "yuv420p");
        let sound = stream(&p, "audio");
        assert_eq!(
            (sound["codec_name"].as_str(), sound["channels"].as_i64()),
            (Some("aac"), Some(2))
        );
        let subs = stream(&p, "subtitle");
        assert_eq!(subs["codec_name"], "mov_text");
        assert_eq!(subs["tags"]["language"], "eng");
        assert!(
            (duration(&p) - want).abs() < 1.0,
            "{name}: {} vs {want}",
            duration(&p)
        );
        let bitrate: f64 = p["format"]["bit_rate"].as_str().unwrap().parse().unwrap();
        assert!(bitrate < max_bitrate, "{name} at {bitrate} b/s");
        // What the API says of it is what is on disk.
        let listed = v["versions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap();
        assert_eq!(listed["height"], height);
        assert_eq!(listed["size"], std::fs::metadata(&file).unwrap().len());
    }
    let m4a = ffprobe_json(
        &media.join(format!("{video}.audio")),
        &["-show_format", "-show_streams"],
    );
    assert_eq!(m4a["format"]["tags"]["title"], "The Matrix (1999)");
    assert_eq!(stream(&m4a, "audio")["codec_name"], "aac");
    let cover = m4a["streams"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["disposition"]["attached_pic"] == 1);
    assert!(cover, "the poster as its cover: {m4a}");
    // One ffmpeg decoded the video once and wrote all three.
    let runs = std::fs::read_to_string(&log).unwrap();
    let making: Vec<&str> = runs.lines().filter(|l| l.contains(".mp4.720p")).collect();
    assert_eq!(making.len(), 1, "{runs}");
    assert!(making[0].contains("split=2"), "{}", making[0]);
    // Never library entries of their own.
    assert_eq!(paths_of(&s.json("/api/videos")), [video]);
    let (_, page) = s.text("/?dir=Films");
    assert!(!page.contains(".mp4.720p"), "{page}");
    // The folder says what they take.
    let total: u64 = ["720p", "480p", "audio"]
        .iter()
        .map(|n| {
            std::fs::metadata(media.join(format!("{video}.{n}")))
                .unwrap()
                .len()
        })
        .sum();
    let f = post_json(&s, "/api/folders/versions", &json!({"path": "Films"}))
        .json::<Value>()
        .unwrap();
    assert_eq!(
        (f["size"].as_u64(), f["count"].as_u64()),
        (Some(total), Some(3))
    );
    assert!(page.contains("Smaller versions"), "{page}");

    // Rename and move: they go along.
    let r = post_json(
        &s,
        &format!("/api/videos/{}/rename", video.replace(' ', "%20")),
        &json!({"to": "Kept/Neo"}),
    );
    assert_eq!(r.status(), 200, "{:?}", r.text());
    for n in ["720p", "480p", "audio"] {
        assert!(media.join(format!("Kept/Neo.mp4.{n}")).is_file(), "{n}");
        assert!(!media.join(format!("{video}.{n}")).exists(), "{n}");
    }
    versions_ready(&s, "Kept/Neo.mp4", &["720p", "480p", "audio"]);
    // Trash and restore.
    let r = post_json(&s, "/api/videos/Kept/Neo.mp4/delete", &Value::Null);
    assert_eq!(r.status(), 200);
    let trash_id = r.json::<Value>().unwrap()["trash"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!media.join("Kept/Neo.mp4.720p").exists());
    let r = post_json(&s, &format!("/api/trash/{trash_id}/restore"), &Value::Null);
    assert_eq!(r.status(), 200);
    assert!(media.join("Kept/Neo.mp4.720p").is_file());
    versions_ready(&s, "Kept/Neo.mp4", &["720p", "480p", "audio"]);
    // One action removes them.
    let r = post_json(
        &s,
        "/api/folders/versions",
        &json!({"path": "Kept", "versions": "", "remove": "1"}),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["size"], 0);
    for n in ["720p", "480p", "audio"] {
        assert!(!media.join(format!("Kept/Neo.mp4.{n}")).exists(), "{n}");
    }
    assert_eq!(entry(&s, "Kept/Neo.mp4")["versions"], json!([]));
    // Asked of the source's name (a bookmark, SMB): its entry's version.
    let r = post_json(
        &s,
        "/api/videos/Kept/Neo.mkv/versions",
        &json!({"name": "360p"}),
    );
    assert_eq!(r.status(), 201, "{:?}", r.text());
    versions_ready(&s, "Kept/Neo.mp4", &["360p"]);
    assert!(media.join("Kept/Neo.mp4.360p").is_file());
    let d = s.get("/download/Kept/Neo.mkv?version=360p");
    assert_eq!(d.status(), 200);
    assert!(d.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("Neo - 360p.mp4"));
}

#[test]
fn downloads_carry_the_title_resume_and_answer_head() {
    let dir = media_with(&[("Amélie 2001.mp4", &|p| make_mp4(p, 2))]);
    let s = Server::start_in(dir, &[]);
    let video = "Amélie 2001.mp4";
    let url = "/download/Am%C3%A9lie%202001.mp4";
    s.wait_until(30, "the video", || !entry(&s, video).is_null());
    // A version that is not made is not there; asking makes it.
    assert_eq!(s.get(&format!("{url}?version=360p")).status(), 404);
    let r = post_json(
        &s,
        "/api/videos/Am%C3%A9lie%202001.mp4/versions",
        &json!({"name": "360p"}),
    );
    assert_eq!(r.status(), 201, "{:?}", r.text());
    let made = r.json::<Value>().unwrap();
    assert!(
        matches!(made["state"].as_str(), Some("queued" | "running" | "ready")),
        "{made}"
    );
    // A 320x240 clip: a 360p version would not be smaller. That is not a
    // failure: the API, the job list and the page say it is not needed.
    let mut v = Value::Null;
    s.wait_until(60, "the 360p version to end", || {
        v = entry(&s, video)["versions"][0].clone();
        matches!(v["state"].as_str(), Some("not_needed" | "failed" | "ready"))
    });
    assert_eq!(v["state"], "not_needed", "{v}");
    let why = v["error"].as_str().unwrap();
    assert!(why.contains("already 240 lines"), "{v}");
    let job = &s.json("/api/jobs")[0];
    assert_eq!(
        (job["state"].as_str(), job["version"].as_str()),
        (Some("not_needed"), Some("360p")),
        "{job}"
    );
    assert_eq!(job["not_needed"]["reason"], "not_smaller", "{job}");
    let (_, jobs_page) = s.text("/jobs");
    assert!(
        jobs_page.contains(&format!("not needed: {why}")),
        "{jobs_page}"
    );
    assert!(!jobs_page.contains("job-error"), "{jobs_page}");
    let (_, watch) = s.text("/watch/Am%C3%A9lie%202001.mp4");
    assert!(watch.contains(&format!("Not needed: {why}.")), "{watch}");
    let r = post_json(
        &s,
        "/api/videos/Am%C3%A9lie%202001.mp4/versions",
        &json!({"name": "audio"}),
    );
    assert_eq!(r.status(), 201);
    versions_ready(&s, video, &["audio"]);

    let file = s.media().join("Amélie 2001.mp4.audio");
    let bytes = std::fs::read(&file).unwrap();
    let r = s.get(&format!("{url}?version=audio"));
    assert_eq!(r.status(), 200);
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cd.starts_with("attachment; filename=\"Am_lie (2001) - audio.m4a\""),
        "{cd}"
    );
    assert!(
        cd.contains("filename*=UTF-8''Am%C3%A9lie%20%282001%29%20-%20audio.m4a"),
        "{cd}"
    );
    assert_eq!(r.headers()["content-type"], "audio/mp4");
    // A dropped download resumes where it stopped, and ends byte-identical.
    let first = s
        .client()
        .get(s.url(&format!("{url}?version=audio")))
        .header("range", "bytes=0-999")
        .send()
        .unwrap();
    assert_eq!(first.status(), 206);
    let mut got = first.bytes().unwrap().to_vec();
    let rest = s
        .client()
        .get(s.url(&format!("{url}?version=audio")))
        .header("range", format!("bytes={}-", got.len()))
        .send()
        .unwrap();
    assert_eq!(rest.status(), 206);
    got.extend(rest.bytes().unwrap());
    assert_eq!(got, bytes);
    // HEAD: the headers, no body.
    let h = s.client().head(s.url(url)).send().unwrap();
    assert_eq!(h.status(), 200);
    assert_eq!(
        h.headers()["content-length"],
        std::fs::metadata(s.media().join(video))
            .unwrap()
            .len()
            .to_string()
            .as_str()
    );
    assert!(h.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".mp4"));
    assert!(h.bytes().unwrap().is_empty());
    // Removing it: gone from disk and from the list.
    let r = post_json(
        &s,
        "/api/videos/Am%C3%A9lie%202001.mp4/versions/audio/delete",
        &Value::Null,
    );
    assert_eq!(r.status(), 200);
    assert!(!file.exists());
    assert_eq!(s.get(&format!("{url}?version=audio")).status(), 404);
    // Names that are not versions, and paths outside, are refused.
    let r = post_json(
        &s,
        "/api/videos/Am%C3%A9lie%202001.mp4/versions",
        &json!({"name": "4k"}),
    );
    assert_eq!(r.status(), 400);
    assert_eq!(s.get("/download/..%2F..%2Fetc%2Fpasswd").status(), 404);
}

#[test]
fn making_or_removing_a_version_is_a_write() {
    let dir = media_with(&[("clip.mp4", &|p| make_mp4(p, 2))]);
    let s = Server::start_in(dir, &["--upload-password", "sofa"]);
    s.wait_until(30, "the video", || !entry(&s, "clip.mp4").is_null());
    for path in [
        "/api/videos/clip.mp4/versions",
        "/api/videos/clip.mp4/versions/audio/delete",
        "/api/folders/versions",
    ] {
        let r = post_json(
            &s,
            path,
            &json!({"name": "audio", "path": "", "versions": "audio"}),
        );
        assert_eq!(r.status(), 401, "{path}");
        let r = s
            .client()
            .post(s.url(path))
            .header("origin", "http://evil.example")
            .header("x-upload-password", "sofa")
            .send()
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    // Nothing was queued, nothing changed.
    assert!(s.json("/api/jobs").as_array().unwrap().is_empty());
    assert_eq!(entry(&s, "clip.mp4")["versions"], json!([]));
}

#[test]
fn a_portrait_phone_clip_keeps_its_shape_upright() {
    // Stored 1920x1080 and turned 90°, as phones record: shown 1080x1920
    // (ffmpeg 5.1 writes the turn only when copying, hence two steps).
    let dir = media_with(&[("Phone/clip.mp4", &|p: &Path| {
        let flat = p.with_extension("flat.mov");
        make_h264_with(&flat, 2, "aac", &["-s", "1920x1080"]);
        let flat_arg = flat.to_str().unwrap();
        ffmpeg(
            &[
                "-i",
                flat_arg,
                "-c",
                "copy",
                "-metadata:s:v:0",
                "rotate=90",
                "-movflags",
                "+faststart",
            ],
            p,
        );
        std::fs::remove_file(flat).unwrap();
    })]);
    let s = Server::start_in(dir, &["--versions", "480p"]);
    versions_ready(&s, "Phone/clip.mp4", &["480p"]);
    let p = ffprobe_json(&s.media().join("Phone/clip.mp4.480p"), &["-show_streams"]);
    let v = stream(&p, "video");
    // Upright in the picture itself: 480 across, 854 down, no turn left.
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(480), Some(854)),
        "{v}"
    );
    let turned = v["side_data_list"].as_array().is_some_and(|l| {
        l.iter()
            .any(|d| d["rotation"].as_i64().is_some_and(|r| r != 0))
    });
    assert!(!turned, "{v}");
}

/// A 640x480 H.264 clip with `audio` sound, in the container `p` names:
/// a 360p version of it is smaller.
fn vga(p: &Path, audio: &str) {
    make_h264_with(p, 2, audio, &["-s", "640x480"]);
}

/// The state of `name` of the video at `path`, as `/api/videos` says it.
fn version_state(s: &Server, path: &str, name: &str) -> Value {
    entry(s, path)["versions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == name).cloned())
        .map(|x| x["state"].clone())
        .unwrap_or_default()
}

#[test]
fn versions_asked_for_ahead_are_made_however_the_video_came_and_after_a_restart() {
    let dir = media_with(&[
        ("Shows/plays.mp4", &|p| vga(p, "aac")),
        ("Shows/aac.mkv", &|p| vga(p, "aac")),
        ("Shows/ac3.mkv", &|p| vga(p, "ac3")),
        ("Shows/old.mkv", &|p| {
            make_clip_of(p, "640x480", 2, &["-c:v", "mpeg2video", "-c:a", "mp2"])
        }),
    ]);
    let s = Server::start_in(dir, &["--versions", "360p"]);
    // Played as it is, remuxed (AAC or AC-3 sound) or transcoded on the Pi:
    // each gets the version once its TV version exists.
    let entries = [
        "Shows/plays.mp4",
        "Shows/aac.mp4",
        "Shows/ac3.mp4",
        "Shows/old.mp4",
    ];
    for video in entries {
        versions_ready(&s, video, &["360p"]);
        let p = ffprobe_json(&s.media().join(format!("{video}.360p")), &["-show_streams"]);
        assert_eq!(stream(&p, "video")["height"], 360, "{video}");
    }
    let transcode = finished_job(&s, "Shows/old.mkv");
    assert_eq!(transcode["kind"], "transcode", "{transcode}");
    // The folder's own list, set before a file arrives through the
    // watched folder: the new file gets it once it is remuxed.
    let r = post_json(
        &s,
        "/api/folders/versions",
        &json!({"path": "Shows", "versions": "360p, audio"}),
    );
    assert_eq!(r.status(), 200);
    let spare = s.media().join(".late.mkv");
    vga(&spare, "ac3");
    std::fs::rename(&spare, s.media().join("Shows/late.mkv")).unwrap();
    versions_ready(&s, "Shows/late.mp4", &["360p", "audio"]);

    // Stopped, a version lost (a disk error, a hand in the folder): at the
    // next start it is made again, and the others are left as they are.
    let media = s.media();
    let kept = media.join("Shows/ac3.mp4.360p");
    let kept_at = std::fs::metadata(&kept).unwrap().modified().unwrap();
    let dir = s.stop();
    std::fs::remove_file(media.join("Shows/aac.mp4.360p")).unwrap();
    let s = Server::start_in(dir, &["--versions", "360p"]);
    assert_ne!(version_state(&s, "Shows/aac.mp4", "360p"), "ready");
    versions_ready(&s, "Shows/aac.mp4", &["360p"]);
    assert!(media.join("Shows/aac.mp4.360p").is_file());
    assert_eq!(
        std::fs::metadata(&kept).unwrap().modified().unwrap(),
        kept_at
    );
}

#[test]
fn a_version_gone_from_disk_is_not_offered_and_is_made_again_where_its_folder_wants_it() {
    let dir = media_with(&[("Films/Film.mp4", &|p| vga(p, "aac"))]);
    let s = Server::start_in(dir, &[]);
    let video = "Films/Film.mp4";
    s.wait_until(30, "the video", || !entry(&s, video).is_null());
    // Made because it was asked for, then removed by hand.
    let r = post_json(
        &s,
        "/api/videos/Films/Film.mp4/versions",
        &json!({"name": "360p"}),
    );
    assert_eq!(r.status(), 201, "{:?}", r.text());
    versions_ready(&s, video, &["360p"]);
    let file = s.media().join("Films/Film.mp4.360p");
    let (_, page) = s.text("/watch/Films/Film.mp4");
    assert!(page.contains("data-quality=\"360p\""), "{page}");
    std::fs::remove_file(&file).unwrap();
    // What is offered is what is on disk: not ready, no link, no Quality.
    assert_eq!(entry(&s, video)["versions"], json!([]));
    assert_eq!(s.get("/download/Films/Film.mp4?version=360p").status(), 404);
    let (_, page) = s.text("/watch/Films/Film.mp4");
    assert!(!page.contains("data-quality=\"360p\""), "{page}");
    assert!(!page.contains("version=360p\" download"), "{page}");
    // The folder wants it: made again, and again when it goes again.
    let r = post_json(
        &s,
        "/api/folders/versions",
        &json!({"path": "Films", "versions": "360p"}),
    );
    assert_eq!(r.status(), 200);
    versions_ready(&s, video, &["360p"]);
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::remove_file(&file).unwrap();
    // Heard by the watcher, or found gone when a page asks: made again.
    s.wait_until(120, "the lost version to be made again", || {
        version_state(&s, video, "360p") == "ready" && file.is_file()
    });
    assert!(std::fs::metadata(&file).unwrap().modified().unwrap() >= before);
    let d = s.get("/download/Films/Film.mp4?version=360p");
    assert_eq!(d.status(), 200);
    assert_eq!(
        d.bytes().unwrap().len() as u64,
        std::fs::metadata(&file).unwrap().len()
    );
}
