//! What old disks and odd phones hold, made by the real ffmpeg at test
//! time (small frames, a few seconds): interlaced recordings and DV tapes
//! reach the TV progressive (judged by ffmpeg's `idet` on the output, not
//! only its flag), the default audio track comes first, 7.1 becomes 5.1,
//! and camcorder and old-PC extensions are listed.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Frames `idet` calls (top first, bottom first, progressive).
fn idet(file: &Path) -> (u64, u64, u64) {
    let o = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(file)
        .args(["-map", "0:v:0", "-vf", "idet", "-f", "null", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("Multi frame detection"))
        .unwrap_or_else(|| panic!("no idet summary: {text}"));
    let count = |key: &str| -> u64 {
        line.split(key)
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap()
    };
    (count("TFF:"), count("BFF:"), count("Progressive:"))
}

fn video_of(file: &Path) -> serde_json::Value {
    ffprobe_json(file, &["-show_streams", "-select_streams", "v:0"])["streams"][0].clone()
}

fn audio_of(file: &Path) -> Vec<serde_json::Value> {
    ffprobe_json(file, &["-show_streams", "-select_streams", "a"])["streams"]
        .as_array()
        .unwrap()
        .clone()
}

/// Moving pictures, interlaced: 50 progressive frames a second woven into
/// 25 interlaced ones, fields in `order` (`tff`, `bff`).
fn interlaced_source(order: &str) -> Vec<String> {
    [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=720x576:rate=50",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "2",
        "-vf",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("interlace=scan={order}:lowpass=0")])
    .collect()
}

/// A DVB recording: interlaced H.264 (top field first) in MPEG-TS.
fn interlaced_ts(p: &Path) {
    interlaced(
        p,
        "tff",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-flags",
            "+ilme+ildct",
            "-top",
            "1",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-f",
            "mpegts",
        ],
    );
}

/// Interlaced moving pictures (fields in `order`) encoded with `opts`.
fn interlaced(p: &Path, order: &str, opts: &[&str]) {
    let mut a = interlaced_source(order);
    a.extend(opts.iter().map(|s| s.to_string()));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    ffmpeg(&a, p);
}

#[test]
fn interlaced_recordings_and_dv_tapes_reach_the_tv_progressive() {
    let d = media_with(&[
        ("DVB/news.ts", &|p| interlaced_ts(p)),
        ("Tapes/holiday.dv", &|p| {
            // A camcorder tape: DV PAL, bottom field first.
            interlaced(
                p,
                "bff",
                &[
                    "-c:v",
                    "dvvideo",
                    "-pix_fmt",
                    "yuv420p",
                    "-c:a",
                    "pcm_s16le",
                    "-ar",
                    "48000",
                    "-ac",
                    "2",
                    "-f",
                    "dv",
                ],
            )
        }),
    ]);
    let (tff, _, _) = idet(&d.path().join("media/DVB/news.ts"));
    assert!(tff > 20, "the source is interlaced: {tff}");
    let s = Server::start_in(d, &[]);
    for (source, out) in [
        ("DVB/news.ts", "DVB/news.mp4"),
        ("Tapes/holiday.dv", "Tapes/holiday.mp4"),
    ] {
        let job = finished_job(&s, source);
        assert_eq!(job["state"], "done", "{job}");
        assert_eq!(
            job["kind"], "transcode",
            "{source}: not remuxed with its fields"
        );
        let file = s.media().join(out);
        let (tff, bff, progressive) = idet(&file);
        assert!(
            progressive > 10 * (tff + bff),
            "{out}: idet says TFF {tff}, BFF {bff}, progressive {progressive}"
        );
        let v = video_of(&file);
        assert_eq!(v["codec_name"], "h264");
        // 576 lines at 50 fields: one frame per field fits level 4.1.
        assert_eq!(v["avg_frame_rate"], "50/1", "{out}: {v}");
        assert!(
            v["field_order"].is_null() || v["field_order"] == "progressive",
            "{v}"
        );
    }
}

#[test]
fn a_household_that_deinterlaces_gets_interlaced_h264_remuxed() {
    let d = media_with(&[("news.ts", &|p| interlaced_ts(p))]);
    let s = Server::start_in(d, &["--tv-codecs", "h264,interlaced"]);
    let job = finished_job(&s, "news.ts");
    assert_eq!(
        (job["state"].as_str(), job["kind"].as_str()),
        (Some("done"), Some("remux"))
    );
}

#[test]
fn the_default_audio_comes_first_and_7_1_becomes_5_1() {
    let d = media_with(&[
        ("film.mkv", &|p| {
            ffmpeg(
                &[
                    "-f",
                    "lavfi",
                    "-i",
                    "testsrc2=size=320x240:rate=25",
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=frequency=300",
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=frequency=600",
                    "-t",
                    "2",
                    "-map",
                    "0",
                    "-map",
                    "1",
                    "-map",
                    "2",
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-pix_fmt",
                    "yuv420p",
                    "-c:a",
                    "aac",
                    "-metadata:s:a:0",
                    "language=eng",
                    "-metadata:s:a:0",
                    "title=Commentary",
                    "-metadata:s:a:1",
                    "language=fra",
                    "-disposition:a:0",
                    "0",
                    "-disposition:a:1",
                    "default",
                ],
                p,
            )
        }),
        ("bluray.mkv", &|p| {
            ffmpeg(
                &[
                    "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=48000", "-t", "2", "-filter_complex",
                    "[1]asplit=8[a][b][c][d][e][f][g][h];[a][b][c][d][e][f][g][h]join=inputs=8:channel_layout=7.1[s]",
                    "-map", "0", "-map", "[s]", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le",
                ],
                p,
            )
        }),
    ]);
    let s = Server::start_in(d, &[]);
    let job = finished_job(&s, "film.mkv");
    assert_eq!(job["state"], "done", "{job}");
    let audio = audio_of(&s.media().join("film.mp4"));
    assert_eq!(audio.len(), 2);
    assert_eq!(
        audio[0]["tags"]["language"], "fra",
        "the default first: {audio:?}"
    );
    assert_eq!(audio[0]["disposition"]["default"], 1);
    assert_eq!(audio[1]["tags"]["language"], "eng");
    assert_eq!(
        audio[1]["tags"]["handler_name"], "Commentary",
        "titles kept"
    );
    assert_eq!(audio[1]["disposition"]["default"], 0);

    let job = finished_job(&s, "bluray.mkv");
    assert_eq!(job["state"], "done", "{job}");
    let audio = audio_of(&s.media().join("bluray.mp4"));
    assert_eq!(audio[0]["codec_name"], "aac");
    assert_eq!(audio[0]["channels"], 6, "{audio:?}");
    assert_eq!(audio[0]["channel_layout"], "5.1", "{audio:?}");
}

#[test]
fn camcorder_and_old_pc_extensions_are_listed_and_converted() {
    // One second of each, as the camera, PC or site wrote it.
    let clip = |p: &Path, size: &str, video: &str, audio: &str, format: &str| {
        ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                &format!("testsrc2=size={size}:rate=25"),
                "-f",
                "lavfi",
                "-i",
                "sine=sample_rate=48000",
                "-t",
                "1",
                "-c:v",
                video,
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                audio,
                "-ac",
                "2",
                "-f",
                format,
            ],
            p,
        )
    };
    let small = "320x240";
    let d = media_with(&[
        ("MOV001.MOD", &|p| {
            clip(p, small, "mpeg2video", "mp2", "vob")
        }),
        ("MOV002.TOD", &|p| {
            clip(p, small, "mpeg2video", "mp2", "mpegts")
        }),
        ("rec.m2t", &|p| {
            clip(p, small, "mpeg2video", "mp2", "mpegts")
        }),
        ("old.divx", &|p| clip(p, small, "mpeg4", "mp3", "avi")),
        ("phone.3g2", &|p| make_h264(p, 1, "aac")),
        ("web.rm", &|p| clip(p, small, "rv20", "ac3", "rm")),
        ("film.rmvb", &|p| clip(p, small, "rv10", "ac3", "rm")),
        ("flash.f4v", &|p| clip(p, small, "libx264", "aac", "f4v")),
        ("anime.ogm", &|p| {
            clip(p, small, "libtheora", "libvorbis", "ogg")
        }),
        ("tape.dv", &|p| {
            clip(p, "720x576", "dvvideo", "pcm_s16le", "dv")
        }),
        ("studio.mxf", &|p| {
            clip(p, small, "mpeg2video", "pcm_s16le", "mxf")
        }),
    ]);
    let s = Server::start_in(d, &[]);
    let pairs = [
        ("MOV001.MOD", "MOV001.mp4"),
        ("MOV002.TOD", "MOV002.mp4"),
        ("rec.m2t", "rec.mp4"),
        ("old.divx", "old.mp4"),
        ("phone.3g2", "phone.mp4"),
        ("web.rm", "web.mp4"),
        ("film.rmvb", "film.mp4"),
        ("flash.f4v", "flash.mp4"),
        ("anime.ogm", "anime.mp4"),
        ("tape.dv", "tape.mp4"),
        ("studio.mxf", "studio.mp4"),
    ];
    for (source, _) in pairs {
        let job = finished_job(&s, source);
        assert_eq!(job["state"], "done", "{source}: {job}");
        let out = job["output"].as_str().unwrap_or_default().to_string();
        assert!(s.media().join(&out).is_file(), "{source}: {out}");
        let v = video_of(&s.media().join(&out));
        assert_eq!(v["codec_name"], "h264", "{source}: {v}");
    }
    s.wait_until(20, "every one listed as its MP4", || {
        let paths = paths_of(&s.json("/api/videos"));
        pairs.iter().all(|(_, o)| paths.contains(&o.to_string())) && paths.len() == pairs.len()
    });
}

#[test]
fn subtitle_files_beside_a_video_become_tracks_in_any_charset() {
    let d = media_with(&[("holiday.mp4", &|p| make_mp4(p, 2))]);
    // Windows-1252, as an old PC saved it.
    std::fs::write(
        d.path().join("media/holiday.srt"),
        b"1\r\n00:00:00,500 --> 00:00:01,500\r\nDas M\xe4dchen sagt: \xabtr\xe8s bien\xbb\r\n",
    )
    .unwrap();
    let s = Server::start_in(d, &[]);
    let vtt = s.media().join("holiday.vtt");
    s.wait_until(30, "holiday.vtt", || vtt.is_file());
    let text = std::fs::read_to_string(&vtt).unwrap();
    assert!(text.starts_with("WEBVTT"), "{text}");
    assert!(
        text.contains("Das Mädchen sagt: «très bien»"),
        "{text:?}\n{}",
        s.log_text()
    );
    // One that comes after its video: a track once the player opens.
    std::fs::write(
        s.media().join("holiday.fr.ass"),
        "[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:00.50,0:00:01.50,Default,,0,0,0,,Bonjour à tous\n",
    )
    .unwrap();
    let (status, page) = s.text("/watch/holiday.mp4");
    assert_eq!(status, 200);
    assert!(page.contains("holiday.fr.vtt"), "{page}");
    assert!(page.contains("holiday.vtt"));
    let fr = std::fs::read_to_string(s.media().join("holiday.fr.vtt")).unwrap();
    assert!(fr.contains("Bonjour à tous"), "{fr}");
    assert!(hidden_files(&s.media()).is_empty());
}

#[test]
fn a_download_cut_off_plays_as_far_as_it_goes() {
    let d = media_with(&[("cut.mkv", &|p| {
        let full = p.with_file_name("whole.mkv");
        make_h264(&full, 10, "ac3");
        let bytes = std::fs::read(&full).unwrap();
        std::fs::remove_file(&full).unwrap();
        std::fs::write(p, &bytes[..bytes.len() * 6 / 10]).unwrap();
    })]);
    let s = Server::start_in(d, &[]);
    let job = finished_job(&s, "cut.mkv");
    assert_eq!(job["state"], "done", "{job}");
    let plan = job["plan"].to_string();
    assert!(
        plan.contains("seems cut off") && plan.contains("of the 0:10"),
        "{plan}"
    );
    let p = ffprobe_json(&s.media().join("cut.mp4"), &["-show_format"]);
    let secs: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!(secs > 4.0 && secs < 8.0, "{secs}");
    // The library says so, on the video's page.
    let (_, page) = s.text("/watch/cut.mp4");
    assert!(
        page.contains("It ends at 0:0") && page.contains("of 0:10: the file seems cut off."),
        "{page}"
    );
}

#[test]
fn an_upload_whose_name_is_not_utf8_is_kept_under_a_safe_name() {
    use std::io::{Read, Write};
    let s = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let clip = work.path().join("clip.avi");
    make_clip(&clip, 1, &["-c:v", "mpeg4", "-c:a", "mp3"]);
    let video = std::fs::read(&clip).unwrap();
    let mut body = Vec::new();
    body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Urlaub_M\xe4dchen.avi\"\r\nContent-Type: video/x-msvideo\r\n\r\n");
    body.extend_from_slice(&video);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    let mut req = format!(
        "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let mut c = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.write_all(&req).unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let kept: Vec<String> = media_files(&s.media())
        .into_iter()
        .filter(|f| f.ends_with(".avi"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let job = finished_job(&s, &kept[0]);
    assert_eq!(job["state"], "done", "{job}");
}

#[test]
fn files_whose_names_are_not_utf8_are_listed_played_and_converted() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    // An old disk mounted with the wrong charset: Windows-1252 bytes.
    let d = media_with(&[
        ("a.avi", &|p| {
            make_clip(p, 1, &["-c:v", "mpeg4", "-c:a", "mp3"])
        }),
        ("b.mp4", &|p| make_mp4(p, 1)),
    ]);
    let media = d.path().join("media");
    let raw = |b: &[u8]| media.join(OsStr::from_bytes(b));
    std::fs::rename(media.join("a.avi"), raw(b"Urlaub_M\xe4dchen.avi")).unwrap();
    std::fs::rename(media.join("b.mp4"), raw(b"Caf\xe9.mp4")).unwrap();
    std::fs::write(
        raw(b"Caf\xe9.srt"),
        b"1\r\n00:00:00,200 --> 00:00:00,900\r\nCaf\xe9 cr\xe8me\r\n",
    )
    .unwrap();
    let mp4_bytes = std::fs::metadata(raw(b"Caf\xe9.mp4")).unwrap().len();
    let s = Server::start_in(d, &[]);

    // The transcode gets a UTF-8 name; the original stays as it was.
    let job = finished_job(&s, "Urlaub_Mädchen.avi");
    assert_eq!(job["state"], "done", "{job}\n{}", s.log_text());
    assert!(s.media().join("Urlaub_Mädchen.mp4").is_file());
    assert!(raw(b"Urlaub_M\xe4dchen.avi").is_file());

    s.wait_until(20, "both listed under readable names", || {
        let paths = paths_of(&s.json("/api/videos"));
        paths.contains(&"Urlaub_Mädchen.mp4".to_string()) && paths.contains(&"Café.mp4".to_string())
    });
    // The playable one is served under the bytes its name has (as nginx
    // opens it) and under its readable name.
    let videos = s.json("/api/videos");
    let cafe = videos
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["path"] == "Café.mp4")
        .unwrap();
    let url = cafe["url"].as_str().unwrap();
    assert!(url.ends_with("/Caf%E9.mp4"), "{url}");
    for url in [url, "/videos/Caf%C3%A9.mp4"] {
        let r = s.get(url);
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(r.bytes().unwrap().len() as u64, mp4_bytes, "{url}");
    }
    let (status, page) = s.text("/watch/Caf%C3%A9.mp4");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Café"), "{page}");
    // Its subtitle file beside it, in the same charset, becomes a track.
    assert!(page.contains("Caf%C3%A9.vtt"), "{page}");
    let vtt = std::fs::read_to_string(s.media().join("Café.vtt")).unwrap();
    assert!(vtt.contains("Café crème"), "{vtt}");

    // One that arrives while pimedia runs is listed too.
    let late = s.media().join(OsStr::from_bytes(b"Sp\xe4t.mp4"));
    std::fs::copy(s.media().join("Urlaub_Mädchen.mp4"), &late).unwrap();
    s.wait_until(20, "Spät.mp4 listed", || {
        paths_of(&s.json("/api/videos")).contains(&"Spät.mp4".to_string())
    });

    // A rename through the library moves the file the disk has.
    let r = post_json(
        &s,
        "/api/videos/Caf%C3%A9.mp4/rename",
        &serde_json::json!({"to": "Cafe"}),
    );
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    assert!(s.media().join("Cafe.mp4").is_file());
    assert!(!raw(b"Caf\xe9.mp4").exists());
    assert!(hidden_files(&s.media()).is_empty());
}
