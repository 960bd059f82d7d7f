//! The install as a user does it: a Debian bookworm root booted with
//! systemd (systemd-nspawn), `deploy/install.sh` run inside it as root, and
//! the phone's upload through nginx on port 80. Booting a container needs
//! root: a plain `cargo test` lists it as ignored, and tests/run.sh runs it
//! when root (`cargo test --test install -- --ignored`), as CI is.
//!
//! The root is made once by debootstrap and cached in
//! `/var/cache/pimedia-tests` (or `$PIMEDIA_TEST_ROOTS`); each run boots it
//! with a throw-away overlay, so the cache stays clean.

mod common;
use common::runner::Runner;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What the booted root holds besides minbase, so the test needs no
/// network inside. Bump the version when the list changes.
const PACKAGES: &str =
    "systemd,systemd-sysv,dbus,curl,procps,ffmpeg,nginx,tesseract-ocr,tesseract-ocr-eng";
const ROOT_NAME: &str = "bookworm-minbase-v2";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The cached bookworm root, made on first use.
fn bookworm_root() -> PathBuf {
    let cache = std::env::var_os("PIMEDIA_TEST_ROOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/pimedia-tests"));
    let root = cache.join(ROOT_NAME);
    if root.join("usr/bin/ffmpeg").exists() {
        return root;
    }
    std::fs::create_dir_all(&cache).unwrap();
    let partial = cache.join(format!("{ROOT_NAME}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    let mirror = std::env::var("PIMEDIA_DEBIAN_MIRROR")
        .unwrap_or_else(|_| "http://deb.debian.org/debian".into());
    eprintln!(
        "install test: making a bookworm root in {} (about a minute, once)",
        root.display()
    );
    succeed(
        Command::new("debootstrap")
            .args([
                "--variant=minbase",
                &format!("--include={PACKAGES}"),
                "bookworm",
            ])
            .arg(&partial)
            .arg(&mirror),
    );
    std::fs::rename(&partial, &root).unwrap();
    root
}

/// A booted container; powered off on drop, its overlay thrown away.
struct Machine {
    nspawn: Child,
    init: u32,
    console: PathBuf,
}

impl Machine {
    fn boot(root: &Path, binds: &[(&Path, &str)], console: PathBuf) -> Machine {
        let mut cmd = Command::new("systemd-nspawn");
        cmd.arg("-D")
            .arg(root)
            .args(["-b", "--register=no", "--keep-unit", "--private-network"])
            .args(["--volatile=overlay", "--quiet"])
            .arg(format!("--machine=pimedia-test-{}", std::process::id()));
        for (host, inside) in binds {
            cmd.arg(format!("--bind-ro={}:{inside}", host.display()));
        }
        let nspawn = cmd
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&console).unwrap())
            .stderr(Stdio::from(
                std::fs::File::options()
                    .append(true)
                    .open(&console)
                    .unwrap(),
            ))
            .spawn()
            .expect("systemd-nspawn must be installed (tests/run.sh installs systemd-container)");
        let mut m = Machine {
            nspawn,
            init: 0,
            console,
        };
        m.init = m.find_init();
        // systemctl answers nothing until the manager is up; "degraded" is
        // fine: a minimal root has units that fail in a container.
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let state = m.sh("systemctl is-system-running");
            let state = String::from_utf8_lossy(&state.stdout).trim().to_string();
            if state == "running" || state == "degraded" {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "the container did not boot ({state}):\n{}",
                m.console_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The container's PID 1, as the host sees it.
    fn find_init(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.nspawn.try_wait() {
                panic!("systemd-nspawn exited with {st}:\n{}", self.console_text());
            }
            let out = Command::new("pgrep")
                .args(["-P", &self.nspawn.id().to_string(), "-x", "systemd"])
                .output()
                .unwrap();
            if let Some(pid) = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .next()
                .and_then(|p| p.parse().ok())
            {
                return pid;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the container's systemd did not start:\n{}",
            self.console_text()
        );
    }

    fn console_text(&self) -> String {
        std::fs::read_to_string(&self.console).unwrap_or_default()
    }

    /// Runs a shell command inside, as root.
    fn sh(&self, script: &str) -> Output {
        Command::new("nsenter")
            .args([
                "-t",
                &self.init.to_string(),
                "-a",
                "--",
                "/bin/sh",
                "-c",
                script,
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs a shell command inside and returns its standard output; a
    /// failure panics with what it printed and pimedia's log.
    fn ok(&self, script: &str) -> String {
        let out = self.sh(script);
        assert!(
            out.status.success(),
            "`{script}` failed ({}):\n{}{}\n--- pimedia's log ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.journal()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn journal(&self) -> String {
        let out = self.sh("journalctl -u pimedia --no-pager -o cat | tail -n 40");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn json(&self, path: &str) -> serde_json::Value {
        let body = self.ok(&format!("curl -sSf http://127.0.0.1{path}"));
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    fn wait_until(&self, secs: u64, what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "timed out waiting for {what}\n--- pimedia's log ---\n{}",
            self.journal()
        );
    }

    fn wait_healthy(&self) {
        self.wait_until(30, "pimedia to answer through nginx", || {
            self.sh("curl -sf -o /dev/null http://127.0.0.1/healthz")
                .status
                .success()
        });
    }

    fn ffmpeg_running(&self) -> bool {
        self.sh("pgrep -x ffmpeg").status.success()
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        // SIGTERM asks nspawn for a clean shutdown of the container.
        nix_kill(self.nspawn.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.nspawn.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.nspawn.kill();
        let _ = self.nspawn.wait();
    }
}

fn job_for<'a>(jobs: &'a serde_json::Value, source: &str) -> Option<&'a serde_json::Value> {
    jobs.as_array()?.iter().find(|j| j["source"] == source)
}

/// The job for `source` once it has ended (neither queued nor running).
fn ended_job(m: &Machine, secs: u64, source: &str) -> serde_json::Value {
    m.wait_until(secs, &format!("the job for {source} to end"), || {
        job_for(&m.json("/api/jobs"), source)
            .is_some_and(|j| j["state"] != "queued" && j["state"] != "running")
    });
    job_for(&m.json("/api/jobs"), source).unwrap().clone()
}

fn stream_codecs(m: &Machine, file: &str) -> Vec<String> {
    m.ok(&format!(
        "ffprobe -v error -show_entries stream=codec_name -of csv=p=0 {file}"
    ))
    .lines()
    .map(|l| l.trim().to_string())
    .collect()
}

#[test]
#[ignore = "needs root (it boots a container); tests/run.sh runs it as root"]
fn installed_service_converts_serves_survives_restart_stops_clean_and_uninstalls() {
    let root = bookworm_root();
    let work = tempfile::tempdir_in("/var/tmp").unwrap();
    let data = work.path().join("data");
    // What a phone and an old disk hold: an MKV with AC-3 sound, an MP4.
    make_h264(&data.join("holiday.mkv"), 4, "ac3");
    make_mp4(&data.join("phone.mp4"), 3);
    // HEVC from a newer phone, for a PC's runner to transcode.
    let mut hevc = X265.to_vec();
    hevc.extend(["-c:a", "aac"]);
    make_clip(&data.join("pc.mkv"), 2, &hevc);
    // What no remux fixes: MPEG-2 from an old camcorder, transcoded.
    make_clip(
        &data.join("tape.mpg"),
        2,
        &["-c:v", "mpeg2video", "-c:a", "mp2"],
    );
    // Ten minutes of sound: its MP3 outgrows every socket buffer on the
    // way, so a slow /listen client keeps its ffmpeg running.
    let long = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-nostdin",
            "-f",
            "lavfi",
            "-i",
            "color=size=64x64:rate=1",
        ])
        .args(["-f", "lavfi", "-i", "sine", "-t", "600", "-c:v", "libx264"])
        .args(["-c:a", "aac", "-movflags", "+faststart"])
        .arg(data.join("long.mp4"))
        .status()
        .unwrap();
    assert!(long.success());
    let bin = Path::new(bin());
    let m = Machine::boot(
        &root,
        &[
            (repo(), "/src"),
            (bin, "/opt/pimedia-under-test"),
            (&data, "/data"),
        ],
        work.path().join("console.log"),
    );

    m.ok("/src/deploy/install.sh /opt/pimedia-under-test");
    m.ok("systemctl is-active pimedia");
    m.wait_healthy();
    let mut health = m.json("/healthz");
    assert_eq!(health["ffmpeg_starts"], true, "{health}");
    m.wait_until(20, "the encoder to be found", || {
        health = m.json("/healthz");
        !health["encoder"].is_null()
    });
    // No encoder device in a container: libx264, found by a trial encode
    // that ran under the unit.
    assert_eq!(health["encoder"], "libx264", "{health}");
    // OCR for picture subtitles: tesseract with English starts under the
    // hardened unit, so nothing is said missing.
    let journal = m.ok("journalctl -u pimedia --no-pager -o cat");
    assert!(journal.contains("serving"), "{journal}");
    assert!(!journal.contains("until OCR is installed"), "{journal}");
    let devices = m.ok("systemctl show pimedia -p DeviceAllow -p DevicePolicy");
    assert!(devices.contains("char-video4linux rw"), "{devices}");
    assert!(devices.contains("DevicePolicy=closed"), "{devices}");
    // Room for many clients: the unit's LimitNOFILE (65536, or what the
    // container allows), not systemd's soft 1024.
    let files =
        m.ok("grep 'Max open files' /proc/$(systemctl show -p MainPID --value pimedia)/limits");
    let limits: Vec<u64> = files
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(limits[0] == limits[1] && limits[0] >= 4096, "{files}");

    // The phone's form upload, through nginx on port 80.
    for f in ["holiday.mkv", "phone.mp4", "tape.mpg"] {
        let code = m.ok(&format!(
            "curl -s -o /dev/null -w '%{{http_code}}' -H 'Accept: application/json' \
             -F file=@/data/{f} http://127.0.0.1/upload"
        ));
        assert_eq!(code, "201", "uploading {f}");
    }
    let job = ended_job(&m, 60, "holiday.mkv");
    assert_eq!(job["state"], "done", "{job}\n{}", m.journal());
    assert_eq!(
        stream_codecs(&m, "/srv/media/holiday.mp4")[..2],
        ["h264", "aac"]
    );
    // The transcode ran too, at nice 19 under the unit's filters.
    let job = ended_job(&m, 60, "tape.mpg");
    assert_eq!(
        (job["state"].as_str(), job["kind"].as_str()),
        (Some("done"), Some("transcode")),
        "{job}\n{}",
        m.journal()
    );
    assert_eq!(
        stream_codecs(&m, "/srv/media/tape.mp4")[..2],
        ["h264", "aac"]
    );
    // nginx (www-data) reads what the service wrote.
    m.ok("ls -l /srv/media/holiday.mp4 | grep -q '^-rw-r--r--'");

    // Both get posters, and they are JPEGs served through nginx.
    m.wait_until(60, "posters for every video", || {
        let videos = m.json("/api/videos");
        let all = videos.as_array().unwrap();
        all.len() == 3 && all.iter().all(|v| v["thumb"].is_string())
    });
    for v in m.json("/api/videos").as_array().unwrap() {
        // ffprobe ran under the unit too.
        assert!(v["duration"].as_f64().unwrap() > 1.5, "{v}");
        let thumb = v["thumb"].as_str().unwrap();
        let head = m.sh(&format!("curl -sSf http://127.0.0.1{thumb} | head -c 2"));
        assert_eq!(head.stdout, b"\xff\xd8", "{thumb} is not a JPEG");
    }

    // A TV seeking: nginx answers the range from the file itself.
    let headers =
        m.ok("curl -s -D - -o /tmp/part -r 1000-1999 http://127.0.0.1/videos/holiday.mp4");
    assert!(headers.starts_with("HTTP/1.1 206"), "{headers}");
    assert!(
        headers.to_lowercase().contains("server: nginx"),
        "{headers}"
    );
    m.ok("dd if=/srv/media/holiday.mp4 bs=1000 skip=1 count=1 status=none | cmp - /tmp/part");

    // /listen streams MP3 made by an ffmpeg the service starts.
    let mp3 = m.sh("curl -s -m 10 http://127.0.0.1/listen/phone.mp4.mp3 | head -c 4096");
    assert_eq!(mp3.stdout.len(), 4096, "{}", m.journal());
    assert!(
        mp3.stdout.starts_with(b"ID3") || (mp3.stdout[0] == 0xff && mp3.stdout[1] & 0xe0 == 0xe0)
    );

    // A restart keeps the library and the job history.
    let videos_before = m.json("/api/videos");
    let jobs_before = m.json("/api/jobs");
    m.ok("systemctl restart pimedia");
    m.wait_healthy();
    m.wait_until(30, "the library to be listed again", || {
        m.json("/api/videos").as_array().unwrap().len() == 3
    });
    assert_eq!(paths_of(&m.json("/api/videos")), paths_of(&videos_before));
    let ids = |v: &serde_json::Value| -> Vec<(u64, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|j| (j["id"].as_u64().unwrap(), j["state"].to_string()))
            .collect()
    };
    assert_eq!(ids(&m.json("/api/jobs")), ids(&jobs_before));

    // Stop while a client is slowly taking an MP3: no ffmpeg is left.
    // Copied in, as over SMB: the watcher lists it under the unit too.
    m.ok("cp /data/long.mp4 /srv/media/long-copy.mp4");
    m.ok(
        "setsid sh -c 'curl -s --limit-rate 2k http://127.0.0.1/listen/long-copy.mp4.mp3 \
         > /dev/null' < /dev/null > /dev/null 2>&1 &",
    );
    m.wait_until(20, "the /listen ffmpeg to run", || {
        let listed = paths_of(&m.json("/api/videos")).contains(&"long-copy.mp4".to_string());
        if listed && !m.ffmpeg_running() {
            m.sh("setsid sh -c 'curl -s --limit-rate 2k http://127.0.0.1/listen/long-copy.mp4.mp3 > /dev/null' < /dev/null > /dev/null 2>&1 &");
        }
        m.ffmpeg_running()
    });
    m.ok("systemctl stop pimedia");
    m.wait_until(10, "every ffmpeg to end with the service", || {
        !m.ffmpeg_running()
    });

    // Installing again is harmless: settings kept, videos kept, running.
    let settings = m.ok("sha256sum /etc/default/pimedia");
    m.ok("/src/deploy/install.sh /opt/pimedia-under-test");
    m.ok("systemctl is-active pimedia");
    assert_eq!(m.ok("sha256sum /etc/default/pimedia"), settings);
    m.wait_healthy();
    m.wait_until(30, "the library after a second install", || {
        m.json("/api/videos").as_array().unwrap().len() == 4
    });

    // A PC's runner, outside the container (its files, the host's node),
    // reaching the Pi on port 80 through nginx: registers, is told of a
    // job over socket.io (the WebSocket upgrade), downloads the source,
    // uploads its MP4, and the job is done as the runner's.
    let token = m.json("/api/runners")["registration_token"]
        .as_str()
        .unwrap()
        .to_string();
    let net = format!("--net=/proc/{}/ns/net", m.init);
    if let Some(runner) = Runner::start(
        "http://127.0.0.1",
        &token,
        "pc-outside",
        None,
        &["nsenter", &net, "--"],
    ) {
        m.wait_until(30, "the runner to connect through nginx", || {
            m.json("/api/runners")["runners"][0]["connected"] == true
        });
        let code = m.ok(
            "curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/json' \
             -F file=@/data/pc.mkv http://127.0.0.1/upload",
        );
        assert_eq!(code, "201");
        let job = ended_job(&m, 120, "pc.mkv");
        assert_eq!(
            (job["state"].as_str(), job["runner"].as_str()),
            (Some("done"), Some("pc-outside")),
            "{job}\n{}\n{}",
            m.journal(),
            runner.log_text()
        );
        assert_eq!(stream_codecs(&m, "/srv/media/pc.mp4")[..2], ["h264", "aac"]);
    }

    // Uninstall stops the service and keeps the videos.
    m.ok("/src/deploy/install.sh --uninstall");
    let active = m.sh("systemctl is-active pimedia");
    assert!(!active.status.success());
    m.ok("test ! -e /usr/local/bin/pimedia && test ! -e /etc/systemd/system/pimedia.service");
    m.ok("test -s /srv/media/holiday.mkv && test -s /srv/media/holiday.mp4 && test -s /srv/media/phone.mp4");
    assert!(!m.ffmpeg_running());
}
