//! The deploy files, for real: Debian's nginx with the shipped site file in
//! front of the real binary, and systemd-analyze on the shipped unit.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Nginx {
    child: Child,
    port: u16,
    body_temp: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shipped site with this machine's paths and ports put in.
fn site(media: &Path, nginx_port: u16, pimedia_port: u16) -> String {
    let shipped = std::fs::read_to_string(repo().join("deploy/nginx/pimedia.conf")).unwrap();
    assert!(
        shipped.contains("listen 80 default_server;") && shipped.contains("alias /srv/media/;")
    );
    shipped
        .replace(
            "listen 80 default_server;",
            &format!("listen 127.0.0.1:{nginx_port};"),
        )
        .replace("listen [::]:80 default_server;", "")
        .replace(
            "alias /srv/media/;",
            &format!("alias {}/;", media.display()),
        )
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{pimedia_port}"))
}

fn nginx_conf(dir: &Path, site: &str) -> PathBuf {
    let body_temp = dir.join("client_body");
    std::fs::create_dir_all(&body_temp).unwrap();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 256; }}\nhttp {{\n include /etc/nginx/mime.types;\n access_log off;\n client_body_temp_path {b};\n proxy_temp_path {d}/proxy;\n fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n{site}\n}}\n",
        d = dir.display(),
        b = body_temp.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

fn start_nginx(s: &Server) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = nginx_conf(dir.path(), &site(&s.media(), port, s.port));
    succeed(
        Command::new("nginx")
            .arg("-t")
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.path().join("error.log")),
    );
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let n = Nginx {
        child,
        port,
        body_temp: dir.path().join("client_body"),
        _dir: dir,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nginx did not start");
}

fn url(n: &Nginx, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", n.port)
}

impl Nginx {
    /// A GET through nginx, with request headers.
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
        get_url(&url(self, path), headers)
    }
}

fn files_in(dir: &Path) -> usize {
    walk(dir).len()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn nginx_streams_a_100_mb_upload_to_pimedia_without_buffering_it() {
    let s = Server::start(&[]);
    let n = start_nginx(&s);
    let bytes = big_media(s.dir.path(), 100_000_000);
    let src = s.dir.path().join("big.ts");
    std::fs::write(&src, &bytes).unwrap();
    let r = s
        .client()
        .post(url(&n, "/upload"))
        .header("Accept", "application/json")
        .multipart(
            reqwest::blocking::multipart::Form::new()
                .file("file", &src)
                .unwrap(),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
    assert!(
        std::fs::read(s.media().join("big.ts")).unwrap() == bytes,
        "bytes differ"
    );
    assert_eq!(
        files_in(&n.body_temp),
        0,
        "nginx wrote the request body to its temp dir"
    );
}

#[test]
fn nginx_serves_videos_with_ranges_and_denies_dot_files() {
    let s = Server::start(&[]);
    let m = s.media();
    std::fs::copy(sample_mp4(), m.join("film.mp4")).unwrap();
    std::fs::write(m.join(".hidden.mp4"), b"secret").unwrap();
    std::fs::write(m.join(".pimedia/jobs.json"), b"secret").unwrap();
    std::fs::write(s.dir.path().join("outside.mp4"), b"secret").unwrap();
    std::os::unix::fs::symlink(s.dir.path().join("outside.mp4"), m.join("link.mp4")).unwrap();
    let n = start_nginx(&s);
    let bytes = std::fs::read(m.join("film.mp4")).unwrap();
    let r = n.get("/videos/film.mp4", &[("Range", "bytes=100-1099")]);
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert!(
        header(&r, "server").starts_with("nginx"),
        "nginx answered, not pimedia"
    );
    assert_eq!(r.bytes().unwrap().as_ref(), &bytes[100..1100]);
    for p in [
        "/videos/.hidden.mp4",
        "/videos/.pimedia/jobs.json",
        "/.pimedia/jobs.json",
        "/videos/link.mp4",
    ] {
        let r = n.get(p, &[]);
        assert!(
            matches!(r.status().as_u16(), 403 | 404),
            "{p}: {}",
            r.status()
        );
        assert!(!r.text().unwrap().contains("secret"), "{p}");
    }
}

#[test]
fn downloads_through_nginx_are_sent_by_nginx_with_their_name() {
    let s = Server::start(&[]);
    let m = s.media();
    std::fs::copy(sample_mp4(), m.join("Crème brûlée.mp4")).unwrap();
    s.wait_until(30, "the video", || {
        s.json("/api/videos")[0]["state"] == "ready"
    });
    let r = post_json(
        &s,
        "/api/videos/Cr%C3%A8me%20br%C3%BBl%C3%A9e.mp4/versions",
        &serde_json::json!({"name": "audio"}),
    );
    assert_eq!(r.status(), 201);
    s.wait_until(60, "the sound-only version", || {
        s.json("/api/videos")[0]["versions"][0]["state"] == "ready"
    });
    let n = start_nginx(&s);
    let bytes = std::fs::read(m.join("Crème brûlée.mp4.audio")).unwrap();
    let path = "/download/Cr%C3%A8me%20br%C3%BBl%C3%A9e.mp4?version=audio";
    let r = n.get(path, &[]);
    assert_eq!(r.status(), 200);
    let cd = header(&r, "content-disposition");
    assert!(
        cd.contains("filename*=UTF-8''Cr%C3%A8me%20br%C3%BBl%C3%A9e%20-%20audio.m4a"),
        "{cd}"
    );
    assert_eq!(r.headers()["content-type"], "audio/mp4");
    assert!(r.headers().get("x-accel-redirect").is_none());
    // nginx's own ETag ("mtime-size" in hex), not pimedia's ("s.ns-size").
    let etag = header(&r, "etag");
    assert!(!etag.contains('.'), "nginx sent it: {etag}");
    assert_eq!(r.bytes().unwrap().as_ref(), &bytes[..]);
    // Resumed where it dropped.
    let r = n.get(path, &[("Range", "bytes=1000-")]);
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().unwrap().as_ref(), &bytes[1000..]);
    let h = s.client().head(url(&n, path)).send().unwrap();
    assert_eq!(h.status(), 200);
    assert_eq!(
        h.headers()["content-length"],
        bytes.len().to_string().as_str()
    );
    // The internal location is not reachable from outside.
    let r = n.get("/_pimedia_files/Cr%C3%A8me%20br%C3%BBl%C3%A9e.mp4", &[]);
    assert_eq!(r.status(), 404);
}

#[test]
fn the_watch_page_plays_through_nginx() {
    let s = Server::start(&["--videos-url", "/videos/"]);
    std::fs::create_dir_all(s.media().join("Kids")).unwrap();
    std::fs::copy(sample_mp4(), s.media().join("Kids/Big Film.mp4")).unwrap();
    std::fs::write(
        s.media().join("Kids/Big Film.en.vtt"),
        "WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n",
    )
    .unwrap();
    let n = start_nginx(&s);
    s.wait_until(20, "the watcher to list the file", || {
        s.text("/api/videos").1.contains("Big Film.mp4")
    });
    let page = n.get("/watch/Kids/Big%20Film.mp4", &[]).text().unwrap();
    let src = page
        .split(r#"<source src=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a <source src> on the page")
        .to_string();
    assert_eq!(src, "/videos/Kids/Big%20Film.mp4");
    let r = n.get(&src, &[("Range", "bytes=0-")]);
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.bytes().unwrap().as_ref(),
        std::fs::read(sample_mp4()).unwrap().as_slice()
    );
    let track = page
        .split(r#"<track kind="subtitles" src=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let r = n.get(&track, &[]);
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/vtt"));
    // A name from an old disk that is not UTF-8: nginx opens it by the
    // bytes the page's <source> carries.
    {
        use std::os::unix::ffi::OsStrExt;
        let raw = s
            .media()
            .join(std::ffi::OsStr::from_bytes(b"Kids/Caf\xe9.mp4"));
        std::fs::copy(sample_mp4(), raw).unwrap();
    }
    s.wait_until(20, "Café.mp4 listed", || {
        s.text("/api/videos").1.contains("Café.mp4")
    });
    let page = n.get("/watch/Kids/Caf%C3%A9.mp4", &[]).text().unwrap();
    assert!(
        page.contains(r#"<source src="/videos/Kids/Caf%E9.mp4""#),
        "{page}"
    );
    let r = n.get("/videos/Kids/Caf%E9.mp4", &[]);
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().unwrap().len(),
        std::fs::read(sample_mp4()).unwrap().len()
    );
    // Pages and the API come from pimedia through the proxy.
    assert_eq!(n.get("/healthz", &[]).status(), 200);
}

#[test]
fn the_systemd_unit_verifies_and_is_hardened() {
    let unit = std::fs::read_to_string(repo().join("deploy/pimedia.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/pimedia --videos-url /videos/"));
    let dir = tempfile::tempdir().unwrap();
    // The unit as installed, pointing at this build.
    let path = dir.path().join("pimedia.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/pimedia", bin())).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze must be installed (tests/run.sh installs it)");
    let said =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let score: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for pimedia.service: ")
                .nth(1)
        })
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {text}"));
    assert!(score < 3.0, "exposure {score}");
}
