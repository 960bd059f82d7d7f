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
    let files = media_files(&s.media());
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

/// The ffmpeg processes encoding MP3 from files under `dir`: (pid, nice,
/// I/O class as `ionice` says it).
fn mp3_encoders(dir: &Path) -> Vec<(u32, i32, String)> {
    let needle = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if comm.trim() != "ffmpeg" || !cmd.contains("libmp3lame") || !cmd.contains(&needle) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // Field 19 is the nice value; the name (field 2) ends at ')'.
        let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("");
        let nice = after
            .split_whitespace()
            .nth(16)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let io = Command::new("ionice")
            .args(["-p", &pid.to_string()])
            .output()
            .unwrap();
        found.push((
            pid,
            nice,
            String::from_utf8_lossy(&io.stdout).trim().to_string(),
        ));
    }
    found
}

#[test]
fn listen_runs_at_most_two_streams_at_background_priority() {
    // Ten minutes of sound: more MP3 than the socket buffers hold, so an
    // encoder runs until its client leaves.
    let d = media_with(&[("song.mp4", &|p| {
        let o = Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "color=size=32x32:rate=1",
            ])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050"])
            .args([
                "-t",
                "600",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-c:a",
                "aac",
            ])
            .args(["-b:a", "32k", "-movflags", "+faststart"])
            .arg(p)
            .status()
            .unwrap();
        assert!(o.success());
    })]);
    let s = Server::start_in(d, &[]);
    let media = s.media();
    // HEAD says what a GET would, and starts nothing.
    let head = s.head("/listen/song.mp4.mp3");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "audio/mpeg");
    assert!(mp3_encoders(&media).is_empty());

    let first = s.get("/listen/song.mp4.mp3");
    let second = s.get("/listen/song.mp4.mp3");
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = s.get("/listen/song.mp4.mp3");
    assert_eq!(third.status(), 503);
    assert!(third.headers().contains_key("retry-after"));
    let said = third.text().unwrap();
    assert!(
        said.contains("--listen-streams") && said.contains("try again"),
        "{said}"
    );
    s.wait_until(10, "two encoders", || mp3_encoders(&media).len() == 2);
    for (pid, nice, io) in mp3_encoders(&media) {
        assert_eq!(nice, 10, "ffmpeg {pid} runs at nice 10");
        assert!(io.starts_with("idle"), "ffmpeg {pid} has idle I/O: {io}");
    }
    drop(first);
    drop(second);
    s.wait_until(5, "every encoder to end with its client", || {
        mp3_encoders(&media).is_empty()
    });
    // The slots are free again.
    let again = s.get("/listen/song.mp4.mp3");
    assert_eq!(again.status(), 200);
}

/// The headers a client compares, without the ones that change per answer
/// (and framing: a HEAD's answer has no body to be chunked, so hyper
/// rightly leaves `Transfer-Encoding` out).
fn comparable(r: &reqwest::blocking::Response) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = r
        .headers()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "date" | "set-cookie" | "transfer-encoding"))
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    h.sort();
    h
}

#[test]
fn every_get_route_answers_head_with_the_same_status_and_headers() {
    let d = media_with(&[
        ("a.mp4", &|p| make_mp4(p, 2)),
        ("Films/b.mp4", &|p| make_mp4(p, 2)),
    ]);
    std::fs::write(
        d.path().join("media/a.en.vtt"),
        "WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n",
    )
    .unwrap();
    let s = Server::start_in(d, &[]);
    s.wait_until(30, "posters", || {
        s.json("/api/videos")
            .as_array()
            .is_some_and(|v| v.len() == 2 && v.iter().all(|x| x["thumb"].is_string()))
    });
    let thumb = s.json("/api/videos")[0]["thumb"]
        .as_str()
        .unwrap()
        .to_string();
    let routes = [
        "/",
        "/?dir=Films",
        "/?q=a&sort=date",
        "/watch/a.mp4",
        "/videos/a.mp4",
        "/videos/a.en.vtt",
        thumb.as_str(),
        "/upload",
        "/jobs",
        "/api/jobs",
        "/api/videos",
        "/api/positions/a.mp4",
        "/listen/a.mp4.mp3",
        // One audio track: no version with another first (404 both ways).
        "/audio/1/a.mp4",
        "/download/a.mp4",
        // Not made: 404 both ways.
        "/download/a.mp4?version=720p",
        "/healthz",
        "/api/devices/me",
        "/devices",
        "/api/devices",
        "/api/profiles",
        "/profiles",
        "/trash",
        "/phone",
        "/helpers",
        "/api/runners",
        "/static/app.css",
        "/favicon.ico",
        "/apple-touch-icon.png",
        // And what is not there: the same 404 either way.
        "/videos/missing.mp4",
        "/watch/..%2f..%2fetc%2fpasswd",
        "/no-such-page",
    ];
    // Every GET route docs/routes.md lists is walked here.
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/routes.md")).unwrap();
    for listed in doc.split("`GET ").skip(1) {
        let route = listed.split(['`', ',', ' ', '{', '…', '?']).next().unwrap();
        assert!(
            routes
                .iter()
                .any(|r| r.starts_with(route) && (route != "/" || *r == "/")),
            "docs/routes.md's GET {route} is not walked"
        );
    }
    let c = s.client();
    for route in routes {
        let get = c.get(s.url(route)).send().unwrap();
        let head = c.head(s.url(route)).send().unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {route}");
        assert_ne!(head.status(), 405, "HEAD {route}");
        let (gh, hh) = (comparable(&get), comparable(&head));
        assert_eq!(hh, gh, "HEAD {route} has the GET's headers");
        let status = get.status();
        let body = get.bytes().unwrap();
        let streamed = route.starts_with("/listen/");
        if !streamed {
            assert_eq!(
                head.headers()
                    .get("content-length")
                    .and_then(|v| v.to_str().ok()),
                Some(body.len().to_string().as_str()),
                "HEAD {route}: Content-Length is the GET's body ({status})"
            );
        }
        assert!(head.bytes().unwrap().is_empty(), "HEAD {route} has no body");
    }
    assert!(
        mp3_encoders(&s.media()).is_empty(),
        "a HEAD starts no encoder"
    );
}

#[test]
fn a_chunked_body_is_read_not_refused() {
    let d = media_with(&[("a.mp4", &|p| make_mp4(p, 2))]);
    let s = Server::start_in(d, &[]);
    let chunked = |bytes: &'static [u8]| reqwest::blocking::Body::new(std::io::Cursor::new(bytes));
    let r = s
        .client()
        .put(s.url("/api/positions/a.mp4"))
        .header("content-type", "application/json")
        .body(chunked(br#"{"position": 1.5, "duration": 2}"#))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(s.json("/api/positions/a.mp4")["position"], 1.5);
    // A form sent chunked, as some phones' browsers do.
    let r = s
        .client()
        .post(s.url("/api/folders"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(chunked(b"path=Holidays"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(s.media().join("Holidays").is_dir());
    // Too big is too big, however it comes (sent whole first, so the
    // answer is read rather than raced by the client's own writing).
    let body = " ".repeat(64 * 1024);
    let answer = s.raw(&format!(
        "PUT /api/positions/a.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    ));
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    assert_eq!(
        s.json("/api/positions/a.mp4")["position"],
        1.5,
        "nothing changed"
    );
}

#[test]
fn device_reports_from_strangers_are_bounded() {
    let d = media_with(&[("a.mp4", &|p| make_mp4(p, 2))]);
    let s = Server::start_in(d, &[]);
    let c = s.client();
    let page_time = || {
        let started = std::time::Instant::now();
        assert_eq!(c.get(s.url("/")).send().unwrap().status(), 200);
        started.elapsed()
    };
    let before = page_time();
    let report = |from: Option<&str>| {
        let mut r = c
            .post(s.url("/api/devices/me"))
            .header("content-type", "application/json")
            .body(r#"{"plays": {"h264": "probably"}, "player": true}"#);
        if let Some(ip) = from {
            r = r.header("x-forwarded-for", ip);
        }
        r.send().unwrap()
    };
    // 3,000 reports without a cookie from one client.
    let mut statuses = std::collections::BTreeMap::new();
    let mut retry_after = None;
    for _ in 0..3000 {
        let r = report(None);
        if r.status() == 429 {
            retry_after = r.headers().get("retry-after").cloned();
        }
        *statuses.entry(r.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&200), Some(&20), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&2980), "{statuses:?}");
    let wait: u64 = retry_after.unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let r = report(None);
    assert!(r.text().unwrap().contains("new devices"));
    // From many addresses (behind nginx, X-Forwarded-For names them):
    // never more than 200 kept.
    for n in 0..300 {
        let r = report(Some(&format!("192.168.{}.{}", n / 250, 1 + n % 250)));
        assert_eq!(r.status(), 200);
    }
    let listed = s.json("/api/devices")["devices"].as_array().unwrap().len();
    assert_eq!(listed, 200);
    let file = s.dir.path().join("media/.pimedia/devices.json");
    s.wait_until(10, "the devices file to hold the 200", || {
        std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|v| v["devices"].as_array().is_some_and(|d| d.len() == 200))
    });
    let after = page_time();
    println!("library page: {before:?} before the reports, {after:?} after");
}

#[test]
fn an_upload_folder_through_a_symlink_out_is_refused_and_nothing_is_made_outside() {
    let d = tempfile::tempdir().unwrap();
    let away = d.path().join("away");
    std::fs::create_dir_all(&away).unwrap();
    std::fs::create_dir_all(d.path().join("media")).unwrap();
    // Made by anyone with a shell on the disk, or a copied-in backup.
    std::os::unix::fs::symlink(&away, d.path().join("media/escape")).unwrap();
    let s = Server::start_in(d, &[]);
    for folder in ["escape/new", "escape/a/b", "escape"] {
        let r = s
            .client()
            .post(s.url("/upload"))
            .header("accept", "application/json")
            .multipart(
                reqwest::blocking::multipart::Form::new()
                    .text("folder", folder.to_string())
                    .file("file", sample_mp4())
                    .unwrap(),
            )
            .send()
            .unwrap();
        assert_eq!(r.status(), 404, "form into {folder}");
        // tus too: its folder is checked when the upload is created.
        let meta = |v: &str| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(v)
        };
        let r = s
            .client()
            .post(s.url("/uploads/"))
            .header("tus-resumable", "1.0.0")
            .header("upload-length", "10")
            .header(
                "upload-metadata",
                format!("filename {},folder {}", meta("a.mp4"), meta(folder)),
            )
            .send()
            .unwrap();
        assert_eq!(r.status(), 404, "tus into {folder}");
        // A new folder from the library page, as well.
        let r = s
            .client()
            .post(s.url("/api/folders"))
            .header("accept", "application/json")
            .form(&[("path", format!("{folder}/x"))])
            .send()
            .unwrap();
        assert_eq!(r.status(), 404, "new folder {folder}/x");
    }
    assert!(
        std::fs::read_dir(s.dir.path().join("away"))
            .unwrap()
            .next()
            .is_none(),
        "nothing was created outside the media dir"
    );
    let log = s.log_text();
    assert!(log.contains("leads outside the media dir"), "{log}");
}
