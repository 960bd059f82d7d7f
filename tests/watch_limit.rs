//! When the kernel's inotify watch limit is reached, pimedia says how to
//! raise it and finds new files by a scan every 30 s instead.
//!
//! The limit is a machine-wide sysctl, so this test needs root: it is
//! ignored by a plain `cargo test`, and tests/run.sh runs it when root
//! (`cargo test --test watch_limit -- --ignored`). It lowers the limit only
//! while pimedia starts, and is alone in its test binary so no other test
//! starts a watcher meanwhile.

mod common;
use common::*;

use std::time::{Duration, Instant};

const LIMIT: &str = "/proc/sys/fs/inotify/max_user_watches";

/// Puts the old limit back, also when the test fails.
struct Restore(String);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = std::fs::write(LIMIT, &self.0);
    }
}

#[test]
#[ignore = "needs root (it lowers fs.inotify.max_user_watches); tests/run.sh runs it as root"]
fn at_the_watch_limit_new_files_are_found_by_a_scan() {
    let old = std::fs::read_to_string(LIMIT).unwrap();
    std::fs::write(LIMIT, old.trim()).expect("changing the inotify limit needs root");
    let restore = Restore(old);
    std::fs::write(LIMIT, "1").unwrap();
    let s = Server::start(&[]);
    drop(restore);

    let log = s.log_text();
    assert!(
        log.contains("inotify watch limit is reached")
            && log.contains("sudo sysctl fs.inotify.max_user_watches=524288"),
        "{log}"
    );
    let copied = Instant::now();
    std::fs::copy(sample_mp4(), s.media().join("found later.mp4")).unwrap();
    s.wait_until(45, "the scan to find the file", || {
        s.json("/api/videos")
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["path"] == "found later.mp4")
    });
    // Found by the scan, not by an event: not at once.
    assert!(copied.elapsed() > Duration::from_secs(5));
}
