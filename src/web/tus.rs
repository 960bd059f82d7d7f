//! `/uploads/`: the tus 1.0.0 protocol over the upload module's `Tus`.

use std::sync::Arc;

use warp::http::{header, HeaderMap, Response, StatusCode};
use warp::Reply;

use super::door::Caller;
use super::reply::{header_str, status_of};
use crate::error::Error;
use crate::upload::tus::{self, Checksum};
use crate::App;

type Reply_ = Result<warp::reply::Response, warp::Rejection>;

fn base(status: StatusCode) -> warp::http::response::Builder {
    Response::builder()
        .status(status)
        .header("Tus-Resumable", tus::VERSION)
        .header(header::CACHE_CONTROL, "no-store")
}

fn error(e: &Error) -> warp::reply::Response {
    let mut b = base(status_of(e)).header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
    if matches!(e, Error::ChecksumMismatch) {
        // 460 has no standard reason phrase; hyper would print "<none>".
        b = b.extension(hyper::ext::ReasonPhrase::from_static(b"Checksum Mismatch"));
    }
    b.body(format!("{e}\n").into()).expect("valid response")
}

/// A header that must be a non-negative integer: digits only (no sign,
/// no spaces), as tus says.
fn number(h: &HeaderMap, name: &str) -> Option<u64> {
    let v = header_str(h, name)?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Every request but OPTIONS must speak our version, and be allowed to upload.
fn precheck(app: &App, h: &HeaderMap, caller: &Caller) -> Option<warp::reply::Response> {
    if header_str(h, "tus-resumable") != Some(tus::VERSION) {
        return Some(
            base(StatusCode::PRECONDITION_FAILED)
                .header("Tus-Version", tus::VERSION)
                .body("This server speaks tus 1.0.0: send Tus-Resumable: 1.0.0.\n".into())
                .expect("valid response"),
        );
    }
    if let Err(e) = caller.permit(app) {
        return Some(error(&e));
    }
    None
}

pub async fn options(app: Arc<App>) -> Reply_ {
    let mut b = base(StatusCode::NO_CONTENT)
        .header("Tus-Version", tus::VERSION)
        .header("Tus-Extension", tus::EXTENSIONS)
        .header("Tus-Checksum-Algorithm", tus::CHECKSUMS);
    if let Some(max) = app.config.max_upload {
        b = b.header("Tus-Max-Size", max);
    }
    Ok(b.body(Default::default()).expect("valid response"))
}

pub async fn create(app: Arc<App>, h: HeaderMap, caller: Caller) -> Reply_ {
    if let Some(r) = precheck(&app, &h, &caller) {
        return Ok(r);
    }
    if h.contains_key("upload-defer-length") {
        return Ok(error(&Error::BadRequest(
            "Upload-Defer-Length is not supported: send Upload-Length.".into(),
        )));
    }
    let Some(length) = number(&h, "upload-length") else {
        return Ok(error(&Error::BadRequest(
            "Upload-Length is missing or not a number.".into(),
        )));
    };
    let meta = match tus::parse_metadata(header_str(&h, "upload-metadata").unwrap_or("")) {
        Ok(m) => m,
        Err(why) => {
            return Ok(error(&Error::BadRequest(format!(
                "Upload-Metadata must be 'key base64value' pairs: {why}."
            ))))
        }
    };
    match app.tus.create(length, &meta).await {
        Ok(u) => Ok(base(StatusCode::CREATED)
            .header(header::LOCATION, format!("/uploads/{}", u.id))
            .header("Upload-Offset", "0")
            .header(
                "Upload-Expires",
                httpdate::fmt_http_date(
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(u.expires()),
                ),
            )
            .body(Default::default())
            .expect("valid response")),
        Err(e) => Ok(error(&e)),
    }
}

pub async fn head(id: String, app: Arc<App>, h: HeaderMap, caller: Caller) -> Reply_ {
    if let Some(r) = precheck(&app, &h, &caller) {
        return Ok(r);
    }
    match app.tus.get(&id) {
        Some(u) => Ok(base(StatusCode::OK)
            .header("Upload-Offset", u.offset)
            .header("Upload-Length", u.length)
            .body(Default::default())
            .expect("valid response")),
        None => Ok(base(StatusCode::NOT_FOUND)
            .body(Default::default())
            .expect("valid response")),
    }
}

pub async fn patch<S, B>(id: String, app: Arc<App>, h: HeaderMap, caller: Caller, body: S) -> Reply_
where
    S: futures_util::Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: bytes::Buf,
{
    if let Some(r) = precheck(&app, &h, &caller) {
        return Ok(r);
    }
    if header_str(&h, "content-type") != Some("application/offset+octet-stream") {
        return Ok(error(&Error::UnsupportedType(
            "A PATCH must have Content-Type: application/offset+octet-stream.".into(),
        )));
    }
    let Some(offset) = number(&h, "upload-offset") else {
        return Ok(error(&Error::BadRequest(
            "Upload-Offset is missing or not a number.".into(),
        )));
    };
    let checksum = match header_str(&h, "upload-checksum") {
        None => None,
        Some(v) => match Checksum::parse(v) {
            Some(c) => Some(c),
            None => {
                return Ok(error(&Error::BadRequest(format!(
                    "Upload-Checksum must be 'sha1 <base64>' or 'sha256 <base64>', not '{v}'."
                ))))
            }
        },
    };
    let viewer = caller.browser.clone();
    match app
        .tus
        .patch(&id, offset, checksum, viewer.as_deref(), Box::pin(body))
        .await
    {
        Ok((offset, _)) => Ok(base(StatusCode::NO_CONTENT)
            .header("Upload-Offset", offset)
            .body(Default::default())
            .expect("valid response")),
        Err(e) => Ok(error(&e)),
    }
}

pub async fn delete(id: String, app: Arc<App>, h: HeaderMap, caller: Caller) -> Reply_ {
    if let Some(r) = precheck(&app, &h, &caller) {
        return Ok(r);
    }
    match app.tus.delete(&id).await {
        Ok(()) => Ok(base(StatusCode::NO_CONTENT)
            .body(Default::default())
            .expect("valid response")),
        Err(e) => Ok(error(&e).into_response()),
    }
}
