//! `/videos/`: the library's bytes with ranges and cache validators, for
//! running without nginx. Reads in large chunks; never buffers a range.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use warp::http::{header, HeaderMap, Method, Response, StatusCode};
use warp::reply::Reply;

use crate::error::Error;

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

fn etag_matches(list: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    list.split(',')
        .any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

/// Serves `file` (already resolved inside the media dir) for GET or HEAD.
pub async fn serve_file(
    file: &Path,
    method: &Method,
    headers: &HeaderMap,
) -> Result<warp::reply::Response, Error> {
    let mut f = tokio::fs::File::open(file).await?;
    let md = f.metadata().await?;
    if !md.is_file() {
        return Err(Error::NotFound);
    }
    let len = md.len();
    let modified = md.modified().unwrap_or(UNIX_EPOCH);
    // HTTP dates have whole seconds; compare at that precision.
    let modified_secs = UNIX_EPOCH
        + Duration::from_secs(
            modified
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
        );
    let etag = etag_for(modified, len);
    let last_modified = httpdate::fmt_http_date(modified_secs);

    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::LAST_MODIFIED, &last_modified)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, crate::media::content_type(file));

    let not_modified = match super::header_str(headers, header::IF_NONE_MATCH) {
        Some(inm) => etag_matches(inm, &etag),
        None => super::header_str(headers, header::IF_MODIFIED_SINCE)
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .is_some_and(|since| modified_secs <= since),
    };
    if not_modified {
        return Ok(builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Default::default())
            .expect("valid response"));
    }

    let range_applies = match super::header_str(headers, header::IF_RANGE) {
        None => true,
        Some(v) if v.trim_start().starts_with('"') || v.trim_start().starts_with("W/") => {
            // If-Range needs a strong match.
            !v.trim_start().starts_with("W/") && v.trim() == etag
        }
        Some(v) => httpdate::parse_http_date(v).is_ok_and(|d| d == modified_secs),
    };
    let range = match super::header_str(headers, header::RANGE) {
        Some(r) if range_applies => parse_range(r, len),
        _ => ByteRange::Full,
    };
    let (start, count) = match range {
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
            return Ok(builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .header(header::CONTENT_LENGTH, "0")
                .body(Default::default())
                .expect("valid response"));
        }
    };
    let builder = builder.header(header::CONTENT_LENGTH, count);
    if method == Method::HEAD {
        return Ok(builder.body(Default::default()).expect("valid response"));
    }
    if start > 0 {
        f.seek(std::io::SeekFrom::Start(start)).await?;
    }
    f.set_max_buf_size(CHUNK);
    let stream = ReaderStream::with_capacity(f.take(count), CHUNK);
    let mut resp = warp::reply::stream(stream).into_response();
    let (parts, _) = builder.body(()).expect("valid response").into_parts();
    *resp.status_mut() = parts.status;
    *resp.headers_mut() = parts.headers;
    Ok(resp)
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

    #[test]
    fn etags() {
        let t = UNIX_EPOCH + Duration::new(100, 5);
        let e = etag_for(t, 255);
        assert_eq!(e, "\"64.5-ff\"");
        assert!(etag_matches("\"x\", \"64.5-ff\"", &e));
        assert!(etag_matches("W/\"64.5-ff\"", &e));
        assert!(etag_matches("*", &e));
        assert!(!etag_matches("\"64.5-fe\"", &e));
    }
}
