//! Path safety: the one place a path from a URL becomes a path on disk.

use std::path::{Component, Path, PathBuf};

use percent_encoding::percent_decode_str;

/// Turns the percent-encoded tail of a URL into a file or folder inside
/// `root` (which must already be canonical). Anything that leaves the
/// root — `..`, encoded traversal, absolute paths, NUL, backslashes, a
/// symlink pointing outside — or names a dot entry gives `None`.
pub fn resolve(root: &Path, encoded: &str) -> Option<PathBuf> {
    let rel = decode_relative(encoded)?;
    let joined = root.join(&rel);
    let real = joined.canonicalize().ok()?;
    let inside = real.strip_prefix(root).ok()?;
    // A symlink inside the root may still land on a dot entry (the state dir).
    if inside.components().any(|c| is_hidden(c.as_os_str())) {
        return None;
    }
    Some(real)
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

/// Dot-files and dot-folders are never listed or served.
pub fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// A relative path (`a/b c.mp4`) as a URL path, each segment percent-encoded.
pub fn encode_url_path(rel: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const SEGMENT: &AsciiSet = &CONTROLS
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
    rel.split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

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
}
