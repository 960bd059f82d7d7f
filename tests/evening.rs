//! The evening on the sofa, as the server answers it: titles people read,
//! "Continue watching" first, the next episode offered, folders with faces.

mod common;

use common::*;
use serde_json::{json, Value};

fn clip_with_title(p: &std::path::Path, title: &str) {
    make_h264_with(p, 1, "aac", &["-metadata", &format!("title={title}")]);
}

fn titles(s: &Server) -> Vec<(String, String)> {
    s.json("/api/videos")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["path"].as_str().unwrap().to_string(),
                v["title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn put_position(s: &Server, path: &str, position: f64, duration: f64) {
    let r = s
        .client()
        .put(s.url(&format!("/api/positions/{path}")))
        .json(&json!({ "position": position, "duration": duration }))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

#[test]
fn titles_come_from_names_cleaned_or_the_files_own_tags() {
    let d = media_with(&[
        ("The.Matrix.1999.1080p.BluRay.x264-GRP.mp4", &|p| {
            make_mp4(p, 1)
        }),
        ("IMG_0042.mp4", &|p| clip_with_title(p, "Beach day")),
        ("VID_20260101_101010.mp4", &|p| make_mp4(p, 1)),
        ("Show/show.s01e02.720p.hdtv.mp4", &|p| make_mp4(p, 1)),
    ]);
    let s = Server::start_in(d, &[]);
    s.wait_until(30, "every file probed with its title", || {
        titles(&s).contains(&("IMG_0042.mp4".into(), "Beach day".into()))
    });
    let all = titles(&s);
    for (path, title) in [
        (
            "The.Matrix.1999.1080p.BluRay.x264-GRP.mp4",
            "The Matrix (1999)",
        ),
        ("VID_20260101_101010.mp4", "1 Jan 2026, 10:10"),
    ] {
        assert!(
            all.contains(&(path.to_string(), title.to_string())),
            "{path}: {all:?}"
        );
    }
    // The library page shows the title; search finds the title and the name.
    let (_, page) = s.text("/");
    assert!(page.contains("The Matrix (1999)"), "{page}");
    assert!(page.contains("Beach day"));
    for q in ["matrix", "x264", "beach"] {
        let (_, found) = s.text(&format!("/?q={q}"));
        assert!(found.contains("class=\"tile video\""), "{q}: {found}");
    }
    let (_, show) = s.text("/?dir=Show");
    assert!(show.contains("show S1 · E2"), "{show}");
}

#[test]
fn continue_watching_is_the_first_row_latest_first() {
    let d = media_with(&[
        ("Films/a.mp4", &|p| make_mp4(p, 2)),
        ("b.mp4", &|p| make_mp4(p, 2)),
        ("c.mp4", &|p| make_mp4(p, 2)),
        ("d.mp4", &|p| make_mp4(p, 2)),
    ]);
    let s = Server::start_in(d, &[]);
    s.wait_until(30, "four videos", || s.video_paths().len() == 4);
    let (_, page) = s.text("/");
    assert!(
        !page.contains("Continue watching"),
        "no row while nothing is started"
    );

    put_position(&s, "Films/a.mp4", 50.0, 100.0);
    put_position(&s, "b.mp4", 2.0, 100.0); // barely started
    put_position(&s, "c.mp4", 97.0, 100.0); // finished
    put_position(&s, "d.mp4", 30.0, 100.0); // the latest
    let (_, page) = s.text("/");
    let row = page
        .split("Continue watching</h2>")
        .nth(1)
        .and_then(|r| r.split("</section>").next())
        .expect("a Continue watching row");
    let (d_at, a_at) = (row.find("/watch/d.mp4"), row.find("/watch/Films/a.mp4"));
    assert!(d_at.is_some() && a_at.is_some(), "{row}");
    assert!(d_at < a_at, "the latest first: {row}");
    assert!(!row.contains("/watch/b.mp4") && !row.contains("/watch/c.mp4"));
    assert!(
        row.contains("width: 30%") && row.contains("width: 50%"),
        "{row}"
    );
    // Above the folder tiles.
    assert!(page.find("Continue watching") < page.find("class=\"tile folder\""));
    // Only in the root folder.
    let (_, films) = s.text("/?dir=Films");
    assert!(!films.contains("Continue watching"));
}

#[test]
fn the_next_episode_is_offered_and_a_film_has_none() {
    let d = media_with(&[
        ("Show/show.s01e01.pilot.mp4", &|p| make_mp4(p, 1)),
        ("Show/show.s01e02.mp4", &|p| make_mp4(p, 1)),
        ("Show/show.s01e10.the.end.mp4", &|p| make_mp4(p, 1)),
        ("Show/show.s02e01.mp4", &|p| make_mp4(p, 1)),
        ("Anime/Frieren - 01.mp4", &|p| make_mp4(p, 1)),
        ("Anime/Frieren - 02.mp4", &|p| make_mp4(p, 1)),
        ("Films/Heat.1995.mp4", &|p| make_mp4(p, 1)),
        ("Films/Ronin.1998.mp4", &|p| make_mp4(p, 1)),
    ]);
    let s = Server::start_in(d, &[]);
    s.wait_until(30, "eight videos", || s.video_paths().len() == 8);
    let next_of = |path: &str| -> Option<String> {
        let (status, page) = s.text(&format!("/watch/{}", path.replace(' ', "%20")));
        assert_eq!(status, 200);
        let block = page.split("id=\"next-up\"").nth(1)?;
        Some(block.split("</div>").next().unwrap().to_string())
    };
    let n = next_of("Show/show.s01e02.mp4").expect("an offer after E2");
    assert!(
        n.contains("href=\"/watch/Show/show.s01e10.the.end.mp4\""),
        "{n}"
    );
    assert!(n.contains("Next: S1 · E10 — the end"), "{n}");
    let n = next_of("Show/show.s01e10.the.end.mp4").unwrap();
    assert!(n.contains("/watch/Show/show.s02e01.mp4"), "{n}");
    assert_eq!(next_of("Show/show.s02e01.mp4"), None, "the last has none");
    let n = next_of("Anime/Frieren - 01.mp4").unwrap();
    assert!(
        n.contains("Frieren%20-%2002.mp4") && n.contains("Next: E2"),
        "{n}"
    );
    assert_eq!(next_of("Films/Heat.1995.mp4"), None, "a film has none");
}

#[test]
fn a_folder_tile_shows_its_videos_posters() {
    let d = media_with(&[
        ("One/a.mp4", &|p| make_mp4(p, 1)),
        ("Four/a.mp4", &|p| make_mp4(p, 1)),
        ("Four/b.mp4", &|p| make_mp4(p, 1)),
        ("Four/c.mp4", &|p| make_mp4(p, 1)),
        ("Four/d.mp4", &|p| make_mp4(p, 1)),
        ("Four/e.mp4", &|p| make_mp4(p, 1)),
        ("Two/a.mp4", &|p| make_mp4(p, 1)),
        ("Two/b.mp4", &|p| make_mp4(p, 1)),
    ]);
    std::fs::create_dir(d.path().join("media/Empty")).unwrap();
    let s = Server::start_in(d, &[]);
    let posters = |s: &Server| -> usize {
        s.json("/api/videos")
            .as_array()
            .unwrap()
            .iter()
            .filter(|v: &&Value| !v["thumb"].is_null())
            .count()
    };
    s.wait_until(60, "eight posters", || posters(&s) == 8);
    let (_, page) = s.text("/");
    let tile = |name: &str| -> String {
        let at = page
            .find(&format!("<span class=\"name\">{name}</span>"))
            .unwrap();
        let start = page[..at].rfind("<li>").unwrap();
        page[start..at].to_string()
    };
    assert!(tile("One").contains("folder-face"), "{}", tile("One"));
    assert!(tile("One").contains("/thumbs/"));
    // Five videos: a mosaic of four; two: of two.
    assert_eq!(
        tile("Four").matches("/thumbs/").count(),
        4,
        "{}",
        tile("Four")
    );
    assert!(tile("Two").contains("mosaic of2"), "{}", tile("Two"));
    assert_eq!(tile("Two").matches("/thumbs/").count(), 2);
    assert!(tile("Empty").contains("folder-icon"));
    // Each poster the page names is served.
    let src = tile("One")
        .split("url('")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    let r = s.get(&src);
    assert_eq!(r.status(), 200, "{src}");
}

/// An MP4 with English, then German sound.
fn two_languages(p: &std::path::Path) {
    #[rustfmt::skip]
    let args = [
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000",
        "-t", "4", "-map", "0", "-map", "1", "-map", "2",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=deu",
        "-movflags", "+faststart",
    ];
    ffmpeg(&args, p);
}

#[test]
fn another_audio_language_first_is_a_url_and_a_companion_of_its_video() {
    let d = media_with(&[("Films/film.mp4", &two_languages)]);
    let s = Server::start_in(d, &[]);
    s.wait_until(30, "the film probed", || {
        s.json("/api/videos")[0]["duration"].as_f64().is_some()
    });
    let (_, page) = s.text("/watch/Films/film.mp4");
    assert!(
        page.contains(">English</button>") && page.contains(">Deutsch</button>"),
        "{page}"
    );
    assert!(
        page.contains(r#"data-src="/audio/1/Films/film.mp4""#),
        "{page}"
    );

    let r = s.get("/audio/1/Films/film.mp4");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    let body = r.bytes().unwrap();
    let version = s.media().join("Films/film.mp4.audio-1");
    assert_eq!(std::fs::read(&version).unwrap(), body.as_ref());
    let probe = ffprobe_json(&version, &["-show_streams"]);
    let audio: Vec<&Value> = probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codec_type"] == "audio")
        .collect();
    assert_eq!(audio.len(), 2, "both tracks kept");
    assert_eq!(audio[0]["tags"]["language"], "deu", "German first");
    assert_eq!(audio[0]["disposition"]["default"], 1);
    assert_eq!(audio[1]["tags"]["language"], "eng");
    // Ranges, as a player asks, and HEAD.
    let r = s.get_with("/audio/1/Films/film.mp4", &[("range", "bytes=0-99")]);
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().unwrap().len(), 100);
    assert_eq!(s.head("/audio/1/Films/film.mp4").status(), 200);
    // No version for a track it lacks, nor of the first one.
    assert_eq!(s.get("/audio/2/Films/film.mp4").status(), 404);
    assert_eq!(s.get("/audio/0/Films/film.mp4").status(), 404);
    // It is not listed, and it goes where its video goes.
    assert_eq!(s.video_paths(), vec!["Films/film.mp4".to_string()]);
    let r = post_json(
        &s,
        "/api/videos/Films/film.mp4/rename",
        &json!({ "to": "Films/Heat" }),
    );
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    assert!(s.media().join("Films/Heat.mp4.audio-1").is_file());
    assert!(!version.exists());
    let r = post_json(&s, "/api/videos/Films/Heat.mp4/delete", &Value::Null);
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    assert!(!s.media().join("Films/Heat.mp4.audio-1").exists());
    let (_, trash) = s.text("/trash");
    assert!(trash.contains("Heat"), "{trash}");
    let kept = walk(&s.media().join(".trash-pimedia"));
    assert!(
        kept.iter().any(|p| p.ends_with("Heat.mp4.audio-1")),
        "in the trash with its video: {kept:?}"
    );
    assert!(hidden_files(&s.media()).is_empty());
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn a_language_version_that_would_eat_the_reserve_is_refused_and_nothing_is_left() {
    // A reserve no disk here has: the version would leave less free.
    let d = media_with(&[("film.mp4", &two_languages)]);
    let s = Server::start_in(d, &["--disk-reserve", "900000G"]);
    s.wait_until(30, "the film probed", || {
        s.json("/api/videos")[0]["duration"].as_f64().is_some()
    });
    let r = s.get("/audio/1/film.mp4");
    assert_eq!(r.status(), 507);
    let text = r.text().unwrap();
    assert!(text.contains("Not enough free disk space"), "{text}");
    assert!(!s.media().join("film.mp4.audio-1").exists());
    assert!(hidden_files(&s.media()).is_empty());
    // The original still plays.
    assert_eq!(s.get("/videos/film.mp4").status(), 200);
}
