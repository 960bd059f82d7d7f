//! Path safety: the one place a path from a URL becomes a path on disk.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use percent_encoding::percent_decode_str;

/// Turns the percent-encoded tail of a URL into a file or folder inside
/// `root` (which must already be canonical). Anything that leaves the
/// root — `..`, encoded traversal, absolute paths, NUL, backslashes, a
/// symlink pointing outside — or names a dot entry gives `None`.
///
/// A URL may carry the raw bytes of a name that is not UTF-8 (`M%E4dchen`,
/// as nginx serves it); it names the same file as its readable name.
pub fn resolve(root: &Path, encoded: &str) -> Option<PathBuf> {
    let rel = url_relative(encoded)?;
    let real = on_disk(root, &rel).canonicalize().ok()?;
    let inside = real.strip_prefix(root).ok()?;
    // A symlink inside the root may still land on a dot entry (the state dir).
    if inside.components().any(|c| is_hidden(c.as_os_str())) {
        return None;
    }
    Some(real)
}

/// The library path a URL's percent-encoded tail names, as the library
/// lists it (a name that is not UTF-8 read as [`readable`] does), checked
/// as [`check_relative`] does; without touching the disk.
pub fn url_relative(encoded: &str) -> Option<String> {
    let bytes: Vec<u8> = percent_decode_str(encoded).collect();
    check_relative(&readable_path(&bytes))
}

/// Decodes and checks a relative path without touching the disk: the
/// result has only normal, visible components joined by `/`.
pub fn decode_relative(encoded: &str) -> Option<String> {
    let decoded = percent_decode_str(encoded).decode_utf8().ok()?;
    check_relative(&decoded)
}

/// Checks an already-decoded relative path (see [`decode_relative`]).
pub fn check_relative(decoded: &str) -> Option<String> {
    if decoded.contains('\0') || decoded.contains('\\') || decoded.starts_with('/') {
        return None;
    }
    let trimmed = decoded.trim_end_matches('/');
    if trimmed.is_empty() {
        return Some(String::new());
    }
    for part in trimmed.split('/') {
        if part.is_empty() || part.starts_with('.') || part.chars().any(char::is_control) {
            return None;
        }
    }
    // Belt and braces: the platform must see the same plain components.
    if Path::new(trimmed)
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    Some(trimmed.to_string())
}

/// Makes the folder `rel` (a [`check_relative`] path) inside `root` (which
/// must be canonical), one level at a time, each checked before the next
/// is made: a level that exists must be a folder that really lies inside
/// the root (a symlink out is `NotFound`, and nothing is created beyond
/// it). Returns the folder's real path. Blocking.
pub fn make_dirs_inside(root: &Path, rel: &str) -> std::io::Result<PathBuf> {
    let outside = |p: &Path| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "{} leads outside the media dir or is not a folder",
                p.display()
            ),
        )
    };
    let mut here = root.to_path_buf();
    for part in rel.split('/').filter(|p| !p.is_empty()) {
        let next = here.join(part);
        match std::fs::create_dir(&next) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        // Made or found: where it really is decides.
        let real = next.canonicalize()?;
        if !real.starts_with(root) || !real.is_dir() {
            return Err(outside(&next));
        }
        here = real;
    }
    Ok(here)
}

/// The name a file is listed under: its own when it is UTF-8, else its
/// bytes read as Windows-1252 (what an old disk's names most often are),
/// with control characters as `_`. Always the same for the same bytes, so
/// [`on_disk`] finds the file again.
pub fn readable(name: &OsStr) -> Cow<'_, str> {
    match name.to_str() {
        Some(s) => Cow::Borrowed(s),
        None => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(name.as_bytes());
            Cow::Owned(
                text.chars()
                    .map(|c| if c.is_control() { '_' } else { c })
                    .collect(),
            )
        }
    }
}

/// [`readable`] for each `/`-separated segment of raw path bytes.
fn readable_path(bytes: &[u8]) -> String {
    bytes
        .split(|b| *b == b'/')
        .map(|seg| readable(OsStr::from_bytes(seg)).into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether pimedia lists `name` under another name than its own (it is
/// not UTF-8).
pub fn is_aliased(name: &OsStr) -> bool {
    name.to_str().is_none()
}

/// The file on disk a library path names: `root/rel`, except that a
/// segment missing under its own name is looked for among the folder's
/// names that are not UTF-8 and read as it ([`readable`]). A name that
/// exists as written always wins. Blocking; it lists a folder only when a
/// segment is missing.
pub fn on_disk(root: &Path, rel: &str) -> PathBuf {
    let mut here = root.to_path_buf();
    for seg in rel.split('/').filter(|s| !s.is_empty()) {
        let plain = here.join(seg);
        if plain.symlink_metadata().is_ok() {
            here = plain;
            continue;
        }
        let alias = std::fs::read_dir(&here).ok().and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name())
                .find(|name| is_aliased(name) && readable(name) == seg)
        });
        here = here.join(alias.unwrap_or_else(|| seg.into()));
    }
    here
}

/// A relative path on disk (raw bytes, as [`on_disk`] gives it after the
/// root) as a URL path, each segment percent-encoded byte by byte: what
/// nginx needs to open a name that is not UTF-8.
pub fn encode_url_bytes(rel: &OsStr) -> String {
    rel.as_bytes()
        .split(|b| *b == b'/')
        .map(|s| percent_encoding::percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// Dot-files and dot-folders are never listed or served.
pub fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// A relative path (`a/b c.mp4`) as a URL path, each segment percent-encoded.
pub fn encode_url_path(rel: &str) -> String {
    rel.split('/')
        .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// What a URL path segment escapes.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\'')
    .add(b'&')
    .add(b'+')
    .add(b';')
    .add(b'=')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// Where `path` is after `moves` (each a file, or a folder ending in `/`).
pub fn renamed(path: &str, moves: &[(String, String)]) -> Option<String> {
    moves.iter().find_map(|(from, to)| {
        if path == from {
            Some(to.clone())
        } else if from.ends_with('/') {
            path.strip_prefix(from.as_str())
                .map(|rest| format!("{to}{rest}"))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_made_only_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("media")).unwrap();
        let root = d.path().join("media").canonicalize().unwrap();
        let away = d.path().join("away");
        std::fs::create_dir(&away).unwrap();
        std::os::unix::fs::symlink(&away, root.join("link")).unwrap();
        std::fs::write(root.join("file"), b"x").unwrap();
        for bad in ["link/new", "link/a/b", "file/new"] {
            let e = make_dirs_inside(&root, bad).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{bad}");
        }
        assert!(
            std::fs::read_dir(&away).unwrap().next().is_none(),
            "nothing outside"
        );
        let made = make_dirs_inside(&root, "Holidays/2026").unwrap();
        assert_eq!(made, root.join("Holidays/2026"));
        assert_eq!(make_dirs_inside(&root, "").unwrap(), root);
        // A symlink that stays inside is followed.
        std::os::unix::fs::symlink(root.join("Holidays"), root.join("hols")).unwrap();
        assert_eq!(
            make_dirs_inside(&root, "hols/2027").unwrap(),
            root.join("Holidays/2027")
        );
    }

    #[test]
    fn decoding_refuses_escapes() {
        for bad in [
            "..",
            "../etc/passwd",
            "a/../../b",
            "%2e%2e/x",
            "%2E%2E%2Fx",
            "a%2f..%2f..%2fb",
            "..%5cx",
            "a\\b",
            "%00",
            "a%00.mp4",
            "/etc/passwd",
            "%2fetc%2fpasswd",
            ".pimedia/cache.json",
            "a/.hidden.mp4",
            "a//b",
            "./a",
            "%ff",
        ] {
            assert_eq!(decode_relative(bad), None, "{bad}");
        }
        assert_eq!(decode_relative("a%20b/c.mp4").as_deref(), Some("a b/c.mp4"));
        assert_eq!(decode_relative("").as_deref(), Some(""));
        assert_eq!(decode_relative("dir/").as_deref(), Some("dir"));
    }

    #[test]
    fn encoding_round_trips() {
        let rel = "Kids & Co/Ep #1 100%?.mp4";
        let enc = encode_url_path(rel);
        assert!(!enc.contains(' ') && !enc.contains('#') && !enc.contains('?'));
        assert_eq!(decode_relative(&enc).as_deref(), Some(rel));
    }

    #[test]
    fn symlinks_out_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("media");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "x").unwrap();
        std::fs::write(root.join("ok.mp4"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link.mp4")).unwrap();
        let root = root.canonicalize().unwrap();
        assert!(resolve(&root, "ok.mp4").is_some());
        assert!(resolve(&root, "link.mp4").is_none());
        assert!(resolve(&root, "missing.mp4").is_none());
    }

    #[test]
    fn a_name_that_is_not_utf8_is_found_by_how_it_reads() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        let raw = OsStr::from_bytes(b"M\xe4dchen\x81.avi");
        assert_eq!(readable(raw), "Mädchen_.avi");
        assert_eq!(readable(OsStr::new("plain.mp4")), "plain.mp4");
        let dir = root.join(OsStr::from_bytes(b"Urlaub \xe9t\xe9"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join(raw), "x").unwrap();
        let rel = "Urlaub été/Mädchen_.avi";
        assert_eq!(on_disk(&root, rel), dir.join(raw));
        // The readable URL and the one with the disk's bytes both resolve.
        assert_eq!(resolve(&root, &encode_url_path(rel)), Some(dir.join(raw)));
        let bytes = on_disk(&root, rel);
        let tail = bytes.strip_prefix(&root).unwrap();
        let url = encode_url_bytes(tail.as_os_str());
        assert_eq!(url, "Urlaub%20%E9t%E9/M%E4dchen%81.avi");
        assert_eq!(resolve(&root, &url), Some(dir.join(raw)));
        // A name that exists as written wins over one that reads the same.
        std::fs::write(dir.join("Mädchen_.avi"), "y").unwrap();
        assert_eq!(on_disk(&root, rel), dir.join("Mädchen_.avi"));
        // A missing file is where it would be made.
        assert_eq!(on_disk(&root, "new.mp4"), root.join("new.mp4"));
    }
}
