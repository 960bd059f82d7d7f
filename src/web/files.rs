//! `/videos/`: the library's bytes with ranges and cache validators, for
//! running without nginx. Reads in large chunks; never buffers a range.
//! And the bytes made of a video that pimedia serves even behind nginx:
//! posters, a video with another audio language first.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use warp::http::{header, HeaderMap, Method, Response, StatusCode};
use warp::reply::Reply;

use headers::{ETag, HeaderMapExt, IfModifiedSince, IfNoneMatch, IfRange, LastModified};

use crate::error::Context;
use crate::error::Error;
use crate::profiles::{Seen, Viewer};
use crate::App;

/// Bytes read from disk per chunk; warp::fs's 8 KiB costs a syscall and a
/// blocking-pool hop per 8 KiB.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    Full,
    /// Inclusive first and last byte.
    Part(u64, u64),
    Unsatisfiable,
}

/// Parses a `Range` header against a file of `len` bytes. Syntax that is
/// not understood means the whole file (RFC 9110 lets a server ignore it);
/// of several ranges only the first is served.
pub fn parse_range(value: &str, len: u64) -> ByteRange {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return ByteRange::Full;
    };
    let first = spec.split(',').next().unwrap_or("").trim();
    let Some((a, b)) = first.split_once('-') else {
        return ByteRange::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (a.is_empty(), b.is_empty()) {
        (true, true) => ByteRange::Full,
        (true, false) => match num(b) {
            None => ByteRange::Full,
            Some(0) => ByteRange::Unsatisfiable,
            Some(_) if len == 0 => ByteRange::Unsatisfiable,
            Some(n) => ByteRange::Part(len.saturating_sub(n), len - 1),
        },
        (false, _) => {
            let Some(start) = num(a) else {
                return ByteRange::Full;
            };
            let end = if b.is_empty() {
                u64::MAX
            } else {
                match num(b) {
                    Some(e) if e >= start => e,
                    _ => return ByteRange::Full,
                }
            };
            if start >= len {
                ByteRange::Unsatisfiable
            } else {
                ByteRange::Part(start, end.min(len - 1))
            }
        }
    }
}

/// `"<mtime secs>.<nanos>-<size>"` in hex: changes whenever the file does.
pub fn etag_for(modified: SystemTime, len: u64) -> String {
    let d = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("\"{:x}.{:x}-{:x}\"", d.as_secs(), d.subsec_nanos(), len)
}

/// What a client may hold of a file, to ask "has it changed?".
struct Validators {
    etag: ETag,
    /// Whole seconds, as HTTP dates have them.
    last_modified: SystemTime,
}

impl Validators {
    fn of(modified: SystemTime, len: u64) -> Validators {
        let secs = modified
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Validators {
            etag: etag_for(modified, len)
                .parse()
                .expect("a quoted hex string is an entity tag"),
            last_modified: UNIX_EPOCH + Duration::from_secs(secs),
        }
    }

    /// `If-None-Match` (or, without it, `If-Modified-Since`) says the
    /// client's copy is current: answer 304.
    fn not_modified(&self, headers: &HeaderMap) -> bool {
        match headers.typed_get::<IfNoneMatch>() {
            Some(inm) => !inm.precondition_passes(&self.etag),
            None => headers
                .typed_get::<IfModifiedSince>()
                .is_some_and(|since| !since.is_modified(self.last_modified)),
        }
    }

    /// The range to send: the `Range` asked for, unless an `If-Range`
    /// says the client's copy is another version (or cannot be read).
    fn range(&self, headers: &HeaderMap, len: u64) -> ByteRange {
        // RFC 9110: the same version only on an exact match, a strong
        // ETag or the very Last-Modified date (the crate's `is_modified`
        // would also take any later date).
        let still_same = match headers.typed_try_get::<IfRange>() {
            Ok(None) => true,
            Ok(Some(r)) => {
                r == IfRange::etag(self.etag.clone()) || r == IfRange::date(self.last_modified)
            }
            Err(_) => false,
        };
        match super::reply::header_str(headers, header::RANGE) {
            Some(r) if still_same => parse_range(r, len),
            _ => ByteRange::Full,
        }
    }
}

/// Serves `file` (already resolved inside the media dir) for GET or HEAD.
pub async fn serve_file(
    file: &Path,
    method: &Method,
    headers: &HeaderMap,
) -> Result<warp::reply::Response, Error> {
    let shown = file.display();
    let mut f = tokio::fs::File::open(file).await.at(&shown)?;
    let md = f.metadata().await.at(&shown)?;
    if !md.is_file() {
        return Err(Error::NotFound);
    }
    let len = md.len();
    let v = Validators::of(md.modified().unwrap_or(UNIX_EPOCH), len);
    let mut builder = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, crate::media::content_type(file));
    {
        let h = builder.headers_mut().expect("a fresh builder");
        h.typed_insert(v.etag.clone());
        h.typed_insert(LastModified::from(v.last_modified));
    }
    if v.not_modified(headers) {
        return Ok(empty(builder.status(StatusCode::NOT_MODIFIED)));
    }
    let (start, count) = match v.range(headers, len) {
        ByteRange::Full => {
            builder = builder.status(StatusCode::OK);
            (0, len)
        }
        ByteRange::Part(a, b) => {
            builder = builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {a}-{b}/{len}"));
            (a, b - a + 1)
        }
        ByteRange::Unsatisfiable => {
            return Ok(empty(
                builder
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                    .header(header::CONTENT_LENGTH, "0"),
            ));
        }
    };
    let builder = builder.header(header::CONTENT_LENGTH, count);
    if method == Method::HEAD {
        return Ok(empty(builder));
    }
    if start > 0 {
        f.seek(std::io::SeekFrom::Start(start)).await.at(&shown)?;
    }
    f.set_max_buf_size(CHUNK);
    let stream = ReaderStream::with_capacity(f.take(count), CHUNK);
    let mut resp = warp::reply::stream(stream).into_response();
    let (parts, _) = builder.body(()).expect("valid response").into_parts();
    *resp.status_mut() = parts.status;
    *resp.headers_mut() = parts.headers;
    Ok(resp)
}

/// `GET /videos/{path}`: the library's bytes.
pub async fn videos(
    tail: warp::path::Tail,
    method: Method,
    headers: HeaderMap,
    app: Arc<App>,
) -> Result<warp::reply::Response, warp::Rejection> {
    let file = app.household_file(tail.as_str()).await;
    Ok(serve_file(&file.ok_or(Error::NotFound)?, &method, &headers).await?)
}

/// `GET /audio/{n}/{path}`: the MP4 with its audio track `n` first.
pub async fn audio(
    track: usize,
    method: Method,
    headers: HeaderMap,
    app: Arc<App>,
    seen: Seen,
) -> Result<warp::reply::Response, warp::Rejection> {
    let video = app.file_of(&seen).await.ok_or(Error::NotFound)?;
    let file = app.audio_first(seen.path(), video, track).await?;
    let mut resp = serve_file(&file, &method, &headers).await?;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("video/mp4"),
    );
    Ok(resp)
}

/// `GET /thumbs/{id}.jpg`: a poster of a video the viewer sees.
pub async fn poster(
    name: String,
    method: Method,
    headers: HeaderMap,
    app: Arc<App>,
    viewer: Viewer,
) -> Result<warp::reply::Response, warp::Rejection> {
    let id = name.strip_suffix(".jpg").ok_or(Error::NotFound)?;
    let file = app.poster_for(&viewer, id).ok_or(Error::NotFound)?;
    let mut resp = serve_file(&file, &method, &headers).await?;
    // The id changes whenever the video does.
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(resp)
}

fn empty(builder: warp::http::response::Builder) -> warp::reply::Response {
    builder.body(Default::default()).expect("valid response")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ByteRange::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Part(0, 99));
        assert_eq!(parse_range("bytes=900-", 1000), Part(900, 999));
        assert_eq!(parse_range("bytes=-100", 1000), Part(900, 999));
        assert_eq!(parse_range("bytes=-5000", 1000), Part(0, 999));
        assert_eq!(parse_range("bytes=990-5000", 1000), Part(990, 999));
        assert_eq!(parse_range("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 1000), Full);
        assert_eq!(parse_range("items=0-1", 1000), Full);
        assert_eq!(parse_range("bytes=abc", 1000), Full);
        assert_eq!(parse_range("bytes=0-9, 20-29", 1000), Part(0, 9));
        assert_eq!(parse_range("bytes=+1-2", 1000), Full);
    }

    fn with(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        h
    }

    #[test]
    fn etags_and_304() {
        let t = UNIX_EPOCH + Duration::new(100, 5);
        assert_eq!(etag_for(t, 255), "\"64.5-ff\"");
        let v = Validators::of(t, 255);
        for current in ["\"x\", \"64.5-ff\"", "W/\"64.5-ff\"", "*"] {
            assert!(v.not_modified(&with("if-none-match", current)), "{current}");
        }
        assert!(!v.not_modified(&with("if-none-match", "\"64.5-fe\"")));
        let at = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(100));
        assert!(v.not_modified(&with("if-modified-since", &at)));
        let before = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(99));
        assert!(!v.not_modified(&with("if-modified-since", &before)));
    }

    #[test]
    fn if_range_keeps_the_range_only_for_the_same_version() {
        let v = Validators::of(UNIX_EPOCH + Duration::new(100, 5), 1000);
        let ranged = |if_range: &str| {
            let mut h = with("range", "bytes=0-9");
            h.insert("if-range", if_range.parse().unwrap());
            v.range(&h, 1000)
        };
        assert_eq!(v.range(&with("range", "bytes=0-9"), 1000), Part(0, 9));
        assert_eq!(ranged("\"64.5-3e8\""), Part(0, 9));
        assert_eq!(
            ranged("W/\"64.5-3e8\""),
            Full,
            "If-Range needs a strong match"
        );
        assert_eq!(ranged("\"64.5-3e7\""), Full);
        let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(100));
        assert_eq!(ranged(&date), Part(0, 9));
        let older = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(50));
        assert_eq!(ranged(&older), Full);
        let later = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(150));
        assert_eq!(ranged(&later), Full, "If-Range needs the exact date");
        assert_eq!(ranged("not a date"), Full);
    }
}
