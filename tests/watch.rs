//! The watch folder and the index: files copied in while the server runs,
//! renames, deletes, restarts without re-probing, posters.

mod common;
use common::*;

use std::io::Write;
use std::time::Duration;

fn jobs(s: &Server) -> Vec<serde_json::Value> {
    s.json("/api/jobs").as_array().unwrap().clone()
}

#[test]
fn a_file_written_in_pieces_is_remuxed_only_once_complete() {
    let s = Server::start(&[]);
    let src = s.dir.path().join("film.mkv");
    make_h264(&src, 4, "ac3");
    let bytes = std::fs::read(&src).unwrap();
    let target = s.media().join("film.mkv");
    // Three pieces, 1.5 s apart, each from a new open, like a slow copy.
    let third = bytes.len() / 3;
    for (i, piece) in [
        &bytes[..third],
        &bytes[third..2 * third],
        &bytes[2 * third..],
    ]
    .iter()
    .enumerate()
    {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&target)
            .unwrap();
        f.write_all(piece).unwrap();
        drop(f);
        if i < 2 {
            std::thread::sleep(Duration::from_millis(1500));
            assert!(jobs(&s).is_empty(), "queued while still being copied");
        }
    }
    s.wait_until(30, "the remux", || {
        jobs(&s).first().is_some_and(|j| j["state"] == "done")
    });
    assert_eq!(jobs(&s).len(), 1);
    let out = s.media().join("film.mp4");
    let d: f64 = String::from_utf8(
        std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
            ])
            .arg(&out)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    assert!((d - 4.0).abs() < 0.5, "output is {d} s long");
}

#[test]
fn moved_in_renamed_deleted_and_new_folders_follow_the_disk() {
    let s = Server::start(&[]);
    // Moved in from another folder on the same disk.
    let outside = s.dir.path().join("outside.mp4");
    std::fs::copy(sample_mp4(), &outside).unwrap();
    std::fs::rename(&outside, s.media().join("moved in.mp4")).unwrap();
    s.wait_until(20, "the moved-in file", || {
        s.video_paths() == ["moved in.mp4"]
    });
    s.wait_until(20, "its probe", || {
        s.json("/api/videos")[0]["duration"].is_f64()
    });

    // A rename moves the entry and keeps its metadata.
    std::fs::rename(
        s.media().join("moved in.mp4"),
        s.media().join("renamed.mp4"),
    )
    .unwrap();
    s.wait_until(20, "the rename", || s.video_paths() == ["renamed.mp4"]);
    assert!(s.json("/api/videos")[0]["duration"].is_f64());

    // A new sub-folder with a file in it.
    std::fs::create_dir_all(s.media().join("Trips/2025")).unwrap();
    std::fs::copy(sample_mp4(), s.media().join("Trips/2025/alps.mp4")).unwrap();
    s.wait_until(20, "the new folder's file", || {
        s.video_paths().contains(&"Trips/2025/alps.mp4".to_string())
    });
    assert!(s.text("/").1.contains(r#"href="/?dir=Trips""#));
    let (_, trips) = s.text("/?dir=Trips");
    assert!(trips.contains(">2025<"));

    // Deletes leave the library.
    std::fs::remove_file(s.media().join("renamed.mp4")).unwrap();
    s.wait_until(20, "the delete", || {
        s.video_paths() == ["Trips/2025/alps.mp4"]
    });
    std::fs::remove_dir_all(s.media().join("Trips")).unwrap();
    s.wait_until(20, "the folder delete", || s.video_paths().is_empty());
    assert_eq!(s.get("/?dir=Trips").status(), 404);
    assert!(jobs(&s).is_empty());
}

#[test]
fn pimedias_own_outputs_start_no_work() {
    let s = Server::start(&[]);
    let mkv = s.dir.path().join("party.mkv");
    make_h264(&mkv, 2, "ac3");
    upload(&s, &mkv);
    upload(&s, &sample_mp4());
    s.wait_until(30, "the remux", || {
        jobs(&s).first().is_some_and(|j| j["state"] == "done")
    });
    assert!(s.media().join("party.mp4").exists());
    // Outputs, .vtt files and temp files are all pimedia's: the job count
    // stays at one.
    std::thread::sleep(Duration::from_secs(10));
    assert_eq!(jobs(&s).len(), 1, "{:?}", jobs(&s));
    assert_eq!(s.video_paths().len(), 2, "{:?}", s.video_paths());
}

#[test]
fn a_restart_over_1000_unchanged_files_runs_ffprobe_zero_times() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("media");
    std::fs::create_dir_all(&m).unwrap();
    for i in 0..1000 {
        std::fs::write(m.join(format!("clip {i:04}.mp4")), format!("{i}")).unwrap();
    }
    let count = d.path().join("ffprobe-calls");
    let json = r#"{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":320,"height":240}],"format":{"duration":"2.0","format_name":"mov"}}"#;
    let ffprobe = script(
        d.path(),
        "ffprobe",
        &format!(
            "[ \"$1\" = -version ] && echo 'ffprobe version fake' && exit 0\necho x >> {}\necho '{json}'",
            count.display()
        ),
    );
    // Posters fail at once, and that too is remembered.
    let ffmpeg = script(
        d.path(),
        "ffmpeg",
        "[ \"$1\" = -version ] && echo 'ffmpeg version fake' && exit 0\nexit 1",
    );
    let args = [
        "--ffprobe",
        ffprobe.to_str().unwrap(),
        "--ffmpeg",
        ffmpeg.to_str().unwrap(),
    ];
    let calls = || {
        std::fs::read_to_string(&count)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    let s = Server::start_in(d, &args);
    s.wait_until(120, "1000 probes", || calls() == 1000);
    s.wait_until(60, "the cache to be saved", || {
        std::fs::read_to_string(s.media().join(".pimedia/metadata.json"))
            .map(|c| c.matches("poster_failed").count() == 1000)
            .unwrap_or(false)
    });
    let d = s.stop();
    let s = Server::start_in(d, &args);
    assert_eq!(s.json("/healthz")["videos"], 1000);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(calls(), 1000, "ffprobe ran again on unchanged files");
    assert_eq!(s.json("/api/videos")[0]["duration"], 2.0);
    // One changed file is probed again, alone.
    std::fs::write(s.media().join("clip 0007.mp4"), "changed").unwrap();
    s.wait_until(20, "the changed file's probe", || calls() == 1001);
}

#[test]
fn a_poster_appears_for_a_new_file() {
    let s = Server::start(&[]);
    let (_, page) = s.text("/");
    assert!(!page.contains("/thumbs/"));
    std::fs::copy(sample_mp4(), s.media().join("sunset.mp4")).unwrap();
    let mut thumb = String::new();
    s.wait_until(30, "a poster", || {
        thumb = s.json("/api/videos")[0]["thumb"]
            .as_str()
            .unwrap_or("")
            .to_string();
        !thumb.is_empty()
    });
    let r = s.get(&thumb);
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(header(&r, "cache-control").contains("immutable"));
    let jpg = r.bytes().unwrap();
    assert_eq!(&jpg[..2], &[0xff, 0xd8]);
    let file = s.dir.path().join("poster.jpg");
    std::fs::write(&file, &jpg).unwrap();
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=width",
            "-of",
            "csv=p=0",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "480");
    let (_, page) = s.text("/");
    assert!(page.contains(&format!("url('{thumb}')")), "{page}");
    assert_eq!(s.get("/thumbs/../../etc/passwd").status(), 404);
    assert_eq!(s.get("/thumbs/zzzz.jpg").status(), 404);
}

#[test]
fn a_file_deleted_right_after_its_upload_leaves_the_library() {
    let s = Server::start(&[]);
    let name = upload(&s, &sample_mp4())[0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    // Gone before the file watcher's debounce window closes: its create
    // and delete cancel out, and no event comes at all.
    std::fs::remove_file(s.media().join(&name)).unwrap();
    assert_eq!(s.video_paths(), vec![name]);
    s.wait_until(10, "the deleted upload to leave the library", || {
        s.video_paths().is_empty()
    });
}
