//! `/api/positions/{path}`: where a video was left, for every device, as
//! the browser's profile sees it (its own, else the household's).

use std::sync::Arc;

use serde::Deserialize;
use warp::Reply;

use crate::error::Error;
use crate::positions::Position;
use crate::profiles::Seen;
use crate::App;

#[derive(Deserialize)]
pub struct Update {
    position: f64,
    duration: Option<f64>,
}

/// A video of the library's, not a folder nor a file beside one.
fn video_path(app: &App, seen: &Seen) -> Result<String, Error> {
    app.library.get(seen.path()).ok_or(Error::NotFound)?;
    Ok(seen.path().to_string())
}

pub async fn get(app: Arc<App>, seen: Seen) -> Result<warp::reply::Response, warp::Rejection> {
    let rel = video_path(&app, &seen)?;
    let p = app
        .positions
        .get(seen.viewer().whose(), &rel)
        .unwrap_or(Position {
            position: 0.0,
            duration: None,
            updated: 0,
            seq: 0,
        });
    Ok(warp::reply::json(&p).into_response())
}

/// PUT from the player, or POST (navigator.sendBeacon) as the page closes.
pub async fn put(
    app: Arc<App>,
    seen: Seen,
    body: bytes::Bytes,
) -> Result<warp::reply::Response, warp::Rejection> {
    let rel = video_path(&app, &seen)?;
    let u: Update = serde_json::from_slice(&body).map_err(|_| {
        Error::BadRequest(r#"Send JSON like {"position": 12.5, "duration": 600}."#.into())
    })?;
    if !u.position.is_finite() {
        return Err(Error::BadRequest("The position must be a number of seconds.".into()).into());
    }
    let p = app
        .positions
        .set(seen.viewer().whose(), &rel, u.position, u.duration)
        .await;
    Ok(warp::reply::json(&p).into_response())
}
