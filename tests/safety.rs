//! Open on the LAN, safe from the web: writes from other sites are refused
//! before their body is read, names that are not this server's are refused
//! (DNS rebinding), and password guessing is slowed.

mod common;
use common::*;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends only a request's head (its body "to follow") and reads the answer.
fn head_only(s: &Server, head: &str) -> (String, Duration) {
    let url = s.url("/");
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    c.write_all(head.as_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    let n = c.read(&mut buf).unwrap_or(0);
    (
        String::from_utf8_lossy(&buf[..n]).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn writes_from_another_site_are_refused_before_their_body() {
    let s = Server::start(&[]);
    // A 4 GB upload announced by another site's form: refused at once.
    let (answer, took) = head_only(
        &s,
        "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 4000000000\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("another web site"), "{answer}");
    assert!(took < Duration::from_secs(2));
    // tus too, and any other write; Sec-Fetch-Site says it without Origin.
    for (method, path, extra) in [
        (
            "POST",
            "/uploads/",
            "Origin: https://evil.example\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 10\r\n",
        ),
        (
            "PATCH",
            "/uploads/abc",
            "Origin: null\r\nTus-Resumable: 1.0.0\r\n",
        ),
        (
            "PUT",
            "/api/positions/a.mp4",
            "Sec-Fetch-Site: cross-site\r\n",
        ),
        (
            "POST",
            "/api/jobs/1/cancel",
            "Origin: http://192.168.1.99\r\n",
        ),
        (
            "DELETE",
            "/uploads/abc",
            "Origin: http://evil.example\r\nTus-Resumable: 1.0.0\r\n",
        ),
    ] {
        let (answer, _) = head_only(
            &s,
            &format!(
                "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Content-Length: 5\r\n\r\n"
            ),
        );
        assert!(
            answer.starts_with("HTTP/1.1 403"),
            "{method} {path}: {answer}"
        );
    }
    // The same site's pages, and clients that send no Origin, work.
    std::fs::copy(sample_mp4(), s.media().join("a.mp4")).unwrap();
    let origin = s.url("").trim_end_matches('/').to_string();
    let r = upload_file(
        &s,
        &sample_mp4(),
        &[
            ("origin", &origin),
            ("sec-fetch-site", "same-origin"),
            ("accept", "application/json"),
        ],
    );
    assert_eq!(r.status(), 201);
    upload(&s, &sample_mp4());
    // Reads are not writes.
    let r = s.get_with("/api/videos", &[("origin", "http://evil.example")]);
    assert_eq!(r.status(), 200);
}

#[test]
fn names_that_are_not_this_server_are_refused() {
    let s = Server::start(&[]);
    let get = |host: &str| s.get_with("/api/videos", &[("host", host)]);
    for ok in [
        "127.0.0.1:8080",
        "192.168.1.20",
        "[fe80::1]:80",
        "localhost:8080",
        "raspberrypi.local",
        "Living-Room.local.",
    ] {
        assert_eq!(get(ok).status(), 200, "{ok}");
    }
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        get(hostname.trim()).status(),
        200,
        "this machine's own name"
    );
    let r = get("attacker.example.com:8080");
    assert_eq!(r.status(), 421);
    let text = r.text().unwrap();
    assert!(
        text.contains("--allowed-hosts attacker.example.com"),
        "{text}"
    );

    let s = Server::start(&["--allowed-hosts", "media.home.arpa, *.example.org"]);
    for (host, status) in [
        ("media.home.arpa", 200),
        ("tv.example.org", 200),
        ("example.com", 421),
    ] {
        let r = s.get_with("/", &[("host", host)]);
        assert_eq!(r.status(), status, "{host}");
    }
}

#[test]
fn password_guessing_is_slowed_and_the_cookie_is_strict() {
    let s = Server::start(&["--upload-password", "sofa"]);
    let login = |pw: &str| s.post_form("/upload/login", &[("password", pw)]);
    for _ in 0..5 {
        assert_eq!(login("guess").status(), 401);
    }
    let r = login("sofa");
    assert_eq!(r.status(), 429, "even the right one waits now");
    let wait: u64 = header(&r, "retry-after").parse().unwrap();
    assert!(wait >= 1);
    assert!(r.text().unwrap().contains("wait"));
    // The header password of scripts counts the same way.
    let r = s
        .client()
        .post(s.url("/api/folders"))
        .header("x-upload-password", "guess")
        .json(&serde_json::json!({ "path": "x" }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 429);
    std::thread::sleep(Duration::from_secs(wait));
    let r = login("sofa");
    assert_eq!(r.status(), 303);
    let cookie = header(&r, "set-cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}
