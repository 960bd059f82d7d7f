//! The process: options, signals and timeouts.

mod common;
use common::*;
use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn a_bad_option_exits_2_naming_it() {
    for (args, name) in [
        (vec!["--workers", "lots"], "--workers"),
        (vec!["--listen", "not-an-address"], "--listen"),
        (vec!["--max-upload", "12 parsecs"], "--max-upload"),
        (vec!["--videos-url", "videos"], "--videos-url"),
        (vec!["--ffmpeg", "/no/such/ffmpeg"], "--ffmpeg"),
        (vec!["--no-such-flag"], "--no-such-flag"),
    ] {
        let out = Command::new(bin()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(name), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
    let out = Command::new(bin())
        .env("PIMEDIA_WORKERS", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--workers"));
}

#[test]
fn help_documents_every_option_and_its_env() {
    let out = Command::new(bin()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "media-dir",
        "state-dir",
        "listen",
        "workers",
        "ffmpeg",
        "ffprobe",
        "max-upload",
        "upload-password",
        "delete-originals",
        "videos-url",
        "disk-reserve",
        "on-job-done",
    ] {
        assert!(help.contains(&format!("--{opt}")), "{opt}");
        let env = format!("PIMEDIA_{}", opt.to_uppercase().replace('-', "_"));
        assert!(help.contains(&env), "{env}");
    }
}

#[test]
fn sigterm_exits_0_within_the_deadline_even_mid_download() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("media");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::File::create(m.join("big.mp4"))
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    let mut s = Server::start_in(d, &[]);
    // A client that reads slowly keeps a response in flight.
    let mut c = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.write_all(b"GET /videos/big.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 1024];
    c.read_exact(&mut buf).unwrap();
    let (status, took) = s.terminate();
    assert_eq!(status.code(), Some(0), "{}", s.log_text());
    assert!(took < Duration::from_secs(9), "took {took:?}");
    assert!(s.log_text().contains("SIGTERM"));
}

#[test]
fn a_half_sent_header_is_disconnected() {
    let s = Server::start(&[]);
    let mut c = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let t = Instant::now();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    assert!(
        t.elapsed() < Duration::from_secs(25),
        "still open after {:?}",
        t.elapsed()
    );
    // The server stays healthy for everyone else.
    assert_eq!(s.get("/healthz").status(), 200);
}

#[test]
fn pages_and_json_are_revalidated_while_assets_are_cached() {
    let s = Server::start(&[]);
    for path in [
        "/",
        "/upload",
        "/jobs",
        "/devices",
        "/api/videos",
        "/api/jobs",
        "/healthz",
    ] {
        let r = s.get(path);
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "{path}");
    }
    let css = s.get("/static/app.css");
    assert_eq!(css.headers()["cache-control"], "public, max-age=86400");
}

#[test]
fn icons_for_old_tvs_and_home_screens() {
    let s = Server::start(&[]);
    let (_, page) = s.text("/");
    assert!(
        page.contains(r#"rel="icon" href="/static/icon.png"#),
        "{page}"
    );
    assert!(page.contains(r#"rel="apple-touch-icon" href="/static/apple-touch-icon.png"#));
    for path in [
        "/static/icon.png",
        "/static/apple-touch-icon.png",
        "/favicon.ico",
        "/apple-touch-icon.png",
    ] {
        let r = s.get(path);
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "image/png", "{path}");
        let bytes = r.bytes().unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{path}");
    }
}
