//! `/static/`: the files of public/, compiled into the binary.

use warp::http::{header, HeaderMap, Response, StatusCode};
use warp::Rejection;

use crate::error::Error;

struct Asset {
    name: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $mime:literal) => {
        Asset {
            name: $name,
            mime: $mime,
            bytes: include_bytes!(concat!("../../public/", $name)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", "application/javascript; charset=utf-8"),
    asset!("player.js", "application/javascript; charset=utf-8"),
    asset!("upload.js", "application/javascript; charset=utf-8"),
    asset!("jobs.js", "application/javascript; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("icon.png", "image/png"),
    asset!("phone.svg", "image/svg+xml"),
    asset!("apple-touch-icon.png", "image/png"),
    // A second of black, played muted in a loop to keep a phone's screen on
    // where there is no Wake Lock (pages not served over HTTPS).
    asset!("awake.mp4", "video/mp4"),
];

/// Pages link assets as `/static/name?v=<version>`, so a release changes
/// the URL and the browser may keep each copy for a day without asking.
pub async fn serve(
    tail: warp::path::Tail,
    headers: HeaderMap,
) -> Result<warp::reply::Response, Rejection> {
    serve_named(tail.as_str(), &headers)
}

/// The icons browsers ask for at the root without being told (old TV
/// browsers: `/favicon.ico`; iOS: `/apple-touch-icon.png`).
pub async fn root_icon(
    name: &'static str,
    headers: HeaderMap,
) -> Result<warp::reply::Response, Rejection> {
    let asset = if name == "favicon.ico" {
        "icon.png"
    } else {
        name
    };
    serve_named(asset, &headers)
}

fn serve_named(name: &str, headers: &HeaderMap) -> Result<warp::reply::Response, Rejection> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or(Error::NotFound)?;
    let etag = format!("\"{}-{}\"", env!("CARGO_PKG_VERSION"), asset.bytes.len());
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, asset.mime)
        .header(header::CACHE_CONTROL, "public, max-age=86400")
        .header(header::ETAG, &etag);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let resp = if fresh {
        builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Default::default())
    } else {
        builder.body(asset.bytes.into())
    };
    Ok(resp.expect("valid response"))
}
