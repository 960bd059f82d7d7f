//! What every route answers with: a page, "303 back", JSON or a page for
//! the same action, an error as a status and a sentence, the browser's id
//! cookie, links to the library's pages. Shared by the feature modules,
//! which use none of each other's.

use askama::Template;
use warp::http::{header, HeaderMap, Response, StatusCode};
use warp::{Rejection, Reply};

use crate::error::Error;
use crate::paths::encode_url_path;

/// Static assets are linked with this, so a release changes their URLs.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The cookie that tells one browser from another (its notices, its
/// reports, the device it is).
pub const BROWSER_COOKIE: &str = "pimedia_viewer";

/// A rendered page.
pub fn render(t: &impl Template) -> Result<warp::reply::Html<String>, Rejection> {
    t.render()
        .map(warp::reply::html)
        .map_err(|e| warp::reject::custom(Error::Internal(format!("template: {e}"))))
}

/// A rendered page with its status.
pub fn page_with_status(
    t: &impl Template,
    status: StatusCode,
) -> Result<warp::reply::Response, Rejection> {
    Ok(warp::reply::with_status(render(t)?, status).into_response())
}

/// "303 See Other": a form's way back to a page.
pub fn see_other(location: &str) -> warp::reply::Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .body(Default::default())
        .expect("valid response")
}

/// The library page of a folder.
pub fn folder_href(dir: &str) -> String {
    if dir.is_empty() {
        "/".into()
    } else {
        format!("/?dir={}", super::format::q(dir))
    }
}

/// The player page of a video.
pub fn watch_href(path: &str) -> String {
    format!("/watch/{}", encode_url_path(path))
}

/// JSON for scripts (`201` when `created`), a page to go back to for
/// forms; the error either way.
pub fn answer(
    wants_json: bool,
    result: Result<(serde_json::Value, String), Error>,
    created: bool,
) -> warp::reply::Response {
    match result {
        Ok((json, _)) if wants_json => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            warp::reply::with_status(warp::reply::json(&json), status).into_response()
        }
        Ok((_, back)) => see_other(&back),
        Err(e) if wants_json => json_error(&e),
        Err(e) => text_error(&e),
    }
}

/// Status for an error the user can meet.
pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::BadRequest(_) => StatusCode::BAD_REQUEST,
        Error::Unauthorized => StatusCode::UNAUTHORIZED,
        Error::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::Misdirected(_) => StatusCode::MISDIRECTED_REQUEST,
        Error::TooManyAttempts(_) | Error::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Error::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
        Error::Aborted => StatusCode::BAD_REQUEST,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::ChecksumMismatch => StatusCode::from_u16(460).expect("valid status"),
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error as JSON, `{"error": "<sentence>"}`, with its status.
pub fn json_error(e: &Error) -> warp::reply::Response {
    let body = serde_json::json!({ "error": e.to_string() });
    retry_after(
        e,
        warp::reply::with_status(warp::reply::json(&body), status_of(e)).into_response(),
    )
}

/// An error as a plain-text sentence, with its status.
pub fn text_error(e: &Error) -> warp::reply::Response {
    retry_after(e, text_reply(status_of(e), e.to_string()))
}

/// A 429 or a busy 503 says when to try again.
pub fn retry_after(e: &Error, mut resp: warp::reply::Response) -> warp::reply::Response {
    let secs = match e {
        Error::TooManyAttempts(secs) => *secs,
        Error::TooMany { retry_after, .. } | Error::Busy { retry_after, .. } => *retry_after,
        _ => return resp,
    };
    resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
    resp
}

/// Plain text for a status: what happened, in one sentence.
pub fn text_reply(status: StatusCode, message: String) -> warp::reply::Response {
    warp::reply::with_status(
        warp::reply::with_header(message + "\n", "content-type", "text/plain; charset=utf-8"),
        status,
    )
    .into_response()
}

/// A header's value as text, if it is there and printable.
pub fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// One cookie's value from the request's Cookie headers.
pub fn cookie_value(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The browser's id from its cookie, when it is one this server gives.
pub fn browser_id(h: &HeaderMap) -> Option<String> {
    cookie_value(h, BROWSER_COOKIE)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A new browser id as a `Set-Cookie` value.
pub fn new_browser_cookie() -> Option<header::HeaderValue> {
    browser_cookie(&crate::upload::random_id().ok()?)
}

/// The browser id `id` as a `Set-Cookie` value, kept a year.
pub fn browser_cookie(id: &str) -> Option<header::HeaderValue> {
    let cookie = format!("{BROWSER_COOKIE}={id}; Path=/; Max-Age=31536000; SameSite=Lax");
    header::HeaderValue::from_str(&cookie).ok()
}
