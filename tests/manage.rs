//! Tidying the library: delete to the trash and restore, rename and move
//! with every companion (output, subtitles, poster, position, probe, jobs),
//! new folders, the password, and a kill -9 in the middle of a move.

mod common;
use common::*;

use serde_json::{json, Value};
use std::path::Path;

/// An MKV (H.264 + AC-3) with a WebVTT file beside it: remuxed to an MP4,
/// so one entry is three files.
fn mkv_with_subtitles(p: &Path) {
    make_h264(p, 2, "ac3");
    std::fs::write(
        p.with_extension("en.vtt"),
        "WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n",
    )
    .unwrap();
}

/// An ffprobe that notes every file it is asked about.
fn counting_ffprobe(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    logging_tool(dir, "ffprobe")
}

fn ready(s: &Server, path: &str) -> Value {
    let mut v = Value::Null;
    s.wait_until(30, &format!("{path} with its poster"), || {
        v = s
            .json("/api/videos")
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["path"] == path)
            .cloned()
            .unwrap_or_default();
        !v["thumb"].is_null()
    });
    v
}

fn set_position(s: &Server, path: &str, at: f64) {
    let r = s
        .client()
        .put(s.url(&format!("/api/positions/{path}")))
        .json(&json!({ "position": at, "duration": 2.0 }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn position(s: &Server, path: &str) -> Value {
    s.json(&format!("/api/positions/{}", path.replace(' ', "%20")))["position"].clone()
}

#[test]
fn delete_goes_to_the_trash_with_everything_and_restore_brings_it_back() {
    let d = media_with(&[("Kids/clip.mkv", &mkv_with_subtitles)]);
    let s = Server::start_in(d, &[]);
    assert_eq!(finished_job(&s, "Kids/clip.mkv")["state"], "done");
    ready(&s, "Kids/clip.mp4");
    set_position(&s, "Kids/clip.mp4", 1.5);
    let media = s.media();
    let bytes = std::fs::read(media.join("Kids/clip.mkv")).unwrap();

    let r = post_json(&s, "/api/videos/Kids/clip.mp4/delete", &json!({}));
    assert_eq!(r.status(), 200);
    let gone: Value = r.json().unwrap();
    let files: Vec<&str> = gone["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        ["Kids/clip.mkv", "Kids/clip.mp4", "Kids/clip.en.vtt"]
    );
    for f in &files {
        assert!(!media.join(f).exists(), "{f} left its folder");
    }
    let id = gone["trash"].as_str().unwrap();
    let kept = media
        .join(".trash-pimedia")
        .join(id)
        .join("files/Kids/clip.mkv");
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        bytes,
        "a rename, not a copy or a loss"
    );
    assert_eq!(s.video_paths(), Vec::<String>::new());
    assert_eq!(s.get("/videos/Kids/clip.mp4").status(), 404);
    assert_eq!(
        s.json("/api/jobs"),
        json!([]),
        "its job history went with it"
    );
    let trash: Value = s
        .get_with("/trash", &[("accept", "application/json")])
        .json()
        .unwrap();
    assert_eq!(trash[0]["title"], "clip");
    let (_, page) = s.text("/trash");
    assert!(
        page.contains("clip") && page.contains("gone for good in 30 days"),
        "{page}"
    );
    assert!(!s.text("/").1.contains("clip"), "not listed");

    // Restored: every file back, the entry, its position and history too.
    let r = post_json(&s, &format!("/api/trash/{id}/restore"), &json!({}));
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["path"], "Kids/clip.mp4");
    for f in &files {
        assert!(media.join(f).exists(), "{f} is back");
    }
    assert_eq!(std::fs::read(media.join("Kids/clip.mkv")).unwrap(), bytes);
    assert_eq!(s.video_paths(), vec!["Kids/clip.mp4"]);
    assert_eq!(position(&s, "Kids/clip.mp4"), 1.5);
    assert_eq!(s.json("/api/jobs")[0]["output"], "Kids/clip.mp4");
    assert!(!media.join(".trash-pimedia").join(id).exists());
    assert_eq!(
        s.json("/api/jobs").as_array().unwrap().len(),
        1,
        "not converted again"
    );

    // A name taken meanwhile: it comes back as "name (1)".
    let r = post_json(&s, "/api/videos/Kids/clip.mp4/delete", &json!({}));
    let id = r.json::<Value>().unwrap()["trash"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::copy(sample_mp4(), media.join("Kids/clip.mp4")).unwrap();
    s.wait_until(20, "the new clip.mp4", || {
        s.video_paths() == ["Kids/clip.mp4"]
    });
    let r = post_json(&s, &format!("/api/trash/{id}/restore"), &json!({}));
    assert_eq!(r.json::<Value>().unwrap()["path"], "Kids/clip (1).mp4");
    assert!(
        media.join("Kids/clip (1).mkv").exists() && media.join("Kids/clip (1).en.vtt").exists()
    );

    // Empty now: gone for good.
    post_json(&s, "/api/videos/Kids/clip.mp4/delete", &json!({}));
    let r = post_json(&s, "/api/trash/empty", &json!({}));
    assert_eq!(r.json::<Value>().unwrap()["emptied"], 1);
    assert_eq!(
        std::fs::read_dir(media.join(".trash-pimedia"))
            .unwrap()
            .count(),
        0
    );
    // Forms come back to a page.
    let r = s.post_with("/api/trash/empty", &[]);
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/trash");
}

#[test]
fn rename_and_move_take_every_companion_and_probe_nothing_again() {
    let d = media_with(&[("IMG_0042.mkv", &mkv_with_subtitles)]);
    let (ffprobe, probes) = counting_ffprobe(d.path());
    let s = Server::start_in(d, &["--ffprobe", ffprobe.to_str().unwrap()]);
    assert_eq!(finished_job(&s, "IMG_0042.mkv")["state"], "done");
    let before = ready(&s, "IMG_0042.mp4");
    set_position(&s, "IMG_0042.mp4", 1.25);
    let probed = std::fs::read_to_string(&probes).unwrap().lines().count();
    let media = s.media();

    // The player page offers it, prefilled with the name it began as.
    let (_, page) = s.text("/watch/IMG_0042.mp4");
    assert!(page.contains(r#"value="IMG_0042""#), "{page}");
    assert!(page.contains(r#"action="/api/videos/IMG_0042.mp4/delete""#));

    // Renamed into a new folder, as a form does it.
    let r = s.post_form(
        "/api/videos/IMG_0042.mp4/rename",
        &[("to", "Summer 2026/Birthday cake")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/watch/Summer%202026/Birthday%20cake.mp4"
    );
    for f in [
        "Birthday cake.mkv",
        "Birthday cake.mp4",
        "Birthday cake.en.vtt",
    ] {
        assert!(media.join("Summer 2026").join(f).exists(), "{f}");
    }
    for f in ["IMG_0042.mkv", "IMG_0042.mp4", "IMG_0042.en.vtt"] {
        assert!(!media.join(f).exists(), "{f}");
    }
    assert_eq!(s.video_paths(), vec!["Summer 2026/Birthday cake.mp4"]);
    let after = ready(&s, "Summer 2026/Birthday cake.mp4");
    assert_eq!(after["title"], "Birthday cake");
    assert_eq!(after["duration"], before["duration"]);
    let thumb = after["thumb"].as_str().unwrap();
    assert_eq!(s.get(thumb).status(), 200, "the poster followed");
    assert_eq!(
        position(&s, "Summer 2026/Birthday cake.mp4"),
        1.25,
        "resume still works"
    );
    let job = &s.json("/api/jobs")[0];
    assert_eq!(job["source"], "Summer 2026/Birthday cake.mkv");
    assert_eq!(job["output"], "Summer 2026/Birthday cake.mp4");
    let (_, page) = s.text("/watch/Summer%202026/Birthday%20cake.mp4");
    assert!(
        page.contains("Birthday%20cake.en.vtt"),
        "subtitles follow: {page}"
    );
    assert!(page.contains("Download the original (Birthday cake.mkv)"));

    // Onto a name that is there: refused, nothing moves.
    std::fs::copy(sample_mp4(), media.join("Taken.mp4")).unwrap();
    s.wait_until(20, "Taken.mp4", || s.video_paths().len() == 2);
    let r = post_json(
        &s,
        "/api/videos/Summer%202026/Birthday%20cake.mp4/rename",
        &json!({ "to": "Taken" }),
    );
    assert_eq!(r.status(), 409);
    assert!(r.json::<Value>().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("already there"));
    assert!(media.join("Summer 2026/Birthday cake.mkv").exists());
    // Hostile names are made safe or refused.
    let r = post_json(
        &s,
        "/api/videos/Taken.mp4/rename",
        &json!({ "to": "../outside" }),
    );
    assert_eq!(r.status(), 400);
    let r = post_json(
        &s,
        "/api/videos/Taken.mp4/rename",
        &json!({ "to": ".hidden" }),
    );
    assert_eq!(r.json::<Value>().unwrap()["path"], "hidden.mp4");

    // A folder renamed: what is in it follows.
    let r = post_json(
        &s,
        "/api/videos/Summer%202026/rename",
        &json!({ "to": "Summers/2026" }),
    );
    assert_eq!(r.status(), 200, "{:?}", r.text());
    assert!(media.join("Summers/2026/Birthday cake.mkv").exists());
    assert_eq!(
        s.video_paths(),
        vec!["Summers/2026/Birthday cake.mp4", "hidden.mp4"]
    );
    assert_eq!(position(&s, "Summers/2026/Birthday cake.mp4"), 1.25);

    // And ffprobe never ran on any new name (the watcher saw the renames too).
    std::thread::sleep(std::time::Duration::from_secs(3));
    let log = std::fs::read_to_string(&probes).unwrap();
    assert!(!log.contains("Birthday"), "probed again: {log}");
    assert!(!log.contains("hidden.mp4"), "probed again: {log}");
    assert_eq!(
        log.lines().count(),
        probed + 1,
        "only Taken.mp4 was new: {log}"
    );
}

#[test]
fn new_folders_and_the_password() {
    let s = Server::start(&["--upload-password", "sofa"]);
    std::fs::copy(sample_mp4(), s.media().join("a.mp4")).unwrap();
    s.wait_until(20, "a.mp4", || s.video_paths() == ["a.mp4"]);
    // Without the password nothing changes.
    for path in [
        "/api/videos/a.mp4/delete",
        "/api/videos/a.mp4/rename",
        "/api/folders",
        "/api/trash/empty",
    ] {
        let r = post_json(&s, path, &json!({ "to": "b", "path": "x" }));
        assert_eq!(r.status(), 401, "{path}");
    }
    assert!(s.media().join("a.mp4").exists());
    let (_, page) = s.text("/watch/a.mp4");
    assert!(page.contains("Changes need the upload password"), "{page}");
    assert!(!page.contains("delete-confirm"));

    let pw = |req: reqwest::blocking::RequestBuilder| req.header("x-upload-password", "sofa");
    // What a script holding the password sends.
    let json_with_pw = |path: &str, body: Value| {
        pw(s.client().post(s.url(path)))
            .header("accept", "application/json")
            .json(&body)
            .send()
            .unwrap()
    };
    let r = json_with_pw("/api/folders", json!({ "path": "Trips" }));
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().unwrap()["path"], "Trips");
    // The library page's form makes one inside the folder shown.
    let r = pw(s.client().post(s.url("/api/folders")))
        .form(&[("in", "Trips"), ("path", "Rome")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/?dir=Trips%2FRome");
    assert!(s.media().join("Trips/Rome").is_dir());
    let (_, page) = s.text("/?dir=Trips");
    assert!(page.contains("Rome"), "{page}");
    let r = json_with_pw("/api/folders", json!({ "path": "Trips" }));
    assert_eq!(r.status(), 409);
    // A video moves into it.
    let r = json_with_pw("/api/videos/a.mp4/rename", json!({ "to": "Trips/Rome/a" }));
    assert_eq!(r.json::<Value>().unwrap()["path"], "Trips/Rome/a.mp4");
}

#[test]
fn a_kill_9_in_the_middle_of_a_move_loses_nothing() {
    let d = media_with(&[("a.mkv", &mkv_with_subtitles)]);
    let s = Server::start_in(d, &[]);
    assert_eq!(finished_job(&s, "a.mkv")["state"], "done");
    let d = s.stop();
    let originals: Vec<(String, Vec<u8>)> = ["a.mkv", "a.mp4", "a.en.vtt"]
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read(d.path().join("media").join(f)).unwrap(),
            )
        })
        .collect();
    for action in ["rename", "delete"] {
        // Each rename waits a second first, so the kill lands between two.
        let mut s =
            Server::start_with_env(d_take(&d), &[], &[("PIMEDIA_TEST_MOVE_PAUSE_MS", "1000")]);
        let url = s.url(&format!("/api/videos/a.mp4/{action}"));
        let client = s.client();
        let request = std::thread::spawn(move || {
            let _ = client
                .post(url)
                .header("accept", "application/json")
                .json(&json!({ "to": "Moved/b" }))
                .send();
        });
        let media = s.media();
        s.wait_until(10, "the first file to move", || {
            !media.join("a.mkv").exists()
        });
        nix_kill(s.child.id(), "KILL");
        s.child.wait().unwrap();
        let _ = request.join();
        assert!(
            !media.join("a.mp4").exists() || !media.join("a.mkv").exists(),
            "caught half-way"
        );
        let dir = s.stop();
        let s = Server::start_in(dir, &[]);
        for (f, bytes) in &originals {
            assert_eq!(
                &std::fs::read(s.media().join(f)).unwrap(),
                bytes,
                "{action}: {f} is back"
            );
        }
        assert!(!s.media().join("Moved/b.mkv").exists());
        assert_eq!(s.video_paths(), vec!["a.mp4"], "{action}");
        assert!(s.log_text().contains("put ") && s.log_text().contains("back where it was"));
        let trash = s.media().join(".trash-pimedia");
        let left: Vec<_> = std::fs::read_dir(&trash)
            .map(|d| d.flatten().collect())
            .unwrap_or_default();
        let (_, page) = s.text("/trash");
        assert!(page.contains("The trash is empty"), "{action}: {left:?}");
        let _ = d_put(&d, s.stop());
    }
}

/// The media dir moves between server runs inside one temp dir: these
/// hand it over (the servers own their TempDir).
fn d_take(d: &tempfile::TempDir) -> tempfile::TempDir {
    let fresh = tempfile::tempdir().unwrap();
    std::fs::rename(d.path().join("media"), fresh.path().join("media")).unwrap();
    fresh
}

fn d_put(d: &tempfile::TempDir, from: tempfile::TempDir) -> std::io::Result<()> {
    std::fs::rename(from.path().join("media"), d.path().join("media"))
}
