//! `/videos/`: ranges, validators, HEAD and path safety against the real binary.

mod common;
use common::*;

fn server_with_file() -> (Server, Vec<u8>) {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("media");
    std::fs::create_dir_all(m.join("sub")).unwrap();
    // Bytes with a pattern, so any offset mistake shows.
    let bytes: Vec<u8> = (0..1_500_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(m.join("sub/clip file.mp4"), &bytes).unwrap();
    std::fs::write(m.join(".hidden.mp4"), b"secret").unwrap();
    std::fs::create_dir_all(m.join(".pimedia")).unwrap();
    std::fs::write(m.join(".pimedia/x.mp4"), b"secret").unwrap();
    std::fs::write(d.path().join("outside.mp4"), b"secret").unwrap();
    std::os::unix::fs::symlink(d.path().join("outside.mp4"), m.join("link.mp4")).unwrap();
    std::os::unix::fs::symlink(d.path(), m.join("linkdir")).unwrap();
    (Server::start_in(d, &[]), bytes)
}

const P: &str = "/videos/sub/clip%20file.mp4";

fn get_range(s: &Server, range: &str) -> reqwest::blocking::Response {
    s.get_with(P, &[("Range", range)])
}

#[test]
fn whole_file_with_validators() {
    let (s, bytes) = server_with_file();
    let r = s.get(P);
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "video/mp4");
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(h["content-length"], bytes.len().to_string().as_str());
    assert!(h.contains_key("etag") && h.contains_key("last-modified"));
    assert_eq!(r.bytes().unwrap().as_ref(), &bytes[..]);

    let head = s.head(P);
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-length"],
        bytes.len().to_string().as_str()
    );
    assert_eq!(head.headers()["etag"], h["etag"]);
}

#[test]
fn every_range_form() {
    let (s, bytes) = server_with_file();
    let len = bytes.len();
    let cases: &[(&str, usize, usize)] = &[
        ("bytes=0-0", 0, 0),
        ("bytes=100-1099", 100, 1099),
        ("bytes=1000000-", 1_000_000, len - 1),
        ("bytes=-500", len - 500, len - 1),
        ("bytes=1499000-9999999", 1_499_000, len - 1),
        ("bytes=10-19, 30-39", 10, 19),
    ];
    for (range, a, b) in cases {
        let r = get_range(&s, range);
        assert_eq!(r.status(), 206, "{range}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes {a}-{b}/{len}").as_str(),
            "{range}"
        );
        assert_eq!(
            r.headers()["content-length"],
            (b - a + 1).to_string().as_str()
        );
        assert_eq!(r.bytes().unwrap().as_ref(), &bytes[*a..=*b], "{range}");
    }
    for range in ["bytes=1500000-", "bytes=9999999-10000000", "bytes=-0"] {
        let r = get_range(&s, range);
        assert_eq!(r.status(), 416, "{range}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes */{len}").as_str()
        );
    }
    // Nonsense is ignored: the whole file.
    let r = get_range(&s, "pages=1-2");
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().unwrap().len(), len);
}

#[test]
fn conditional_requests() {
    let (s, bytes) = server_with_file();
    let first = s.get(P);
    let etag = header(&first, "etag");
    let lm = header(&first, "last-modified");
    let get = |headers: &[(&str, &str)]| {
        let mut req = s.client().get(s.url(P));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().unwrap()
    };
    let r = get(&[("If-None-Match", &etag)]);
    assert_eq!(r.status(), 304);
    assert!(r.bytes().unwrap().is_empty());
    assert_eq!(get(&[("If-None-Match", "\"other\"")]).status(), 200);
    assert_eq!(get(&[("If-Modified-Since", &lm)]).status(), 304);
    let long_ago = "Sat, 01 Jan 2000 00:00:00 GMT";
    assert_eq!(get(&[("If-Modified-Since", long_ago)]).status(), 200);
    // If-Range: the range only while the file is unchanged.
    assert_eq!(
        get(&[("Range", "bytes=0-9"), ("If-Range", &etag)]).status(),
        206
    );
    assert_eq!(
        get(&[("Range", "bytes=0-9"), ("If-Range", &lm)]).status(),
        206
    );
    let r = get(&[("Range", "bytes=0-9"), ("If-Range", "\"stale\"")]);
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().unwrap().len(), bytes.len());
}

#[test]
fn traversal_and_hidden_files_answer_404_and_leak_nothing() {
    let (s, _) = server_with_file();
    let paths = [
        "/videos/../outside.mp4",
        "/videos/sub/../../outside.mp4",
        "/videos/%2e%2e/outside.mp4",
        "/videos/%2E%2E%2Foutside.mp4",
        "/videos/sub%2f..%2f..%2foutside.mp4",
        "/videos/..%5coutside.mp4",
        "/videos/sub%5c..%5c..%5coutside.mp4",
        "/videos//etc/passwd",
        "/videos/%2fetc%2fpasswd",
        "/videos/sub/clip%20file.mp4%00.txt",
        "/videos/.hidden.mp4",
        "/videos/.pimedia/x.mp4",
        "/videos/link.mp4",
        "/videos/linkdir/outside.mp4",
        "/videos/sub",
        "/watch/../outside.mp4",
        "/watch/%2e%2e/outside.mp4",
        "/watch/.hidden.mp4",
    ];
    for p in paths {
        let answer = s.raw(&format!(
            "GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        ));
        assert!(answer.starts_with("HTTP/1.1 404"), "{p}: {answer}");
        assert!(!answer.contains("secret"), "{p} leaked");
    }
    let (_, page) = s.text("/");
    assert!(!page.contains(".hidden") && !page.contains("pimedia/x") && !page.contains("link.mp4"));
    let api = s.text("/api/videos").1;
    assert!(
        !api.contains("hidden") && !api.contains("link.mp4"),
        "{api}"
    );
}

#[test]
fn large_file_streams_in_full() {
    let d = tempfile::tempdir().unwrap();
    let m = d.path().join("media");
    std::fs::create_dir_all(&m).unwrap();
    let f = std::fs::File::create(m.join("big.mp4")).unwrap();
    f.set_len(64 << 20).unwrap();
    drop(f);
    let s = Server::start_in(d, &[]);
    let r = s.get("/videos/big.mp4");
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().unwrap().len(), 64 << 20);
}
