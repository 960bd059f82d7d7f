//! The library and player pages, end to end against the real binary.

mod common;
use common::*;

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn a_dropped_mp4_is_listed_with_its_duration_and_resolution() {
    let dir = tempfile::tempdir().unwrap();
    make_mp4(&dir.path().join("media/Holiday_2024.mp4"), 3);
    let s = Server::start_in(dir, &[]);
    s.wait_until(20, "probe", || {
        s.json("/api/videos")[0]["duration"].as_f64().is_some()
    });
    let v = &s.json("/api/videos")[0];
    assert_eq!(v["path"], "Holiday_2024.mp4");
    assert!((v["duration"].as_f64().unwrap() - 3.0).abs() < 0.2);
    assert_eq!(v["width"], 320);
    assert_eq!(v["codecs"], serde_json::json!(["h264", "aac"]));
    let (status, page) = s.text("/");
    assert_eq!(status, 200);
    // A year in the name reads as one (issue 26).
    assert!(page.contains("Holiday (2024)"), "{page}");
    assert!(page.contains(">0:03<"), "duration badge: {page}");
    assert!(page.contains("320×240"));
    assert!(page.contains(r#"href="/watch/Holiday_2024.mp4""#));
}

#[test]
fn nested_folders_are_tiles_and_open() {
    let dir = {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("media/Kids & Co/Cartoons")).unwrap();
        std::fs::copy(
            sample_mp4(),
            d.path().join("media/Kids & Co/Cartoons/Duck Tales.mp4"),
        )
        .unwrap();
        std::fs::copy(sample_mp4(), d.path().join("media/Kids & Co/top.mp4")).unwrap();
        d
    };
    let s = Server::start_in(dir, &[]);
    let (_, root) = s.text("/");
    assert!(root.contains(r#"href="/?dir=Kids%20%26%20Co""#), "{root}");
    assert!(!root.contains("Duck Tales"));
    let (st, kids) = s.text("/?dir=Kids%20%26%20Co");
    assert_eq!(st, 200);
    assert!(
        kids.contains(">Cartoons<") && kids.contains(">top<"),
        "{kids}"
    );
    assert!(!kids.contains("Duck Tales"));
    let (_, deep) = s.text("/?dir=Kids%20%26%20Co%2FCartoons");
    assert!(deep.contains("Duck Tales"));
    assert!(
        deep.contains(r#"href="/watch/Kids%20%26%20Co/Cartoons/Duck%20Tales.mp4""#),
        "{deep}"
    );
    assert_eq!(s.get("/?dir=..%2F..").status(), 404);
    assert_eq!(s.get("/?dir=Nope").status(), 404);
}

#[test]
fn search_sort_and_pages_of_sixty() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("media");
    std::fs::create_dir_all(m.join("sub")).unwrap();
    for i in 0..65 {
        std::fs::copy(sample_mp4(), m.join(format!("episode {i:02}.mp4"))).unwrap();
    }
    std::fs::copy(sample_mp4(), m.join("sub/Zebra Documentary.mp4")).unwrap();
    let s = Server::start_in(d, &[]);

    let (_, p1) = s.text("/");
    assert_eq!(count(&p1, r#"class="tile video""#), 60);
    assert!(p1.contains("Page 1 of 2"));
    assert!(p1.contains(r#"href="/?page=2""#), "next link");
    assert!(p1.contains("episode 00") && !p1.contains("episode 60"));
    let (_, p2) = s.text("/?page=2");
    assert_eq!(count(&p2, r#"class="tile video""#), 5);
    assert!(p2.contains("episode 64") && p2.contains(r#"rel="prev""#));

    let (_, found) = s.text("/?q=zebra");
    assert_eq!(count(&found, r#"class="tile video""#), 1);
    assert!(found.contains("Zebra Documentary"));
    let (_, none) = s.text("/?q=nothing-like-this");
    assert!(none.contains("Nothing matches"));

    // Newest first when sorted by date.
    let newest = s.media().join("episode 03.mp4");
    let f = std::fs::File::options().append(true).open(&newest).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .unwrap();
    drop(f);
    let d = s.stop();
    let s = Server::start_in(d, &[]);
    let (_, by_date) = s.text("/?sort=date");
    let tile = by_date.find(r#"class="tile video""#).unwrap();
    let first = tile + by_date[tile..].find(r#"class="name""#).unwrap();
    assert!(
        by_date[first..].starts_with(r#"class="name">episode 03<"#),
        "{}",
        &by_date[first..first + 60]
    );
}

#[test]
fn watch_page_points_at_videos_url_with_tracks() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("media");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::copy(sample_mp4(), m.join("My Film.mp4")).unwrap();
    std::fs::write(
        m.join("My Film.en.vtt"),
        "WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n",
    )
    .unwrap();
    std::fs::write(m.join("My Film.fr.vtt"), "WEBVTT\n").unwrap();
    std::fs::write(m.join("Other.en.vtt"), "WEBVTT\n").unwrap();
    let s = Server::start_in(d, &[]);
    let (st, page) = s.text("/watch/My%20Film.mp4");
    assert_eq!(st, 200);
    assert!(page.contains(r#"src="/videos/My%20Film.mp4""#), "{page}");
    assert!(
        page.contains(r#"src="/videos/My%20Film.en.vtt" srclang="en""#),
        "{page}"
    );
    assert!(page.contains(r#"srclang="fr""#));
    assert!(!page.contains("Other.en.vtt"));
    assert!(page.contains(r#"id="fullscreen""#) && page.contains(r#"id="back""#));
    let d = s.stop();

    let s = Server::start_in(d, &["--videos-url", "http://pi.local/media"]);
    let (_, page) = s.text("/watch/My%20Film.mp4");
    assert!(
        page.contains(r#"src="http://pi.local/media/My%20Film.mp4""#),
        "{page}"
    );
    assert_eq!(s.get("/watch/missing.mp4").status(), 404);
    assert_eq!(s.get("/watch/..%2F..%2Fetc%2Fpasswd").status(), 404);
}

#[test]
fn works_without_ffprobe_and_says_how_to_install_it() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("media")).unwrap();
    std::fs::copy(sample_mp4(), d.path().join("media/a.mp4")).unwrap();
    // An empty PATH hides the real binaries.
    let port = free_port();
    let log = d.path().join("log");
    let mut child = std::process::Command::new(bin())
        .args(["--media-dir"])
        .arg(d.path().join("media"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("PATH", "/nonexistent")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let mut health = None;
    for _ in 0..100 {
        if let Ok(r) = reqwest::blocking::get(format!("{url}/healthz")) {
            health = Some(r.json::<serde_json::Value>().unwrap());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let health = health.expect("server up");
    assert_eq!(health["ffprobe"], false);
    assert_eq!(health["ffmpeg"], false);
    let page = reqwest::blocking::get(format!("{url}/"))
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains(">a<"), "listed without metadata");
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(log.matches("ffprobe was not found").count(), 1, "{log}");
    assert!(log.contains("apt-get install ffmpeg"));
}

#[test]
fn healthz_and_static_assets() {
    let s = Server::start(&[]);
    let h = s.json("/healthz");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(h["ffmpeg"], true);
    assert!(h["free_disk_bytes"].as_u64().unwrap() > 0);
    assert_eq!(h["queue_depth"], 0);
    let r = s.get("/static/app.js");
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("application/javascript"));
    assert!(header(&r, "cache-control").contains("max-age"));
    let etag = header(&r, "etag");
    let r = s.get_with("/static/app.js", &[("If-None-Match", &etag)]);
    assert_eq!(r.status(), 304);
    assert_eq!(s.get("/static/nope.js").status(), 404);
    assert_eq!(s.get("/static/../Cargo.toml").status(), 404);
}
