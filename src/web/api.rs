//! JSON endpoints: health and the library.

use std::sync::Arc;

use serde::Serialize;
use warp::Rejection;

use crate::library::Video;
use crate::profiles::Viewer;
use crate::App;

pub async fn healthz(app: Arc<App>) -> Result<warp::reply::Json, Rejection> {
    Ok(warp::reply::json(&app.health().await))
}

#[derive(Serialize)]
struct ApiVideo<'a> {
    path: &'a str,
    title: String,
    url: String,
    duration: Option<f64>,
    width: Option<u32>,
    height: Option<u32>,
    codecs: &'a [String],
    size: u64,
    modified: i64,
    state: &'static str,
    /// Percent converted, while converting.
    progress: Option<f64>,
    thumb: Option<String>,
    error: Option<&'a str>,
    /// Its smaller versions, made or on their way.
    versions: Vec<crate::app::VersionInfo>,
}

pub async fn videos(app: Arc<App>, viewer: Viewer) -> Result<warp::reply::Json, Rejection> {
    // A limited profile's: its folders only.
    let all: Vec<Video> = app
        .library
        .all()
        .into_iter()
        .filter(|v| viewer.sees(&v.path))
        .collect();
    let version_jobs = app.version_jobs();
    let out: Vec<ApiVideo> = all
        .iter()
        .map(|v| ApiVideo {
            path: &v.path,
            title: v.title(),
            url: app.video_url(&v.path),
            duration: v.meta.as_ref().and_then(|m| m.duration),
            width: v.meta.as_ref().and_then(|m| m.width),
            height: v.meta.as_ref().and_then(|m| m.height),
            codecs: v.meta.as_ref().map(|m| m.codecs.as_slice()).unwrap_or(&[]),
            size: v.size,
            modified: v.modified,
            state: app.intake.state_of(v).name(),
            progress: match app.intake.state_of(v) {
                crate::VideoState::Converting(p) => Some(p),
                _ => None,
            },
            thumb: v
                .thumb
                .map(|id| format!("/thumbs/{}.jpg", crate::library::poster_name(id))),
            error: v.error.as_deref(),
            versions: app.versions_of(&v.path, &version_jobs),
        })
        .collect();
    Ok(warp::reply::json(&out))
}
