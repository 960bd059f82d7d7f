//! Transcodes on a PC through the real PeerTube runner, against the real
//! binary. The runner is the one in `../shared/peertube-runner/` (found
//! from the repository root, as CI has it), else `peertube-runner`
//! installed from npm; without either these tests say why and do nothing
//! (see `common/runner.rs`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::runner::Runner;
use common::*;
use serde_json::{json, Value};

/// A runner registered with `s` with the token the Helpers page shows,
/// once it is connected.
fn start_runner(s: &Server, name: &str, bin: Option<&Path>) -> Option<Runner> {
    let token = s.json("/api/runners")["registration_token"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!("http://127.0.0.1:{}", s.port);
    let r = Runner::start(&url, &token, name, bin, &[])?;
    s.wait_until(20, "the runner to connect", || {
        s.json("/api/runners")["runners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == name && r["connected"] == true)
    });
    Some(r)
}

/// A `bin/ffmpeg` for the runner: the real one for its questions
/// (`-encoders`), and `on_encode` (shell) for a real encode.
fn fake_ffmpeg(dir: &Path, on_encode: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    script(
        &bin,
        "ffmpeg",
        &format!("case \" $* \" in *\" -i \"*) {on_encode} ;; esac\nexec /usr/bin/ffmpeg \"$@\""),
    );
    bin
}

fn wait_on_pc(s: &Server, source: &str, pc: &str) {
    s.wait_until(60, &format!("{source} to be on {pc}"), || {
        let j = job_of(s, source);
        j["state"] == "running" && j["runner"] == pc
    });
}

/// An HEVC clip of `seconds` uploaded as `clip` and taken by the PC `pc`.
fn on_pc(s: &Server, clip: &Path, seconds: u32, pc: &str) {
    hevc_clip(clip, "320x240", seconds, &["-c:a", "aac"]);
    upload(s, clip);
    wait_on_pc(s, &clip.file_name().unwrap().to_string_lossy(), pc);
}

fn hevc_clip(path: &Path, size: &str, seconds: u32, extra: &[&str]) {
    make_clip_of(path, size, seconds, &[X265, extra].concat());
}

fn post_json(s: &Server, path: &str, body: Value) -> (u16, Value) {
    let r = s.client().post(s.url(path)).json(&body).send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

#[test]
fn a_pc_transcodes_a_4k_hevc_upload_as_the_pi_would() {
    let s = Server::start(&[]);
    let Some(runner) = start_runner(&s, "living-room-pc", None) else {
        return;
    };
    let (_, page) = s.text("/helpers");
    let token = s.json("/api/runners")["registration_token"].clone();
    assert!(page.contains(&format!("--registration-token {}", token.as_str().unwrap())));
    assert!(page.contains("npm install -g @peertube/peertube-runner"));
    assert!(page.contains("living-room-pc"));
    // The household asks for a phone-sized version of everything, before
    // the clip arrives.
    let r = common::post_json(
        &s,
        "/api/folders/versions",
        &json!({"path": "", "versions": "360p"}),
    );
    assert_eq!(r.status(), 200);

    // A 4K HEVC phone clip with English subtitles.
    let work = tempfile::tempdir().unwrap();
    let srt = work.path().join("t.srt");
    std::fs::write(
        &srt,
        "1\n00:00:00,000 --> 00:00:01,500\nHello from the PC\n",
    )
    .unwrap();
    let clip = work.path().join("trip.mkv");
    let flat = work.path().join("flat.mkv");
    hevc_clip(&flat, "3840x2160", 2, &["-c:a", "aac"]);
    succeed(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(&flat)
            .arg("-i")
            .arg(&srt)
            .args(["-map", "0", "-map", "1", "-c", "copy", "-c:s", "srt"])
            .args(["-metadata:s:s:0", "language=eng"])
            .arg(&clip),
    );
    let job = upload_and_wait(&s, &clip);
    assert_eq!(job["state"], "done", "{job}\n{}", runner.log_text());
    assert_eq!(job["kind"], "transcode");
    assert_eq!(job["runner"], "living-room-pc", "{job}");
    let mp4 = s.media().join("trip.mp4");
    let p = ffprobe_json(&mp4, &["-show_streams", "-show_format"]);
    let streams = p["streams"].as_array().unwrap();
    let v = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(v["pix_fmt"], "yuv420p");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(1920), Some(1080))
    );
    assert!(v["level"].as_i64().unwrap() <= 41, "{v}");
    assert!(streams.iter().any(|s| s["codec_name"] == "aac"));
    let secs: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((secs - 2.0).abs() < 0.5, "{secs}");
    let vtt = std::fs::read_to_string(s.media().join("trip.eng.vtt")).unwrap();
    assert!(vtt.contains("Hello from the PC"), "{vtt}");
    // Its TV version made on the PC, its version follows.
    s.wait_until(120, "the 360p version of trip.mp4", || {
        let videos = s.json("/api/videos");
        let trip = videos
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["path"] == "trip.mp4");
        trip.is_some_and(|v| v["versions"][0]["state"] == "ready")
    });
    let p = ffprobe_json(&s.media().join("trip.mp4.360p"), &["-show_streams"]);
    assert_eq!(p["streams"][0]["height"], 360, "{p}");
    // One entry, the playable one; no temp file left.
    let videos = paths_of(&s.json("/api/videos"));
    assert!(
        videos.contains(&"trip.mp4".to_string()) && !videos.contains(&"trip.mkv".to_string()),
        "{videos:?}"
    );
    assert!(hidden_files(&s.media()).is_empty());
    // The Pi ran no transcode of its own.
    s.assert_not_logged("running (transcode");
    assert!(runner.log_text().contains("Processing job"));
}

#[test]
fn a_pc_that_dies_or_stops_gives_its_job_back() {
    let s = Server::start(&["--runner-stall", "3"]);
    assert!(s.log_text().contains("shorter than the 60 s"));
    let work = tempfile::tempdir().unwrap();
    // The PC's encodes never end: it is killed or stopped mid-job.
    let slow = fake_ffmpeg(work.path(), "sleep 600");
    let Some(mut a) = start_runner(&s, "pc-a", Some(&slow)) else {
        return;
    };
    on_pc(&s, &work.path().join("one.mkv"), 2, "pc-a");
    // kill -9: no word from it again. After the stall time the job goes
    // back, and the Pi (no PC is connected now) does it.
    a.kill_all();
    let job = finished_job(&s, "one.mkv");
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["runner"], Value::Null, "{job}");
    s.assert_logged("said nothing for 3 s");

    // SIGTERM: the runner aborts its job, which is queued again at once
    // without counting an attempt.
    let Some(b) = start_runner(&s, "pc-b", Some(&slow)) else {
        return;
    };
    on_pc(&s, &work.path().join("two.mkv"), 2, "pc-b");
    b.signal("TERM");
    s.wait_until(20, "the abort", || {
        s.log_text().contains("its PC let it go")
    });
    let job = finished_job(&s, "two.mkv");
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["attempts"], 1, "the abort was not an attempt: {job}");
    assert!(!s.log_text().contains("job 2: its PC said nothing"));
}

#[test]
fn a_pc_whose_ffmpeg_fails_fails_the_job_after_five_tries() {
    let s = Server::start(&["--transcode-on", "runners"]);
    let work = tempfile::tempdir().unwrap();
    let failing = fake_ffmpeg(
        work.path(),
        "echo 'fake failure: this encoder is broken' >&2; exit 1",
    );
    let Some(runner) = start_runner(&s, "broken-pc", Some(&failing)) else {
        return;
    };
    let clip = work.path().join("bad.mkv");
    hevc_clip(&clip, "320x240", 1, &["-c:a", "aac"]);
    let job = upload_and_wait(&s, &clip);
    assert_eq!(job["state"], "failed", "{job}\n{}", runner.log_text());
    assert_eq!(job["runner_failures"], 5, "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("5 times") && error.contains("fake failure"),
        "{error}"
    );
    assert!(
        error.chars().count() < 600,
        "the runner's message is cut: {error}"
    );
    assert!(!s.media().join("bad.mp4").exists());
    assert!(hidden_files(&s.media()).is_empty());
}

#[test]
fn a_cancelled_job_refuses_the_pcs_result_and_an_hdr_source_stays_on_the_pi() {
    let s = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    // Slow enough to be cancelled first; it says when it has begun (the
    // source downloaded).
    let began = work.path().join("encoding");
    let slow = fake_ffmpeg(
        work.path(),
        &format!("touch '{}'; sleep 4", began.display()),
    );
    let Some(runner) = start_runner(&s, "pc", Some(&slow)) else {
        return;
    };
    on_pc(&s, &work.path().join("late.mkv"), 1, "pc");
    s.wait_until(60, "the PC to begin encoding", || began.exists());
    let id = job_of(&s, "late.mkv")["id"].as_u64().unwrap();
    assert_eq!(cancel_job(&s, id).status(), 200);
    s.wait_until(60, "the PC's result to be refused", || {
        s.log_text().contains("was refused")
    });
    assert_eq!(job_of(&s, "late.mkv")["state"], "cancelled");
    assert!(!s.media().join("late.mp4").exists());
    s.wait_until(10, "no temp file", || hidden_files(&s.media()).is_empty());

    // HDR (PQ) HEVC: the runner can't tone-map, so the Pi does it.
    let hdr = work.path().join("hdr.mkv");
    hevc_clip(
        &hdr,
        "320x240",
        1,
        &[
            "-pix_fmt",
            "yuv420p10le",
            "-color_primaries",
            "bt2020",
            "-color_trc",
            "smpte2084",
            "-colorspace",
            "bt2020nc",
            "-c:a",
            "aac",
        ],
    );
    let job = upload_and_wait(&s, &hdr);
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["runner"], Value::Null, "{job}");
    let processed = runner.log_text().matches("Processing job").count();
    assert_eq!(processed, 1, "only the cancelled job went to the PC");
}

#[test]
fn tokens_are_checked_as_the_protocol_says() {
    let s = Server::start(&["--transcode-on", "runners", "--upload-password", "sesame"]);
    // The token is shown only with the password.
    assert_eq!(s.json("/api/runners")["registration_token"], Value::Null);
    let token = s
        .get_with("/api/runners", &[("x-upload-password", "sesame")])
        .json::<Value>()
        .unwrap()["registration_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, body) = post_json(
        &s,
        "/api/v1/runners/register",
        json!({"registrationToken": "ptrrt-wrong", "name": "x"}),
    );
    assert_eq!(
        (st, body["code"].as_str()),
        (404, Some("unknown_registration_token"))
    );
    let (st, body) = post_json(
        &s,
        "/api/v1/runners/jobs/request",
        json!({"runnerToken": "ptrt-nobody"}),
    );
    assert_eq!(
        (st, body["code"].as_str()),
        (404, Some("unknown_runner_token"))
    );
    // Newer runners send more fields; they are accepted.
    let (st, reg) = post_json(
        &s,
        "/api/v1/runners/register",
        json!({"registrationToken": token, "name": "script", "version": "0.4.0"}),
    );
    assert_eq!(st, 200, "{reg}");
    let rt = reg["runnerToken"].as_str().unwrap().to_string();

    // A transcode waits for a runner (--transcode-on runners).
    let clip = s.media().join("wait.mkv");
    hevc_clip(&clip, "320x240", 1, &["-c:a", "aac"]);
    s.wait_until(30, "the transcode to be offered", || {
        let (_, b) = post_json(
            &s,
            "/api/v1/runners/jobs/request",
            json!({"runnerToken": rt, "jobTypes": ["vod-web-video-transcoding"]}),
        );
        !b["availableJobs"].as_array().unwrap().is_empty()
    });
    let (_, b) = post_json(
        &s,
        "/api/v1/runners/jobs/request",
        json!({"runnerToken": rt}),
    );
    let offer = &b["availableJobs"][0];
    assert_eq!(offer["type"], "vod-web-video-transcoding");
    assert_eq!(offer["payload"]["output"]["resolution"], 240);
    assert_eq!(offer["payload"]["output"]["fps"], 25.0);
    let uuid = offer["uuid"].as_str().unwrap();
    let url = offer["payload"]["input"]["videoFileUrl"].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "http://127.0.0.1:{}/api/v1/runners/jobs/{uuid}/files/video",
            s.port
        ),
        "built from the Host the runner used"
    );
    let (st, acc) = post_json(
        &s,
        &format!("/api/v1/runners/jobs/{uuid}/accept"),
        json!({"runnerToken": rt}),
    );
    assert_eq!(st, 200, "{acc}");
    let jt = acc["job"]["jobToken"].as_str().unwrap().to_string();
    let (st, again) = post_json(
        &s,
        &format!("/api/v1/runners/jobs/{uuid}/accept"),
        json!({"runnerToken": rt}),
    );
    assert_eq!(
        (st, again["code"].as_str()),
        (409, Some("runner_job_not_in_pending_state"))
    );
    // The source, to this job's tokens only.
    let input = |job_token: &str| {
        s.client()
            .post(url)
            .json(&json!({"runnerToken": rt, "jobToken": job_token}))
            .send()
            .unwrap()
    };
    let wrong = input("ptrjt-wrong");
    assert_eq!(wrong.status(), 400);
    let right = input(&jt);
    assert_eq!(right.status(), 200);
    assert_eq!(right.bytes().unwrap(), std::fs::read(&clip).unwrap());
    // Progress shows on the jobs page.
    let form = reqwest::blocking::multipart::Form::new()
        .text("runnerToken", rt.clone())
        .text("jobToken", jt.clone())
        .text("progress", "40");
    let r = s
        .client()
        .post(s.url(&format!("/api/v1/runners/jobs/{uuid}/update")))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let job = job_of(&s, "wait.mkv");
    assert_eq!(job["detail"], "on script, 40 %", "{job}");
    // Abort: queued again, the attempt given back; the old job token opens
    // nothing now.
    let (st, _) = post_json(
        &s,
        &format!("/api/v1/runners/jobs/{uuid}/abort"),
        json!({"runnerToken": rt, "jobToken": jt, "reason": "Runner stopped"}),
    );
    assert_eq!(st, 204);
    let job = job_of(&s, "wait.mkv");
    assert_eq!(
        (job["state"].as_str(), job["attempts"].as_u64()),
        (Some("queued"), Some(0))
    );
    assert_eq!(input(&jt).status(), 400);

    // A new registration token: the old one stops working.
    let with_pw = [
        ("x-upload-password", "sesame"),
        ("accept", "application/json"),
    ];
    let r = s.post_with("/api/runners/token", &with_pw);
    assert_eq!(r.status(), 200);
    let (st, _) = post_json(
        &s,
        "/api/v1/runners/register",
        json!({"registrationToken": token, "name": "late"}),
    );
    assert_eq!(st, 404);
    // Removed: its token is unknown, as the runner expects to be told.
    let list = s
        .get_with("/api/runners", &[("x-upload-password", "sesame")])
        .json::<Value>()
        .unwrap();
    let id = list["runners"][0]["id"].as_u64().unwrap();
    let remove = format!("/api/runners/{id}/remove");
    let refused = s.post_with(&remove, &[("accept", "application/json")]);
    assert_eq!(refused.status(), 401, "removing needs the password");
    let r = s.post_with(&remove, &with_pw);
    assert_eq!(r.status(), 200);
    let (st, body) = post_json(
        &s,
        "/api/v1/runners/jobs/request",
        json!({"runnerToken": rt}),
    );
    assert_eq!(
        (st, body["code"].as_str()),
        (404, Some("unknown_runner_token"))
    );
}

#[test]
fn a_pc_makes_a_720p_version_completed_on_the_pi() {
    let s = Server::start(&["--versions", "720p"]);
    let Some(runner) = start_runner(&s, "study-pc", None) else {
        return;
    };
    // A 1080p film the TVs play as it is, with English subtitles beside it.
    let film = s.media().join("Film.mp4");
    make_clip_of(
        &s.dir.path().join("Film.mp4"),
        "1920x1080",
        3,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "8M",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
        ],
    );
    std::fs::write(
        s.media().join("Film.en.vtt"),
        "WEBVTT\n\n00:00.500 --> 00:02.000\nMade on the PC\n",
    )
    .unwrap();
    std::fs::rename(s.dir.path().join("Film.mp4"), &film).unwrap();
    let job = finished_job(&s, "Film.mp4");
    assert_eq!(job["state"], "done", "{job}\n{}", runner.log_text());
    assert_eq!(
        (job["kind"].as_str(), job["version"].as_str()),
        (Some("version"), Some("720p"))
    );
    assert_eq!(job["runner"], "study-pc", "{job}");
    let p = ffprobe_json(
        &s.media().join("Film.mp4.720p"),
        &["-show_streams", "-show_format"],
    );
    let streams = p["streams"].as_array().unwrap();
    let v = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(
        (
            v["codec_name"].as_str(),
            v["width"].as_u64(),
            v["height"].as_u64()
        ),
        (Some("h264"), Some(1280), Some(720))
    );
    assert!(v["level"].as_i64().unwrap() <= 41, "{v}");
    let a = streams.iter().find(|s| s["codec_type"] == "audio").unwrap();
    assert_eq!(
        (a["codec_name"].as_str(), a["channels"].as_u64()),
        (Some("aac"), Some(2))
    );
    let sub = streams
        .iter()
        .find(|s| s["codec_type"] == "subtitle")
        .unwrap();
    assert_eq!(
        (sub["codec_name"].as_str(), sub["tags"]["language"].as_str()),
        (Some("mov_text"), Some("eng"))
    );
    let secs: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((secs - 3.0).abs() < 0.5, "{secs}");
    let listed = &s.json("/api/videos")[0]["versions"][0];
    assert_eq!(
        (listed["name"].as_str(), listed["state"].as_str()),
        (Some("720p"), Some("ready")),
        "{listed}"
    );
    assert!(hidden_files(&s.media()).is_empty());
    // The Pi made none of it itself.
    s.assert_not_logged("running (versions of");
}
