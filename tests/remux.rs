//! The remux pool end to end: real ffmpeg on generated clips.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn h264(out: &Path, secs: u32, audio: &str) {
    make_h264(out, secs, audio);
}

fn streams(path: &Path) -> Vec<(String, String, String)> {
    ffprobe_json(path, &["-show_streams"])["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap_or("").to_string(),
                s["codec_name"].as_str().unwrap_or("").to_string(),
                s["codec_tag_string"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn packet_sizes(path: &Path, stream: &str) -> Vec<String> {
    ffprobe_json(
        path,
        &["-select_streams", stream, "-show_entries", "packet=size"],
    )["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["size"].as_str().unwrap().to_string())
        .collect()
}

fn duration(path: &Path) -> f64 {
    ffprobe_json(path, &["-show_format"])["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn job_state(s: &Server, source: &str) -> String {
    job_of(s, source)["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// ffmpeg processes whose command line mentions `needle`.
fn ffmpeg_running(needle: &Path) -> bool {
    let out = Command::new("pgrep")
        .args(["-f", &needle.to_string_lossy()])
        .output()
        .unwrap();
    !String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

/// An ffmpeg that reads its input at real time, so a 6 s clip takes 6 s.
fn slow_ffmpeg(dir: &Path) -> PathBuf {
    script(dir, "slow-ffmpeg", "exec ffmpeg -readrate 1 \"$@\"")
}

#[test]
fn h264_aac_is_copied_packet_for_packet_and_faststart() {
    let d = media_with(&[("film.mkv", &|p| h264(p, 3, "aac"))]);
    let s = Server::start_in(d, &[]);
    let job = finished_job(&s, "film.mkv");
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["output"], "film.mp4");
    let (src, out) = (s.media().join("film.mkv"), s.media().join("film.mp4"));
    assert_eq!(packet_sizes(&src, "v:0"), packet_sizes(&out, "v:0"));
    assert_eq!(packet_sizes(&src, "a:0"), packet_sizes(&out, "a:0"));
    assert!((duration(&src) - duration(&out)).abs() < 1.0);
    // moov before mdat: the TV can start playing before it has the end.
    let bytes = std::fs::read(&out).unwrap();
    let moov = bytes.windows(4).position(|w| w == b"moov").unwrap();
    let mdat = bytes.windows(4).position(|w| w == b"mdat").unwrap();
    assert!(moov < mdat, "moov at {moov}, mdat at {mdat}");
    // One entry in the library: the MP4; the source stays on disk.
    assert_eq!(s.video_paths(), ["film.mp4"]);
    assert!(src.exists());
    assert!(hidden_files(&s.media()).is_empty());
    let (_, page) = s.text("/jobs");
    assert!(page.contains("film.mkv") && page.contains(r#"href="/watch/film.mp4""#));
}

#[test]
fn ac3_becomes_aac_first_and_ac3_second() {
    let d = media_with(&[("film.mkv", &|p| h264(p, 2, "ac3"))]);
    let s = Server::start_in(d, &[]);
    assert_eq!(finished_job(&s, "film.mkv")["state"], "done");
    let st = streams(&s.media().join("film.mp4"));
    let audio: Vec<_> = st
        .iter()
        .filter(|s| s.0 == "audio")
        .map(|s| s.1.as_str())
        .collect();
    assert_eq!(audio, ["aac", "ac3"]);
    assert_eq!(st[0].1, "h264");
}

#[test]
fn text_subtitles_become_vtt_files_beside_the_mp4() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("media");
    std::fs::create_dir_all(&m).unwrap();
    let base = d.path().join("base.mkv");
    h264(&base, 3, "aac");
    let srt = d.path().join("en.srt");
    std::fs::write(&srt, "1\n00:00:00,500 --> 00:00:01,500\nHello from SRT\n").unwrap();
    let ass = d.path().join("fr.ass");
    std::fs::write(
        &ass,
        "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\nStyle: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Bonjour de ASS\n",
    )
    .unwrap();
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&base)
        .arg("-i")
        .arg(&srt)
        .arg("-i")
        .arg(&ass)
        .args([
            "-map", "0", "-map", "1", "-map", "2", "-c:v", "copy", "-c:a", "copy", "-c:s:0", "srt",
            "-c:s:1", "ass",
        ])
        .args([
            "-metadata:s:s:0",
            "language=eng",
            "-metadata:s:s:1",
            "language=fre",
        ])
        .arg(m.join("talk.mkv"))
        .status()
        .unwrap();
    assert!(st.success());
    let s = Server::start_in(d, &[]);
    assert_eq!(finished_job(&s, "talk.mkv")["state"], "done");
    let en = std::fs::read_to_string(s.media().join("talk.eng.vtt")).unwrap();
    assert!(
        en.starts_with("WEBVTT") && en.contains("Hello from SRT"),
        "{en}"
    );
    let fr = std::fs::read_to_string(s.media().join("talk.fre.vtt")).unwrap();
    assert!(fr.contains("Bonjour de ASS"), "{fr}");
    // The player offers both.
    let (_, page) = s.text("/watch/talk.mp4");
    assert!(
        page.contains(r#"srclang="eng""#) && page.contains(r#"srclang="fre""#),
        "{page}"
    );
}

#[test]
fn for_hevc_tvs_hevc_is_tagged_hvc1_and_with_transcode_off_mpeg2_is_marked_each_with_one_poster() {
    let d = media_with(&[
        ("hevc.mkv", &|p| {
            make_clip(p, 1, &[X265, &["-c:a", "aac"]].concat())
        }),
        ("old.mkv", &|p| {
            make_clip(p, 1, &["-c:v", "mpeg2video", "-c:a", "mp2"])
        }),
    ]);
    let s = Server::start_in(d, &["--tv-codecs", "h264,hevc", "--transcode", "off"]);
    assert_eq!(finished_job(&s, "hevc.mkv")["state"], "done");
    let st = streams(&s.media().join("hevc.mp4"));
    assert_eq!((st[0].1.as_str(), st[0].2.as_str()), ("hevc", "hvc1"));

    let job = finished_job(&s, "old.mkv");
    assert_eq!(job["state"], "failed");
    assert_eq!(job["needs_transcode"], true);
    assert!(job["error"].as_str().unwrap().contains("MPEG-2"), "{job}");
    assert!(!s.media().join("old.mp4").exists());
    let (_, page) = s.text("/");
    assert!(page.contains("needs transcode"), "{page}");

    // Posters: the MP4's, and the source that stays as it is. None is made
    // of hevc.mkv, which would only be thrown away (and slow its remux).
    s.wait_until(30, "posters", || {
        let videos = s.json("/api/videos");
        let videos = videos.as_array().unwrap();
        videos.len() == 2 && videos.iter().all(|v| v["thumb"].is_string())
    });
    let made = std::fs::read_dir(s.media().join(".pimedia/thumbs"))
        .unwrap()
        .count();
    assert_eq!(made, 2);
    // Without its MP4 the source is back, and has a poster of its own.
    std::fs::remove_file(s.media().join("hevc.mp4")).unwrap();
    s.wait_until(30, "hevc.mkv with a poster", || {
        s.json("/api/videos")
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["path"] == "hevc.mkv" && v["thumb"].is_string())
    });
}

#[test]
fn an_existing_mp4_is_left_alone() {
    let s = Server::start(&[]);
    std::fs::write(s.media().join("film.mp4"), b"someone else's film").unwrap();
    let mkv = s.dir.path().join("film.mkv");
    h264(&mkv, 2, "aac");
    let job = upload_and_wait(&s, &mkv);
    assert_eq!(job["output"], "film (1).mp4", "{job}");
    assert_eq!(
        std::fs::read(s.media().join("film.mp4")).unwrap(),
        b"someone else's film"
    );
}

#[test]
fn random_bytes_named_mkv_are_unreadable_with_a_reason_and_get_no_job() {
    let d = media_with(&[("junk.mkv", &|p| {
        std::fs::write(p, vec![0x42u8; 50_000]).unwrap()
    })]);
    let s = Server::start_in(d, &[]);
    s.wait_until(20, "the probe's verdict", || {
        s.json("/api/videos")[0]["state"] == "unreadable"
    });
    let v = &s.json("/api/videos")[0];
    assert!(v["error"].as_str().unwrap().contains("Invalid data"), "{v}");
    // What ffprobe can't read, ffmpeg can't convert: no job is made.
    assert_eq!(s.json("/api/jobs"), serde_json::json!([]));
    assert!(hidden_files(&s.media()).is_empty());
}

#[test]
fn kill_9_mid_job_then_restart_completes_and_leaves_no_temp() {
    let d = media_with(&[("long.mkv", &|p| h264(p, 6, "aac"))]);
    let slow = slow_ffmpeg(d.path());
    let args = ["--ffmpeg", slow.to_str().unwrap()];
    let mut s = Server::start_in(d, &args);
    let media = s.media();
    s.wait_until(20, "a temp file", || !hidden_files(&media).is_empty());
    assert_eq!(job_state(&s, "long.mkv"), "running");
    nix_kill(s.child.id(), "KILL");
    s.child.wait().unwrap();
    // ffmpeg dies with its parent, so nothing keeps writing.
    let src = media.join("long.mkv");
    s.wait_until(2, "the orphaned ffmpeg to die", || !ffmpeg_running(&src));
    let d = s.stop();
    let s = Server::start_in(d, &[]);
    let job = finished_job(&s, "long.mkv");
    assert_eq!(job["state"], "done", "{job}");
    assert!((duration(&s.media().join("long.mp4")) - 6.0).abs() < 1.0);
    assert!(
        hidden_files(&s.media()).is_empty(),
        "{:?}",
        hidden_files(&s.media())
    );
}

#[test]
fn cancel_stops_ffmpeg_and_retry_finishes_the_job() {
    let d = media_with(&[("long.mkv", &|p| h264(p, 6, "aac"))]);
    let slow = slow_ffmpeg(d.path());
    let s = Server::start_in(d, &["--ffmpeg", slow.to_str().unwrap()]);
    let src = s.media().join("long.mkv");
    s.wait_until(20, "the job to run", || {
        job_state(&s, "long.mkv") == "running"
    });
    s.wait_until(20, "progress", || {
        s.json("/api/jobs")[0]["progress"].as_f64().unwrap_or(0.0) > 0.0
    });
    let id = s.json("/api/jobs")[0]["id"].as_u64().unwrap();
    assert_eq!(cancel_job(&s, id).status(), 200);
    assert_eq!(finished_job(&s, "long.mkv")["state"], "cancelled");
    s.wait_until(10, "ffmpeg to stop", || !ffmpeg_running(&src));
    assert!(hidden_files(&s.media()).is_empty());
    assert!(!s.media().join("long.mp4").exists());

    // A form post without JavaScript gets sent back to the page.
    let r = s.post_with(&format!("/api/jobs/{id}/retry"), &[]);
    assert_eq!(r.status(), 303);
    s.wait_until(60, "the retried job", || {
        job_state(&s, "long.mkv") == "done"
    });
    assert!(s.media().join("long.mp4").exists());
}

#[test]
fn delete_originals_and_the_on_job_done_hook() {
    let d = media_with(&[("film.mkv", &|p| h264(p, 2, "aac"))]);
    let out = d.path().join("hook.out");
    let hook = script(
        d.path(),
        "hook.sh",
        &format!(
            "echo \"$PIMEDIA_JOB_STATE $PIMEDIA_JOB_SOURCE $PIMEDIA_JOB_OUTPUT $1\" >> {}",
            out.display()
        ),
    );
    let cmd = format!("{} arg1", hook.display());
    let s = Server::start_in(d, &["--delete-originals", "--on-job-done", &cmd]);
    assert_eq!(finished_job(&s, "film.mkv")["state"], "done");
    assert!(s.media().join("film.mp4").exists());
    assert!(
        !s.media().join("film.mkv").exists(),
        "the original is removed"
    );
    let api = s.text("/api/videos").1;
    assert!(!api.contains("film.mkv"), "{api}");
    s.wait_until(10, "the hook", || out.exists());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().trim(),
        "done film.mkv film.mp4 arg1"
    );
}

#[test]
fn listen_streams_mp3_and_its_ffmpeg_ends_with_the_client() {
    let d = media_with(&[("song.mkv", &|p| h264(p, 30, "aac"))]);
    let s = Server::start_in(d, &[]);
    let src = s.media().join("song.mkv");
    // Let the remux of song.mkv finish first, so only /listen runs ffmpeg.
    finished_job(&s, "song.mkv");
    let mut r = s.get("/listen/song.mkv.mp3");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/mpeg");
    let mut head = [0u8; 4096];
    use std::io::Read;
    r.read_exact(&mut head).unwrap();
    // An MP3 frame sync or an ID3 tag.
    assert!(head.starts_with(b"ID3") || (head[0] == 0xff && head[1] & 0xe0 == 0xe0));
    assert!(ffmpeg_running(&src));
    drop(r);
    s.wait_until(10, "the /listen ffmpeg to end", || !ffmpeg_running(&src));
    assert_eq!(s.get("/listen/missing.mkv.mp3").status(), 404);
    assert_eq!(s.get("/listen/..%2f..%2fetc%2fpasswd.mp3").status(), 404);
}

#[test]
fn sigterm_leaves_no_ffmpeg_and_requeues_the_job() {
    let d = media_with(&[("long.mkv", &|p| h264(p, 6, "aac"))]);
    let slow = slow_ffmpeg(d.path());
    let mut s = Server::start_in(d, &["--ffmpeg", slow.to_str().unwrap()]);
    let src = s.media().join("long.mkv");
    s.wait_until(20, "the job to run", || {
        job_state(&s, "long.mkv") == "running"
    });
    // "running" is said before ffmpeg has started (the plan comes first).
    s.wait_until(20, "its ffmpeg to start", || ffmpeg_running(&src));
    // The page's script shows the server's own progress line.
    s.wait_until(20, "a progress line with time left", || {
        let detail = s.json("/api/jobs")[0]["detail"]
            .as_str()
            .unwrap_or("")
            .to_string();
        detail.contains("% · ") && detail.ends_with(" left")
    });
    let (status, took) = s.terminate();
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert!(!ffmpeg_running(&src), "ffmpeg outlived pimedia");
    assert!(hidden_files(&s.media()).is_empty());
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.media().join(".pimedia/jobs.json")).unwrap())
            .unwrap();
    assert_eq!(saved["jobs"][0]["state"], "queued");
}

#[test]
fn ready_to_play_is_shown_to_the_browser_that_uploaded_only() {
    let s = Server::start(&[]);
    let page = s.get("/upload");
    let cookie = set_cookie(&page);
    assert!(cookie.starts_with("pimedia_viewer="));
    let mkv = s.dir.path().join("party.mkv");
    h264(&mkv, 2, "ac3");
    let r = upload_file(&s, &mkv, &[("Cookie", &cookie)]);
    assert_eq!(r.status(), 303);
    let job = finished_job(&s, "party.mkv");
    assert_eq!(job["state"], "done");
    let mine = |c: &str| s.get_with("/", &[("cookie", c)]).text().unwrap();
    let page = mine(&cookie);
    assert!(
        page.contains("Ready to play") && page.contains(r#"href="/watch/party.mp4""#),
        "{page}"
    );
    assert!(!mine("pimedia_viewer=00000000000000000000000000000000").contains("Ready to play"));
    assert!(!s.text("/").1.contains("Ready to play"));
    let id = job["id"].as_u64().unwrap();
    let r = s.post_with(&format!("/api/jobs/{id}/dismiss"), &[("Cookie", &cookie)]);
    assert_eq!(r.status(), 303);
    assert!(!mine(&cookie).contains("Ready to play"));
}

#[test]
fn a_corrupt_queue_is_moved_aside_not_a_crash() {
    let d = media_with(&[("film.mkv", &|p| h264(p, 1, "aac"))]);
    std::fs::create_dir_all(d.path().join("media/.pimedia")).unwrap();
    std::fs::write(d.path().join("media/.pimedia/jobs.json"), b"{ not json").unwrap();
    let s = Server::start_in(d, &[]);
    assert!(s.media().join(".pimedia/jobs.json.corrupt").exists());
    assert_eq!(finished_job(&s, "film.mkv")["state"], "done");
    assert!(s.log_text().contains("unreadable"));
}

#[test]
fn a_transient_failure_is_retried_and_then_succeeds() {
    let d = media_with(&[("film.mkv", &|p| h264(p, 2, "aac"))]);
    // The first run dies by a signal, as if the OOM killer took it.
    let marker = d.path().join("crashed-once");
    let wrapper = script(
        d.path(),
        "flaky-ffmpeg",
        &format!(
            // Only a remux (posters use ffmpeg too) and only the first.
            "case \"$*\" in *faststart*) if [ ! -e {m} ]; then touch {m}; kill -9 $$; fi;; esac\nexec ffmpeg \"$@\"",
            m = marker.display()
        ),
    );
    let s = Server::start_in(d, &["--ffmpeg", wrapper.to_str().unwrap()]);
    let job = finished_job(&s, "film.mkv");
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["attempts"], 2);
    s.assert_logged("killed by signal 9");
    assert!(hidden_files(&s.media()).is_empty());
}

#[test]
fn cancel_and_retry_follow_the_upload_password() {
    let d = media_with(&[("old.mkv", &|p| {
        make_clip(p, 1, &["-c:v", "mpeg2video", "-c:a", "mp2"])
    })]);
    let s = Server::start_in(d, &["--upload-password", "pw", "--transcode", "off"]);
    let job = finished_job(&s, "old.mkv");
    let retry = format!("/api/jobs/{}/retry", job["id"]);
    let r = s.post_with(&retry, &[("Accept", "application/json")]);
    assert_eq!(r.status(), 401);
    let with_pw = [("Accept", "application/json"), ("X-Upload-Password", "pw")];
    let r = s.post_with(&retry, &with_pw);
    assert_eq!(r.status(), 200);
    assert_eq!(finished_job(&s, "old.mkv")["state"], "failed");
}

#[test]
fn an_uploaded_mkv_whose_mp4_is_already_there_is_not_converted_again() {
    let d = media_with(&[("film.mp4", &|p| h264(p, 2, "aac"))]);
    let s = Server::start_in(d, &[]);
    let src = tempfile::tempdir().unwrap();
    let mkv = src.path().join("film.mkv");
    h264(&mkv, 2, "ac3");
    upload(&s, &mkv);
    // The upload is answered after its file is queued (or not): the same
    // rule as for a file copied into the folder.
    assert_eq!(s.json("/api/jobs"), serde_json::json!([]));
    assert_eq!(s.video_paths(), ["film.mp4"]);
}

#[test]
fn a_subtitle_that_ends_after_the_video_does_not_fail_the_remux() {
    let d = media_with(&[("late.mkv", &|p| {
        let srt = p.with_extension("srt.in");
        std::fs::write(
            &srt,
            "1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\n00:00:07,000 --> 00:00:08,000\nThe end credits\n",
        )
        .unwrap();
        // Picture and sound for 3 s, a subtitle until 8 s.
        succeed(
            Command::new("ffmpeg")
                .args(["-v", "error", "-f", "lavfi", "-t", "3", "-i"])
                .arg("testsrc2=size=320x240:rate=25")
                .args(["-f", "lavfi", "-t", "3", "-i", "sine", "-f", "srt", "-i"])
                .arg(&srt)
                .args(["-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264"])
                .args(["-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "ac3"])
                .args(["-c:s", "srt", "-metadata:s:s:0", "language=eng"])
                .arg(p),
        );
        std::fs::remove_file(&srt).unwrap();
    })]);
    let s = Server::start_in(d, &[]);
    let job = finished_job(&s, "late.mkv");
    assert_eq!(job["state"], "done", "{job}");
    assert!((duration(&s.media().join("late.mp4")) - 3.0).abs() < 0.5);
    let vtt = std::fs::read_to_string(s.media().join("late.eng.vtt")).unwrap();
    assert!(vtt.contains("The end credits"), "{vtt}");
}
