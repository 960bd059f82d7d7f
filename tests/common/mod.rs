//! Test fixture: the real pimedia binary on a free port over a temp media
//! dir, killed on drop; clips made by the real ffmpeg.
#![allow(dead_code)]

pub mod runner;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
}

/// How many times longer than on an idle machine a wait may take before
/// it counts as a failure (`PIMEDIA_TEST_PATIENCE`, default 4): on a busy
/// machine a transcode at nice 19 gets a sliver of the CPU. A wait ends
/// as soon as its condition holds, so this only slows a failing test.
pub fn patience() -> u64 {
    std::env::var("PIMEDIA_TEST_PATIENCE")
        .ok()
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(4)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pimedia")
}

impl Server {
    /// A server over a fresh, empty media dir.
    pub fn start(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("media")).unwrap();
        Server::start_in(dir, args)
    }

    /// A server over `dir/media` as it is (restart, pre-filled folders).
    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Server {
        Server::start_with_env(dir, args, &[])
    }

    /// As `start_in`, with extra environment variables.
    pub fn start_with_env(dir: tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_under(dir, args, env, None)
    }

    /// As `start_in`, started by `sh` after `ulimit <limit>` (`-Sn 1024`:
    /// a soft limit on open files as systemd sets it).
    pub fn start_with_ulimit(dir: tempfile::TempDir, args: &[&str], limit: &str) -> Server {
        Server::start_under(dir, args, &[], Some(limit))
    }

    fn start_under(
        dir: tempfile::TempDir,
        args: &[&str],
        env: &[(&str, &str)],
        ulimit: Option<&str>,
    ) -> Server {
        let port = free_port();
        let log = dir.path().join("server.log");
        let mut command = match ulimit {
            None => Command::new(bin()),
            Some(limit) => {
                let mut c = Command::new("sh");
                c.args([
                    "-c",
                    &format!("ulimit {limit} && exec \"$0\" \"$@\""),
                    bin(),
                ]);
                c
            }
        };
        let child = command
            .arg("--media-dir")
            .arg(dir.path().join("media"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut s = Server {
            child,
            port,
            dir,
            log,
        };
        s.wait_healthy();
        s
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("pimedia exited with {st}: {}", self.log_text());
            }
            if let Ok(r) = self.client().get(self.url("/healthz")).send() {
                if r.status() == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("pimedia did not become healthy: {}", self.log_text());
    }

    pub fn media(&self) -> PathBuf {
        self.dir.path().join("media")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn client(&self) -> reqwest::blocking::Client {
        client()
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.client().get(self.url(path)).send().unwrap()
    }

    /// A GET with request headers (a cookie, a Range, a Host).
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
        get_url(&self.url(path), headers)
    }

    /// A POST with request headers and no body (a button a script presses).
    pub fn post_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
        let mut req = self.client().post(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().unwrap()
    }

    /// A HEAD: what a GET would answer, without the body.
    pub fn head(&self, path: &str) -> reqwest::blocking::Response {
        self.client().head(self.url(path)).send().unwrap()
    }

    /// A POST of a form, as a page's form sends it.
    pub fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::blocking::Response {
        self.client()
            .post(self.url(path))
            .form(form)
            .send()
            .unwrap()
    }

    pub fn text(&self, path: &str) -> (u16, String) {
        let r = self.get(path);
        (r.status().as_u16(), r.text().unwrap())
    }

    pub fn json(&self, path: &str) -> serde_json::Value {
        self.get(path).json().unwrap()
    }

    /// `/healthz` once the encoder for transcodes is known (its trial
    /// encodes run just after start-up).
    pub fn health_with_encoder(&self) -> serde_json::Value {
        let mut health = serde_json::Value::Null;
        self.wait_until(20, "the encoder to be found", || {
            health = self.json("/healthz");
            !health["encoder"].is_null()
        });
        health
    }

    /// The library's entries as `/api/videos` lists them, sorted.
    pub fn video_paths(&self) -> Vec<String> {
        paths_of(&self.json("/api/videos"))
    }

    /// Sends raw bytes and returns the whole raw answer (for paths a
    /// client library would normalise, like `/../`).
    pub fn raw(&self, request: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log says `text` (else the test fails showing the log).
    pub fn assert_logged(&self, text: &str) {
        let log = self.log_text();
        assert!(log.contains(text), "no {text:?} in the log:\n{log}");
    }

    /// The log never says `text`.
    pub fn assert_not_logged(&self, text: &str) {
        let log = self.log_text();
        assert!(!log.contains(text), "{text:?} in the log:\n{log}");
    }

    /// Polls `f` until it returns true or `secs` (times [`patience`]) pass.
    pub fn wait_until(&self, secs: u64, what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs * patience());
        while Instant::now() < deadline {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out waiting for {what}; log:\n{}", self.log_text());
    }

    pub fn terminate(&mut self) -> (ExitStatus, Duration) {
        let t = Instant::now();
        nix_kill(self.child.id(), "TERM");
        let st = self.child.wait().unwrap();
        (st, t.elapsed())
    }

    /// Stops the server and hands back its folder, for a restart.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.terminate();
        let dir = tempfile::tempdir().unwrap();
        let old = std::mem::replace(&mut self.dir, dir);
        std::mem::forget(self);
        old
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client as a browser's script is: redirects are answers to look at.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A GET of a whole address (pimedia's, or nginx's in front of it) with
/// request headers.
pub fn get_url(url: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut req = client().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().unwrap()
}

/// A response header's value as text; a missing one fails the test.
pub fn header(r: &reqwest::blocking::Response, name: &str) -> String {
    let value = r.headers().get(name);
    let value = value.unwrap_or_else(|| panic!("no {name} header in {:?}", r.headers()));
    value.to_str().unwrap().to_string()
}

/// A POST with a JSON body (or none) from a client that wants JSON back.
pub fn post_json(s: &Server, path: &str, body: &serde_json::Value) -> reqwest::blocking::Response {
    let req = s
        .client()
        .post(s.url(path))
        .header("accept", "application/json");
    let req = if body.is_null() { req } else { req.json(body) };
    req.send().unwrap()
}

/// The `path` of each entry of an `/api/videos` answer, sorted.
pub fn paths_of(videos: &serde_json::Value) -> Vec<String> {
    let mut paths: Vec<String> = videos
        .as_array()
        .expect("a list of videos")
        .iter()
        .map(|v| v["path"].as_str().expect("a path").to_string())
        .collect();
    paths.sort();
    paths
}

pub fn nix_kill(pid: u32, sig: &str) {
    Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
}

/// Runs a program to its end and hands back its output; a program that is
/// missing or fails fails the test with the last lines it printed.
pub fn succeed(command: &mut Command) -> std::process::Output {
    let program = command.get_program().to_string_lossy().into_owned();
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed (tests/run.sh installs it): {e}"));
    if !out.status.success() {
        let printed = String::from_utf8_lossy(&out.stderr) + String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = printed.lines().collect();
        let last = lines[lines.len().saturating_sub(40)..].join("\n");
        panic!("{program} failed ({}):\n{last}", out.status);
    }
    out
}

/// `ffmpeg -v error -y <args> <out>`, its folder made first; a failure
/// fails the test with ffmpeg's words.
pub fn ffmpeg(args: &[&str], out: &Path) {
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    succeed(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y"])
            .args(args)
            .arg(out),
    );
}

/// A tiny clip made by the real ffmpeg: `seconds` of testsrc2 + sine,
/// with extra output options (codecs) given by `opts`.
pub fn make_clip(path: &Path, seconds: u32, opts: &[&str]) {
    make_clip_of(path, "320x240", seconds, opts);
}

/// As [`make_clip`], with a picture of `size` (`1920x1080`).
pub fn make_clip_of(path: &Path, size: &str, seconds: u32, opts: &[&str]) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    succeed(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("testsrc2=size={size}:rate=25"))
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
            .args(["-t", &seconds.to_string()])
            .args(opts)
            .arg(path),
    );
}

/// Output options for HEVC video made quickly and quietly.
pub const X265: &[&str] = &[
    "-c:v",
    "libx265",
    "-preset",
    "ultrafast",
    "-x265-params",
    "log-level=error",
];

/// An H.264 + AAC MP4, the file TVs play as it is.
pub fn make_mp4(path: &Path, seconds: u32) {
    make_h264(path, seconds, "aac");
}

/// H.264 video with the given audio codec, in the container `path` names
/// (an MP4 with its index first, as TVs want it).
pub fn make_h264(path: &Path, seconds: u32, audio: &str) {
    make_h264_with(path, seconds, audio, &[]);
}

/// As [`make_h264`], with more output options (`-metadata title=…`).
pub fn make_h264_with(path: &Path, seconds: u32, audio: &str, extra: &[&str]) {
    let mut opts = vec![
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        audio,
    ];
    if path.extension().is_some_and(|e| e == "mp4" || e == "m4v") {
        opts.extend(["-movflags", "+faststart"]);
    }
    opts.extend(extra);
    make_clip(path, seconds, &opts);
}

/// One clip made once per test binary, copied wherever a test needs a video.
pub fn sample_mp4() -> PathBuf {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let p = std::env::temp_dir().join(format!("pimedia-sample-{}.mp4", std::process::id()));
        make_mp4(&p, 2);
        p
    })
    .clone()
}

/// The `name=value` of a response's Set-Cookie.
pub fn set_cookie(r: &reqwest::blocking::Response) -> String {
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Posts one file to /upload as a form, with extra headers.
pub fn upload_file(
    s: &Server,
    file: &Path,
    headers: &[(&str, &str)],
) -> reqwest::blocking::Response {
    let mut req = s.client().post(s.url("/upload"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.multipart(
        reqwest::blocking::multipart::Form::new()
            .file("file", file)
            .unwrap(),
    )
    .send()
    .unwrap()
}

/// The real `tool` (ffmpeg, ffprobe) behind a script `dir/tool` that
/// notes every command line it is given in `dir/tool.log`: (script, log).
pub fn logging_tool(dir: &Path, tool: &str) -> (PathBuf, PathBuf) {
    let log = dir.join(format!("{tool}.log"));
    let script = script(
        dir,
        tool,
        &format!("echo \"$@\" >> '{}'\nexec {tool} \"$@\"", log.display()),
    );
    (script, log)
}

/// An executable shell script `dir/name` with this body (fake or wrapped
/// ffmpeg, hooks).
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// A real MPEG-TS clip followed by `extra` pseudo-random bytes: large, and
/// still media to ffprobe, which reads only its start.
pub fn big_media(dir: &Path, extra: u32) -> Vec<u8> {
    let ts = dir.join("clip.ts");
    make_clip(
        &ts,
        1,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-an",
            "-f",
            "mpegts",
        ],
    );
    let mut bytes = std::fs::read(&ts).unwrap();
    let mut x: u32 = 1;
    bytes.extend((0..extra).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    bytes
}

pub fn ffprobe_json(path: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json"])
        .args(args)
        .arg(path)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The newest job for `source` as `/api/jobs` shows it now (null if none).
pub fn job_of(s: &Server, source: &str) -> serde_json::Value {
    s.json("/api/jobs")
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["source"] == source)
        .cloned()
        .unwrap_or_default()
}

/// Cancels a job as the jobs page's button does.
pub fn cancel_job(s: &Server, id: u64) -> reqwest::blocking::Response {
    post_json(
        s,
        &format!("/api/jobs/{id}/cancel"),
        &serde_json::Value::Null,
    )
}

/// Uploads `file` as the upload page's script does; the server must take it.
pub fn upload(s: &Server, file: &Path) -> serde_json::Value {
    let r = upload_file(s, file, &[("accept", "application/json")]);
    assert_eq!(r.status(), 201, "uploading {}", file.display());
    r.json().unwrap()
}

/// Uploads `file` and waits for its job to end: the job.
pub fn upload_and_wait(s: &Server, file: &Path) -> serde_json::Value {
    upload(s, file);
    finished_job(s, &file.file_name().unwrap().to_string_lossy())
}

/// The newest job for `source` once it reaches a final state.
pub fn finished_job(s: &Server, source: &str) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    s.wait_until(60, &format!("the job for {source} to end"), || {
        last = job_of(s, source);
        matches!(
            last["state"].as_str(),
            Some("done" | "not_needed" | "failed" | "cancelled")
        )
    });
    last
}

/// Makes one file of a test's media dir.
pub type Maker<'a> = &'a dyn Fn(&Path);

pub fn media_with(files: &[(&str, Maker)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("media")).unwrap();
    for (name, make) in files {
        make(&d.path().join("media").join(name));
    }
    d
}

pub fn hidden_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".pimedia-"))
        .collect()
}

/// Every file under the media dir except the state dir, relative.
pub fn media_files(media: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![media.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.file_name().unwrap() == ".pimedia" {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(
                    p.strip_prefix(media)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}
