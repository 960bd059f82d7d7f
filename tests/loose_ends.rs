//! Loose ends a new user meets: a source's own watch page once its TV
//! version is made, and the titles of a camera's AVI and a chat app's
//! video.

mod common;
use common::*;

use std::path::Path;

fn title_of(s: &Server, path: &str) -> Option<String> {
    s.json("/api/videos")
        .as_array()?
        .iter()
        .find(|v| v["path"] == path)?["title"]
        .as_str()
        .map(String::from)
}

#[test]
fn a_sources_watch_page_leads_to_its_entry_once_converted() {
    let dir = media_with(&[("Films/Film.mkv", &|p: &Path| make_h264(p, 2, "ac3"))]);
    let s = Server::start_in(dir, &[]);
    let job = finished_job(&s, "Films/Film.mkv");
    assert_eq!(job["state"], "done", "{job}");
    // A bookmark, a name seen over SMB or DLNA: the entry's own page.
    let r = s.get("/watch/Films/Film.mkv");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/watch/Films/Film.mp4");
    let h = s.head("/watch/Films/Film.mkv");
    assert_eq!(h.status(), 303);
    let (status, page) = s.text("/watch/Films/Film.mp4");
    assert_eq!(status, 200);
    assert!(!page.contains("needs conversion"), "{page}");
    assert!(page.contains("Original (Film.mkv)"), "{page}");
}

#[test]
fn a_cameras_avi_shows_its_recording_date_and_a_chat_video_its_app() {
    let dir = media_with(&[
        // A camera's AVI keeps its date in ICRD (ffmpeg's `date`).
        ("MVI_0001.AVI", &|p: &Path| {
            make_clip(
                p,
                1,
                &[
                    "-c:v",
                    "mjpeg",
                    "-c:a",
                    "pcm_s16le",
                    "-metadata",
                    "date=2009-06-12",
                ],
            )
        }),
        ("WhatsApp Video 2024-03-02 at 18.45.12.mp4", &|p: &Path| {
            make_mp4(p, 1)
        }),
    ]);
    let s = Server::start_in(dir, &[]);
    s.wait_until(60, "both titles", || {
        title_of(&s, "MVI_0001.mp4").is_some()
            && title_of(&s, "WhatsApp Video 2024-03-02 at 18.45.12.mp4").is_some()
    });
    assert_eq!(title_of(&s, "MVI_0001.mp4").unwrap(), "12 Jun 2009");
    assert_eq!(
        title_of(&s, "WhatsApp Video 2024-03-02 at 18.45.12.mp4").unwrap(),
        "WhatsApp video, 2 Mar 2024, 18:45"
    );
}
