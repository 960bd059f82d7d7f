//! Property tests (proptest, bounded so `cargo test` stays fast) for the
//! parsers that see hostile input: paths, names, ranges, tus headers, picture subtitle streams.

mod common;
use common::*;

use pimedia::paths::resolve;
use pimedia::upload::safe_name;
use pimedia::upload::tus::{parse_metadata, Checksum};
use pimedia::web::{parse_range, ByteRange};
use proptest::prelude::*;

/// Strings made mostly of the characters path tricks are made of.
fn tricky() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("..".to_string()),
            Just("/".to_string()),
            Just(".".to_string()),
            Just("%2e".to_string()),
            Just("%2f".to_string()),
            Just("%5c".to_string()),
            Just("%00".to_string()),
            Just("\\".to_string()),
            Just(".pimedia".to_string()),
            Just("link".to_string()),
            Just("out".to_string()),
            Just("a.mp4".to_string()),
            Just("Kids".to_string()),
            "[a-zA-Z0-9 %._-]{0,6}",
        ],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_path_never_leaves_the_media_dir_nor_names_a_dot_entry(tail in tricky()) {
        let (root, _keep) = media_root();
        if let Some(p) = resolve(&root, &tail) {
            prop_assert!(p.starts_with(&root), "{tail:?} -> {p:?}");
            let inside = p.strip_prefix(&root).unwrap();
            prop_assert!(
                !inside.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.')),
                "{tail:?} -> {p:?}"
            );
        }
    }

    #[test]
    fn safe_names_are_never_empty_long_hidden_or_paths(raw in "\\PC{0,300}|[./\\ \x00-\x1f]{0,20}") {
        let name = safe_name(&raw);
        prop_assert!(!name.is_empty());
        prop_assert!(name.len() <= 255, "{} bytes", name.len());
        prop_assert!(!name.contains('/') && !name.contains('\\') && !name.contains('\0'));
        prop_assert!(!name.starts_with('.'), "{name:?}");
    }

    #[test]
    fn a_range_never_reaches_outside_the_file(
        value in "(bytes=)?[0-9]{0,21}-?[0-9]{0,21}(,[0-9-]{0,8})?|\\PC{0,30}",
        len in 0u64..5_000_000_000,
    ) {
        match parse_range(&value, len) {
            ByteRange::Part(a, b) => prop_assert!(a <= b && b < len, "{value:?} on {len}: {a}-{b}"),
            ByteRange::Full | ByteRange::Unsatisfiable => {}
        }
    }

    #[test]
    fn tus_metadata_and_checksums_never_panic(meta in "\\PC{0,80}", sum in "(sha1|sha256|md5)? ?[A-Za-z0-9+/=!]{0,50}") {
        if let Ok(m) = parse_metadata(&meta) {
            prop_assert!(m.keys().all(|k| !k.is_empty() && !k.contains(',') && !k.contains(' ')));
        }
        let _ = Checksum::parse(&sum);
    }
}

/// A canonical media dir with a file, a folder, the state dir, and a
/// symlink out of it (made once per test binary).
fn media_root() -> (std::path::PathBuf, ()) {
    static ROOT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let root = ROOT.get_or_init(|| {
        let d = tempfile::tempdir().unwrap().keep();
        let media = d.join("media");
        std::fs::create_dir_all(media.join("Kids")).unwrap();
        std::fs::create_dir_all(media.join(".pimedia")).unwrap();
        std::fs::create_dir_all(d.join("out")).unwrap();
        std::fs::write(media.join("a.mp4"), "x").unwrap();
        std::fs::write(media.join(".pimedia/secret"), "x").unwrap();
        std::os::unix::fs::symlink(d.join("out"), media.join("link")).unwrap();
        std::os::unix::fs::symlink(media.join(".pimedia"), media.join("Kids/state")).unwrap();
        media.canonicalize().unwrap()
    });
    (root.clone(), ())
}

/// `filename a.mp4`.
const NAME: &str = "filename YS5tcDQ=";

/// A tus creation request with these header values, as a client sent them.
fn tus_create(s: &Server, length: &str, metadata: &str) -> reqwest::blocking::Response {
    s.post_with(
        "/uploads/",
        &[
            ("tus-resumable", "1.0.0"),
            ("upload-length", length),
            ("upload-metadata", metadata),
        ],
    )
}

/// Ten bytes sent to a tus upload with these header values.
fn tus_patch(
    s: &Server,
    location: &str,
    offset: &str,
    checksum: Option<&str>,
) -> reqwest::blocking::Response {
    let mut req = s
        .client()
        .patch(s.url(location))
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset);
    if let Some(c) = checksum {
        req = req.header("upload-checksum", c);
    }
    req.body("0123456789").send().unwrap()
}

/// Malformed tus headers over HTTP: 400 with a sentence, never a crash.
#[test]
fn malformed_tus_headers_are_refused_with_400() {
    let s = Server::start(&[]);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 40,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let create = tus_create(&s, "10", NAME);
    assert_eq!(create.status(), 201);
    let location = header(&create, "location");
    // Not a number, negative, or past u64 (a first digit of 1-9, so that
    // 21 zeros, which is 0 and a fine length, is never drawn).
    let bad = "[!-/:-~][ -~]{0,20}|-[0-9]{1,5}|[1-9][0-9]{20,24}";
    runner
        .run(
            &(bad, bad, "[!*]{1,10} [!*]{0,10}"),
            |(length, offset, meta)| {
                let r = tus_create(&s, &length, NAME);
                prop_assert_eq!(r.status(), 400, "Upload-Length {:?}", length);
                let r = tus_create(&s, "10", &meta);
                prop_assert_eq!(r.status(), 400, "Upload-Metadata {:?}", meta);
                let r = tus_patch(&s, &location, &offset, None);
                prop_assert_eq!(r.status(), 400, "Upload-Offset {:?}", offset);
                let r = tus_patch(&s, &location, "0", Some(&format!("md5 {offset}")));
                prop_assert_eq!(r.status(), 400, "Upload-Checksum md5 {:?}", offset);
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(s.json("/healthz")["videos"], 0, "still answering");
}

/// A stream of `kind` with a language tag as a file might say it.
fn tagged(index: u32, kind: &str, codec: &str, tag: Option<String>) -> pimedia::media::Stream {
    pimedia::media::Stream {
        index,
        kind: kind.into(),
        codec: codec.into(),
        width: Some(320),
        height: Some(240),
        language: tag,
        title: None,
        attached_pic: false,
        default: false,
        forced: false,
        channels: Some(2),
        duration: Some(5.0),
        format: Default::default(),
    }
}

proptest! {
    #![proptest_config(config())]

    /// Whatever a file's tags say, each piece of a name made from them is
    /// 1–16 of `[a-z0-9-]`, and every subtitle file the plan names is a
    /// plain name beside the MP4 that the placing function takes.
    #[test]
    fn tags_never_shape_a_path(
        tags in proptest::collection::vec(
            proptest::option::of(prop_oneof![
                tricky(),
                Just("x/../../etc".to_string()),
                Just("<img src=x onerror=alert(1)>".to_string()),
                any::<String>(),
                "[a-zA-Z-]{1,20}",
            ]),
            1..6,
        )
    ) {
        use pimedia::media::{plan, tags::name_part, Plan, Probe, Target};
        for t in tags.iter().flatten() {
            let part = name_part(t, "sub", 7);
            prop_assert!(!part.is_empty() && part.len() <= 16, "{:?} -> {:?}", t, part);
            prop_assert!(
                part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{:?} -> {:?}", t, part
            );
        }
        let mut streams = vec![
            tagged(0, "video", "h264", None),
            tagged(1, "audio", "aac", tags[0].clone()),
        ];
        for (i, t) in tags.iter().enumerate() {
            streams.push(tagged(2 + i as u32, "subtitle", "subrip", t.clone()));
        }
        let probe = Probe { duration: Some(5.0), format_name: "matroska,webm".into(), streams, moov_first: None, title: None, created: None };
        let p = plan(&probe, &Target::default(), true).unwrap();
        prop_assert_eq!(p.subtitles.len(), tags.len());
        let out = std::path::Path::new("/media/Films/Film.mp4");
        let mut names = std::collections::BTreeSet::new();
        for s in &p.subtitles {
            let name = Plan::subtitle_name(out, &s.suffix);
            prop_assert!(pimedia::fsutil::checked_name(&name).is_ok(), "{:?}", name);
            prop_assert!(name.starts_with("Film.") && name.ends_with(".vtt"), "{:?}", name);
            prop_assert!(!name.contains(['<', '>', '"', '\'', '&', ' ']), "{:?}", name);
            prop_assert!(names.insert(name.clone()), "two subtitles named {:?}", name);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// A picture subtitle stream is the file's word: whatever its bytes,
    /// the decoders end without a panic, every picture they hand on is as
    /// big as it says, and a picture subtitle track's name is as safe as
    /// a text track's.
    #[test]
    fn picture_subtitle_streams_never_panic_the_decoders(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        tag in proptest::option::of(prop_oneof![tricky(), any::<String>()]),
    ) {
        use pimedia::media::{picture_tracks, pgs, vobsub, Probe};
        let whole = |c: &pgs::Cue| {
            c.pictures.iter().all(|p| p.ink.len() == (p.width * p.height) as usize)
        };
        // As found, and behind the markers each format starts with.
        let mut sup = b"PG".to_vec();
        sup.extend_from_slice(&bytes);
        let mut ps = vec![0, 0, 1, 0xbd];
        ps.extend_from_slice(&bytes);
        // And a real stream with the bytes written over part of it.
        let ink = vec![1u8; 64 * 16];
        let shown = pgs::write::Shown { start: 1.0, end: 2.0, x: 10, y: 900, width: 64, height: 16, ink: &ink, forced: false };
        let mut real = pgs::write::sup((1920, 1080), &[shown]);
        let at = bytes.first().map_or(0, |b| *b as usize % real.len());
        for (i, b) in bytes.iter().skip(1).take(16).enumerate() {
            if let Some(x) = real.get_mut(at + i) {
                *x = *b;
            }
        }
        for input in [&bytes, &sup, &real] {
            if let Ok(cues) = pgs::cues(input) {
                prop_assert!(cues.iter().all(whole));
            }
        }
        for input in [&bytes, &ps] {
            if let Ok(cues) = vobsub::cues(input, (720, 576)) {
                prop_assert!(cues.iter().all(whole));
            }
        }
        let streams = vec![
            tagged(0, "video", "h264", None),
            tagged(1, "subtitle", "hdmv_pgs_subtitle", tag.clone()),
            tagged(2, "subtitle", "dvd_subtitle", tag),
        ];
        let probe = Probe { duration: Some(5.0), format_name: "matroska,webm".into(), streams, moov_first: None, title: None, created: None };
        for t in picture_tracks(&probe) {
            let suffix = t.suffix.unwrap_or_default();
            prop_assert!(
                suffix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'),
                "{:?}", suffix
            );
            prop_assert!(!suffix.contains(".."), "{:?}", suffix);
        }
    }
}
