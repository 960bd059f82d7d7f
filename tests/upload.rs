//! Uploads end to end: form posts and tus against the real binary, with
//! real ffprobe checking what arrives.

mod common;
use common::*;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use reqwest::blocking::multipart::{Form, Part};
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

fn clip_bytes() -> Vec<u8> {
    std::fs::read(sample_mp4()).unwrap()
}

fn part(bytes: Vec<u8>, name: &str) -> Part {
    Part::bytes(bytes).file_name(name.to_string())
}

fn post(s: &Server, form: Form) -> (u16, serde_json::Value) {
    let r = s
        .client()
        .post(s.url("/upload"))
        .header("Accept", "application/json")
        .multipart(form)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(serde_json::Value::Null))
}

fn no_temp_files(media: &Path) -> bool {
    media_files(media)
        .iter()
        .all(|f| !f.rsplit('/').next().unwrap().starts_with('.'))
}

#[test]
fn a_100_mb_upload_keeps_its_bytes_and_is_listed_at_once() {
    let s = Server::start(&[]);
    let bytes = big_media(s.dir.path(), 100_000_000);
    let src = s.dir.path().join("big.ts");
    std::fs::write(&src, &bytes).unwrap();
    let form = Form::new().file("file", &src).unwrap();
    let (status, json) = post(&s, form);
    assert_eq!(status, 201, "{json}");
    assert_eq!(json[0]["name"], "big.ts");
    assert_eq!(json[0]["size"], bytes.len() as u64);
    let stored = std::fs::read(s.media().join("big.ts")).unwrap();
    assert_eq!(sha256(&stored), sha256(&bytes));
    let api = s.text("/api/videos").1;
    assert!(api.contains("\"path\":\"big.ts\""), "{api}");
    assert!(no_temp_files(&s.media()));
}

#[test]
fn several_files_in_one_form_into_a_folder_then_303_to_the_library() {
    let s = Server::start(&[]);
    let form = Form::new()
        .text("folder", "Holidays/2024")
        .part("file", part(clip_bytes(), "beach.mp4"))
        .part("file", part(clip_bytes(), "hike.mp4"))
        .part(
            "file",
            part(
                b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n".to_vec(),
                "beach.en.vtt",
            ),
        );
    let r = s
        .client()
        .post(s.url("/upload"))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = header(&r, "location");
    assert!(to.starts_with("/?uploaded=3"), "{to}");
    assert_eq!(
        media_files(&s.media()),
        [
            "Holidays/2024/beach.en.vtt",
            "Holidays/2024/beach.mp4",
            "Holidays/2024/hike.mp4"
        ]
    );
    let (_, page) = s.text(&to);
    assert!(page.contains("3 files uploaded."), "{page}");
    assert!(page.contains(">beach<") && page.contains(">hike<"));
}

#[test]
fn hostile_names_land_inside_under_safe_names_and_nothing_is_overwritten() {
    let s = Server::start(&[]);
    let long = format!("{}.mp4", "n".repeat(300));
    let names = [
        "../../x.mp4",
        "..\\..\\y.mp4",
        "/etc/z.mp4",
        ".hidden.mp4",
        "🎬 Fête été.mp4",
        long.as_str(),
    ];
    for n in names {
        let (status, json) = post(&s, Form::new().part("file", part(clip_bytes(), n)));
        assert_eq!(status, 201, "{n}: {json}");
    }
    // The same name again: a numbered copy, the first file untouched.
    let first = std::fs::read(s.media().join("x.mp4")).unwrap();
    let (status, json) = post(&s, Form::new().part("file", part(clip_bytes(), "x.mp4")));
    assert_eq!(status, 201);
    assert_eq!(json[0]["name"], "x (1).mp4");
    assert_eq!(std::fs::read(s.media().join("x.mp4")).unwrap(), first);

    let got = media_files(&s.media());
    let capped = format!("{}.mp4", "n".repeat(251));
    let mut want = vec![
        "hidden.mp4".to_string(),
        "x (1).mp4".into(),
        "x.mp4".into(),
        "y.mp4".into(),
        "z.mp4".into(),
        "🎬 Fête été.mp4".into(),
        capped,
    ];
    want.sort();
    assert_eq!(got, want);
    assert!(!s.dir.path().join("x.mp4").exists() && !Path::new("/etc/z.mp4").exists());
    // Each is visible in the library.
    let api = s.json("/api/videos");
    assert_eq!(api.as_array().unwrap().len(), 7, "{api}");

    // NUL and control characters arrive through tus metadata (base64).
    let meta = format!(
        "filename {}",
        base64::engine::general_purpose::STANDARD.encode("a\0b\x01c\nd\x7f.mp4")
    );
    let bytes = clip_bytes();
    let loc = tus_create(&s, bytes.len() as u64, &meta);
    let r = tus_patch(&s, &loc, 0, bytes.clone(), None);
    assert_eq!(r.status(), 204);
    assert!(
        s.media().join("abcd.mp4").exists(),
        "{:?}",
        media_files(&s.media())
    );
    // A raw control character in a form's part header is refused clearly.
    let body = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\x01.mp4\"\r\n\r\nxx\r\n--B--\r\n";
    let answer = s.raw(&format!(
        "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("could not be read"));
}

#[test]
fn wrong_types_are_415_and_unreadable_videos_422_with_nothing_kept() {
    let s = Server::start(&[]);
    for name in ["setup.exe", "noextension"] {
        let (status, json) = post(&s, Form::new().part("file", part(b"MZ....".to_vec(), name)));
        assert_eq!(status, 415, "{name}");
        let msg = json["error"].as_str().unwrap();
        assert!(msg.contains("mkv") && msg.contains("srt"), "{msg}");
    }
    let junk: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 256) as u8).collect();
    let (status, json) = post(&s, Form::new().part("file", part(junk, "film.mp4")));
    assert_eq!(status, 422);
    assert!(json["error"]
        .as_str()
        .unwrap()
        .contains("not a video ffprobe can read"));
    assert!(
        !json["error"].as_str().unwrap().contains(".pimedia-tmp"),
        "{json}"
    );
    assert_eq!(media_files(&s.media()), Vec::<String>::new());
    // Without JavaScript the form page explains it, with the status.
    let r = s
        .client()
        .post(s.url("/upload"))
        .multipart(Form::new().part("file", part(b"x".to_vec(), "a.exe")))
        .send()
        .unwrap();
    assert_eq!(r.status(), 415);
    assert!(r
        .text()
        .unwrap()
        .contains("is not a video or subtitle file"));
}

/// Sends the head of a multipart upload of `declared` bytes, then `sent`
/// bytes of it, and returns the stream for the caller to finish or drop.
fn start_raw_upload(s: &Server, name: &str, declared: usize, sent: usize) -> TcpStream {
    let head = format!(
        "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n"
    );
    let tail = "\r\n--B--\r\n";
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    write!(
        c,
        "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\n\r\n{head}",
        head.len() + declared + tail.len()
    )
    .unwrap();
    let chunk = vec![b'v'; 64 * 1024];
    let mut left = sent;
    while left > 0 {
        let n = left.min(chunk.len());
        // The server may answer (and stop reading) before all is sent.
        if c.write_all(&chunk[..n]).is_err() {
            break;
        }
        left -= n;
    }
    c
}

#[test]
fn over_max_upload_is_413_before_the_body_ends() {
    let s = Server::start(&["--max-upload", "1M"]);
    // Declare 50 MB, send 2 MB, then wait for the answer without sending more.
    let mut c = start_raw_upload(&s, "big.mp4", 50 << 20, 2 << 20);
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 4096];
    let n = c.read(&mut buf).unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("upload limit of 1 MiB"), "{answer}");
    drop(c);
    s.wait_until(10, "no file and no temp file left", || {
        media_files(&s.media()).is_empty()
    });
}

fn free_bytes(p: &Path) -> u64 {
    let out = std::process::Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(p)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn crossing_the_disk_reserve_is_507_and_removes_the_temp() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("media")).unwrap();
    let reserve = free_bytes(d.path()).saturating_sub(40 << 20);
    let s = Server::start_in(d, &["--disk-reserve", &reserve.to_string()]);
    // Far more than the 40 MB left above the reserve, even if other tests
    // free some space meanwhile; generated as it is sent.
    let len: u64 = 3 << 30;
    let body = Part::reader_with_length(std::io::repeat(7).take(len), len).file_name("huge.mp4");
    let r = s
        .client()
        .post(s.url("/upload"))
        .header("Accept", "application/json")
        .multipart(Form::new().part("file", body))
        .send();
    // The server answers before reading all 150 MB; the client may see the
    // answer or a reset, but nothing may be kept either way.
    if let Ok(r) = r {
        assert_eq!(r.status(), 507);
        assert!(r.text().unwrap().contains("Not enough free disk space"));
    }
    s.wait_until(10, "no file and no temp file left", || {
        media_files(&s.media()).is_empty()
    });
    // Through tus the size is known up front: refused before any byte.
    let r = tus_post(&s, 3 << 30, &format!("filename {}", b64(b"huge.mp4")));
    assert_eq!(r.status(), 507);
}

#[test]
fn a_client_killed_mid_upload_leaves_no_file_and_no_temp() {
    let s = Server::start(&[]);
    let c = start_raw_upload(&s, "cut.mp4", 20 << 20, 5 << 20);
    // The temp file exists while the upload runs...
    s.wait_until(10, "the temp file", || !media_files(&s.media()).is_empty());
    assert!(
        media_files(&s.media())[0].starts_with(".pimedia-tmp-"),
        "{:?}",
        media_files(&s.media())
    );
    drop(c);
    // ...and is gone once the client is.
    s.wait_until(10, "cleanup", || media_files(&s.media()).is_empty());
    assert!(!s.text("/api/videos").1.contains("cut.mp4"));
}

#[test]
fn temp_files_left_by_a_crash_are_removed_at_start_up() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("media");
    std::fs::create_dir_all(m.join("sub")).unwrap();
    std::fs::write(m.join(".pimedia-tmp-up-1-0-a.mp4"), b"partial").unwrap();
    std::fs::write(m.join("sub/.pimedia-tmp-up-1-1-b.mp4"), b"partial").unwrap();
    std::fs::write(m.join("sub/.pimedia-tus-deadbeef"), b"orphan").unwrap();
    std::fs::write(m.join(".keep-me"), b"not ours").unwrap();
    let s = Server::start_in(d, &[]);
    assert_eq!(media_files(&s.media()), [".keep-me"]);
}

/// A tus creation request; the caller checks the answer.
fn tus_post(s: &Server, len: u64, meta: &str) -> reqwest::blocking::Response {
    s.client()
        .post(s.url("/uploads/"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", len.to_string())
        .header("Upload-Metadata", meta)
        .send()
        .unwrap()
}

fn tus_create(s: &Server, len: u64, meta: &str) -> String {
    let r = tus_post(s, len, meta);
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    header(&r, "location")
}

fn tus_patch(
    s: &Server,
    loc: &str,
    offset: usize,
    body: Vec<u8>,
    checksum: Option<String>,
) -> reqwest::blocking::Response {
    let mut req = s
        .client()
        .patch(s.url(loc))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream");
    if let Some(c) = checksum {
        req = req.header("Upload-Checksum", c);
    }
    req.body(body).send().unwrap()
}

/// A resumable upload of `bytes` as `name` with its first half sent: its
/// location.
fn half_sent(s: &Server, name: &str, bytes: &[u8]) -> String {
    let meta = format!("filename {}", b64(name.as_bytes()));
    let loc = tus_create(s, bytes.len() as u64, &meta);
    let half = bytes.len() / 2;
    let r = tus_patch(s, &loc, 0, bytes[..half].to_vec(), None);
    assert_eq!(r.status(), 204);
    loc
}

fn tus_offset(s: &Server, loc: &str) -> Option<u64> {
    let r = s
        .client()
        .head(s.url(loc))
        .header("Tus-Resumable", "1.0.0")
        .send()
        .unwrap();
    if r.status() == 404 {
        return None;
    }
    assert_eq!(r.status(), 200);
    Some(header(&r, "upload-offset").parse().unwrap())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn tus_options_announce_the_version_extensions_and_size_limit() {
    let s = Server::start(&["--max-upload", "2G"]);
    let opts = s
        .client()
        .request(reqwest::Method::OPTIONS, s.url("/uploads/"))
        .send()
        .unwrap();
    assert_eq!(opts.status(), 204);
    assert_eq!(opts.headers()["tus-version"], "1.0.0");
    assert!(header(&opts, "tus-extension").contains("checksum"));
    assert_eq!(
        opts.headers()["tus-max-size"],
        (2u64 << 30).to_string().as_str()
    );
}

#[test]
fn a_tus_upload_resumes_across_a_restart_into_its_folder() {
    let s = Server::start(&[]);
    let bytes = clip_bytes();
    let half = bytes.len() / 2;
    let meta = format!(
        "filename {},folder {}",
        b64("Resumed Film.mp4".as_bytes()),
        b64(b"Films")
    );
    let loc = tus_create(&s, bytes.len() as u64, &meta);
    assert!(loc.starts_with("/uploads/"));
    assert_eq!(tus_offset(&s, &loc), Some(0));
    let r = tus_patch(&s, &loc, 0, bytes[..half].to_vec(), None);
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["upload-offset"], half.to_string().as_str());
    // A wrong offset is a conflict.
    assert_eq!(
        tus_patch(&s, &loc, 5, bytes[5..10].to_vec(), None).status(),
        409
    );
    assert!(media_files(&s.media())
        .iter()
        .all(|f| !f.ends_with("Resumed Film.mp4")));

    // The server restarts in the middle; the upload goes on from its offset.
    let d = s.stop();
    let s = Server::start_in(d, &[]);
    assert_eq!(tus_offset(&s, &loc), Some(half as u64));
    let r = tus_patch(&s, &loc, half, bytes[half..].to_vec(), None);
    assert_eq!(r.status(), 204);
    assert_eq!(
        std::fs::read(s.media().join("Films/Resumed Film.mp4")).unwrap(),
        bytes
    );
    assert!(s.text("/api/videos").1.contains("Films/Resumed Film.mp4"));
    assert!(no_temp_files(&s.media()), "{:?}", media_files(&s.media()));
}

#[test]
fn a_tus_chunk_whose_checksum_lies_is_discarded_and_sent_again() {
    let s = Server::start(&[]);
    let bytes = clip_bytes();
    let half = bytes.len() / 2;
    let loc = half_sent(&s, "checked.mp4", &bytes);
    let rest = bytes[half..].to_vec();
    let wrong = format!("sha1 {}", b64(&sha1_of(b"something else")));
    let r = tus_patch(&s, &loc, half, rest.clone(), Some(wrong));
    assert_eq!(r.status().as_u16(), 460);
    assert_eq!(tus_offset(&s, &loc), Some(half as u64));
    let right = format!("sha256 {}", b64(&sha256(&rest)));
    assert_eq!(tus_patch(&s, &loc, half, rest, Some(right)).status(), 204);
    assert_eq!(std::fs::read(s.media().join("checked.mp4")).unwrap(), bytes);
}

#[test]
fn a_terminated_tus_upload_leaves_no_bytes() {
    let s = Server::start(&[]);
    let loc = tus_create(&s, 1000, &format!("filename {}", b64(b"gone.mkv")));
    assert_eq!(tus_patch(&s, &loc, 0, vec![1; 100], None).status(), 204);
    let r = s
        .client()
        .delete(s.url(&loc))
        .header("Tus-Resumable", "1.0.0")
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(tus_offset(&s, &loc), None);
    assert!(no_temp_files(&s.media()), "{:?}", media_files(&s.media()));
}

#[test]
fn a_tus_upload_gets_the_same_checks_as_a_form_upload() {
    let s = Server::start(&[]);
    let junk = vec![9u8; 5000];
    let loc = tus_create(
        &s,
        junk.len() as u64,
        &format!("filename {}", b64(b"junk.mp4")),
    );
    assert_eq!(tus_patch(&s, &loc, 0, junk, None).status(), 422);
    assert!(!s.media().join("junk.mp4").exists());
    assert!(no_temp_files(&s.media()), "{:?}", media_files(&s.media()));
    let r = tus_post(&s, 10, &format!("filename {}", b64(b"virus.exe")));
    assert_eq!(r.status(), 415);
    let r = s.post_with("/uploads/", &[("Upload-Length", "10")]);
    assert_eq!(r.status(), 412, "no Tus-Resumable header");
}

fn sha1_of(b: &[u8]) -> Vec<u8> {
    use sha1::Digest as _;
    sha1::Sha1::digest(b).to_vec()
}

#[test]
fn incomplete_tus_uploads_expire_after_a_day() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("media");
    std::fs::create_dir_all(m.join(".pimedia/uploads")).unwrap();
    std::fs::write(m.join(".pimedia-tus-0123"), b"old bytes").unwrap();
    let day_and_more = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 25 * 3600;
    std::fs::write(
        m.join(".pimedia/uploads/0123.json"),
        format!(r#"{{"id":"0123","name":"old.mp4","folder":"","length":100,"offset":9,"created":{day_and_more}}}"#),
    )
    .unwrap();
    std::fs::write(m.join(".pimedia-tus-4567"), b"new").unwrap();
    let fresh = day_and_more + 24 * 3600;
    std::fs::write(
        m.join(".pimedia/uploads/4567.json"),
        format!(r#"{{"id":"4567","name":"new.mp4","folder":"","length":100,"offset":3,"created":{fresh}}}"#),
    )
    .unwrap();
    let s = Server::start_in(d, &[]);
    assert_eq!(tus_offset(&s, "/uploads/0123"), None);
    assert_eq!(tus_offset(&s, "/uploads/4567"), Some(3));
    assert_eq!(media_files(&s.media()), [".pimedia-tus-4567"]);
}

#[test]
fn the_upload_password_guards_uploads_but_not_browsing() {
    let s = Server::start(&["--upload-password", "hunter2"]);
    let (st, page) = s.text("/upload");
    assert_eq!(st, 200);
    assert!(page.contains(r#"type="password""#) && !page.contains(r#"type="file""#));
    assert_eq!(s.get("/").status(), 200, "browsing stays open");

    let form = || Form::new().part("file", part(clip_bytes(), "a.mp4"));
    assert_eq!(post(&s, form()).0, 401);
    let r = tus_post(&s, 10, &format!("filename {}", b64(b"a.mp4")));
    assert_eq!(r.status(), 401);
    assert!(media_files(&s.media()).is_empty());

    // A wrong password is refused; the right one sets a cookie that works.
    let r = s.post_form("/upload/login", &[("password", "hunter3")]);
    assert_eq!(r.status(), 401);
    let r = s.post_form("/upload/login", &[("password", "hunter2")]);
    assert_eq!(r.status(), 303);
    let cookie = set_cookie(&r);
    assert!(cookie.starts_with("pimedia_auth="));
    let page = s
        .get_with("/upload", &[("Cookie", &cookie)])
        .text()
        .unwrap();
    assert!(page.contains(r#"type="file""#));
    let r = s
        .client()
        .post(s.url("/upload"))
        .header("Cookie", &cookie)
        .header("Accept", "application/json")
        .multipart(form())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    // Scripts may send the password in a header instead.
    let r = s
        .client()
        .post(s.url("/upload"))
        .header("X-Upload-Password", "hunter2")
        .header("Accept", "application/json")
        .multipart(form())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(media_files(&s.media()), ["a (1).mp4", "a.mp4"]);
}

#[test]
fn the_upload_page_works_without_javascript() {
    let s = Server::start(&[]);
    std::fs::create_dir_all(s.media().join("Kids")).unwrap();
    let (st, page) = s.text("/upload");
    assert_eq!(st, 200);
    assert!(page.contains(
        r#"<form id="upload-form" method="post" action="/upload" enctype="multipart/form-data""#
    ));
    // Videos, camcorder files the browser may not call video/*, subtitles.
    let accept = page
        .split(r#"accept=""#)
        .nth(1)
        .and_then(|a| a.split('"').next())
        .unwrap();
    for ext in [
        "video/*", ".mkv", ".mts", ".mod", ".dv", ".srt", ".vtt", ".ass", ".ssa",
    ] {
        assert!(accept.split(',').any(|a| a == ext), "{ext} in {accept}");
    }
    assert!(page.contains(r#"name="folder""#) && page.contains("multiple"));
    let (_, lib) = s.text("/");
    assert!(lib.contains(r#"href="/upload""#), "linked from every page");
}

#[test]
fn an_upload_cut_by_server_shutdown_leaves_no_temp() {
    let mut s = Server::start(&[]);
    let _c = start_raw_upload(&s, "cut.mp4", 50 << 20, 3 << 20);
    s.wait_until(10, "the temp file", || !media_files(&s.media()).is_empty());
    let (status, _) = s.terminate();
    assert_eq!(status.code(), Some(0));
    assert_eq!(media_files(&s.media()), Vec::<String>::new());
}

#[test]
fn after_a_crash_a_resumable_upload_resumes_from_what_the_disk_holds() {
    let mut s = Server::start(&[]);
    let bytes = clip_bytes();
    let half = bytes.len() / 2;
    let loc = half_sent(&s, "crash.mp4", &bytes);
    nix_kill(s.child.id(), "KILL");
    s.child.wait().unwrap();
    // A power cut may lose a tail the kernel had not written yet.
    let data = std::fs::read_dir(s.media())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".pimedia-tus-")
        })
        .expect("the upload's data file");
    let kept = half - 1000;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&data)
        .unwrap()
        .set_len(kept as u64)
        .unwrap();
    let d = s.stop();
    let s = Server::start_in(d, &[]);
    // The server says what the disk holds, and the client sends the rest.
    assert_eq!(tus_offset(&s, &loc), Some(kept as u64));
    let r = tus_patch(&s, &loc, kept, bytes[kept..].to_vec(), None);
    assert_eq!(r.status(), 204);
    assert_eq!(std::fs::read(s.media().join("crash.mp4")).unwrap(), bytes);
    assert!(no_temp_files(&s.media()), "{:?}", media_files(&s.media()));
}
