//! A full disk, on a small tmpfs media dir (needs root to mount it; CI runs
//! as root): an upload that would not fit is 507; a remux with no room
//! waits, one that fills the disk fails cleanly (temp removed, source
//! intact) and both finish once there is room; pages keep answering.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn free(dir: &Path) -> u64 {
    let st = nix::sys::statvfs::statvfs(dir).unwrap();
    st.blocks_available() as u64 * st.fragment_size() as u64
}

/// Leaves about `left` bytes free in `dir` (a dot-file, so not a video).
fn fill_to(dir: &Path, left: u64) {
    let filler = dir.join(".filler");
    let _ = std::fs::remove_file(&filler);
    let size = free(dir).saturating_sub(left);
    let f = std::fs::File::create(&filler).unwrap();
    nix::fcntl::posix_fallocate(&f, 0, size as i64).unwrap();
}

fn job(s: &Server) -> serde_json::Value {
    s.json("/api/jobs")[0].clone()
}

#[test]
fn a_full_disk_is_refused_waited_out_and_survived() {
    let uid = Command::new("id").arg("-u").output().unwrap().stdout;
    if String::from_utf8_lossy(&uid).trim() != "0" {
        eprintln!("skipped: mounting a small tmpfs needs root (CI runs this as root)");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let media = d.path().join("media");
    std::fs::create_dir(&media).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=48m", "tmpfs"])
        .arg(&media)
        .status()
        .unwrap();
    assert!(ok.success());
    let _mounted = Tmpfs(media.clone());
    // Ten seconds of H.264 with loud AC-3: its remux adds an AAC track, so
    // the MP4 is larger than the source.
    make_clip(
        &media.join("big.mkv"),
        10,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "3M",
            "-c:a",
            "ac3",
            "-b:a",
            "640k",
        ],
    );
    let source = std::fs::read(media.join("big.mkv")).unwrap();
    let size = source.len() as u64;
    fill_to(&media, size / 2);
    let state = d.path().join("state");
    let s = Server::start_in(
        d,
        &[
            "--disk-reserve",
            "0",
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );

    // No room for the MP4: the job waits, says why, and writes nothing.
    s.wait_until(20, "the job to wait for space", || {
        job(&s)["error"]
            .as_str()
            .is_some_and(|e| e.contains("too full"))
    });
    assert_eq!(job(&s)["state"], "queued");
    assert!(
        hidden_files(&media).is_empty(),
        "{:?}",
        hidden_files(&media)
    );
    // An upload that would not fit: 507, and nothing left behind.
    let upload = s.dir.path().join("upload.mp4");
    std::fs::write(&upload, vec![7u8; size as usize]).unwrap();
    let r = upload_file(&s, &upload, &[("accept", "application/json")]);
    assert_eq!(r.status(), 507);
    assert!(!media.join("upload.mp4").exists());
    assert_eq!(s.get("/").status(), 200);
    assert_eq!(s.get("/healthz").status(), 200);

    // Room for the source's size but not the AAC track it gains: ffmpeg
    // fills the disk; the temp file goes, the source stays, it waits again.
    fill_to(&media, size + 32 * 1024);
    s.wait_until(40, "the disk to fill during the remux", || {
        job(&s)["error"]
            .as_str()
            .is_some_and(|e| e.contains("filled up"))
    });
    assert_eq!(job(&s)["state"], "queued", "{}", job(&s));
    s.wait_until(5, "its temp file to go", || hidden_files(&media).is_empty());
    assert_eq!(
        std::fs::read(media.join("big.mkv")).unwrap(),
        source,
        "the source is intact"
    );
    assert!(!media.join("big.mp4").exists());
    assert_eq!(s.get("/").status(), 200);

    // Space is back: it is done, with no one retrying it by hand.
    std::fs::remove_file(media.join(".filler")).unwrap();
    s.wait_until(40, "the remux once there is room", || {
        job(&s)["state"] == "done"
    });
    let probe = ffprobe_json(&media.join("big.mp4"), &["-show_streams"]);
    assert_eq!(probe["streams"][1]["codec_name"], "aac");
    assert_eq!(job(&s)["error"], serde_json::Value::Null);
    std::thread::sleep(Duration::from_millis(100));
}
