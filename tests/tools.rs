//! ffmpeg that is there but cannot start (a hardened unit, a broken
//! library) is said once, loudly, and fails no job; a poster that cannot be
//! made is logged once with the reason.

mod common;
use common::*;

use std::time::Duration;

fn lines_with(s: &Server, needle: &str) -> usize {
    s.log_text().lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn an_ffmpeg_that_cannot_start_is_said_once_and_no_job_fails_until_it_is_fixed() {
    let d = tempfile::tempdir().unwrap();
    make_h264(&d.path().join("media/holiday.mkv"), 2, "ac3");
    let broken = script(
        d.path(),
        "ffmpeg",
        "echo 'ffmpeg: error while loading shared libraries: libavdevice.so.59: cannot open shared object file' >&2\nexit 127",
    );
    let s = Server::start_in(d, &["--ffmpeg", broken.to_str().unwrap()]);

    let health = s.json("/healthz");
    assert_eq!(health["ffmpeg_starts"], false, "{health}");
    let why = health["ffmpeg_error"].as_str().unwrap();
    assert!(
        why.starts_with("ffmpeg cannot start: ffmpeg: error while loading shared libraries"),
        "{why}"
    );
    assert_eq!(lines_with(&s, "ffmpeg cannot start"), 1, "{}", s.log_text());

    let (status, page) = s.text("/jobs");
    assert_eq!(status, 200);
    assert!(page.contains("ffmpeg cannot start: ffmpeg: error while loading shared libraries"));
    // The MKV waits: no job fails because of a machine problem.
    s.wait_until(10, "the MKV to be listed", || {
        s.json("/api/videos")[0]["state"] == "needs_remux"
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(s.json("/api/jobs"), serde_json::json!([]));
    let (status, text) = s.text("/listen/holiday.mkv.mp3");
    assert_eq!(status, 503);
    assert!(text.contains("ffmpeg cannot start"), "{text}");

    // Fixed (the real ffmpeg) and restarted: the MKV is converted.
    let d = s.stop();
    let s = Server::start_in(d, &[]);
    assert_eq!(s.json("/healthz")["ffmpeg_starts"], true);
    s.wait_until(60, "the remux to finish", || {
        s.json("/api/jobs")[0]["state"] == "done"
    });
    assert!(s.media().join("holiday.mp4").is_file());
    let (_, page) = s.text("/jobs");
    assert!(!page.contains("cannot start"));
}

#[test]
fn a_poster_that_cannot_be_made_is_logged_once_with_the_reason() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("media")).unwrap();
    std::fs::copy(sample_mp4(), d.path().join("media/sunset.mp4")).unwrap();
    // ffmpeg works, except for grabbing a frame.
    let ffmpeg = script(
        d.path(),
        "ffmpeg",
        "case \"$*\" in *image2*) echo 'Could not open the frame grabber: out of luck' >&2; exit 1;; esac\nexec ffmpeg \"$@\"",
    );
    let args = ["--ffmpeg", ffmpeg.to_str().unwrap()];
    let s = Server::start_in(d, &args);
    s.wait_until(30, "the poster failure in the log", || {
        lines_with(&s, "no poster for sunset.mp4") == 1
    });
    assert_eq!(
        lines_with(
            &s,
            "no poster for sunset.mp4: ffmpeg failed (exit status 1): Could not open the frame grabber: out of luck"
        ),
        1,
        "{}",
        s.log_text()
    );
    assert!(s.json("/api/videos")[0]["thumb"].is_null());
    // Remembered: a restart does not try (and log) again.
    s.wait_until(20, "the cache to be saved", || {
        std::fs::read_to_string(s.media().join(".pimedia/metadata.json"))
            .is_ok_and(|c| c.contains("poster_failed"))
    });
    let d = s.stop();
    let s = Server::start_in(d, &args);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(lines_with(&s, "no poster for"), 0, "{}", s.log_text());
}
