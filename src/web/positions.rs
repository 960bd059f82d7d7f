//! `/api/positions/{path}`: where a video was left, for every device, as
//! the browser's profile sees it (its own, else the household's).

use std::sync::Arc;

use serde::Deserialize;
use warp::Reply;

use crate::error::Error;
use crate::paths::decode_relative;
use crate::positions::Position;
use crate::App;

#[derive(Deserialize)]
pub struct Update {
    position: f64,
    duration: Option<f64>,
}

fn video_path(app: &App, tail: &str) -> Result<String, Error> {
    let rel = decode_relative(tail).ok_or(Error::NotFound)?;
    app.library.get(&rel).ok_or(Error::NotFound)?;
    Ok(rel)
}

pub async fn get(
    tail: warp::path::Tail,
    app: Arc<App>,
    caller: super::Caller,
) -> Result<warp::reply::Response, warp::Rejection> {
    let rel = video_path(&app, tail.as_str())?;
    let p = app
        .positions
        .get(super::profiles::who(&app, &caller).whose(), &rel)
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
    tail: warp::path::Tail,
    app: Arc<App>,
    caller: super::Caller,
    body: bytes::Bytes,
) -> Result<warp::reply::Response, warp::Rejection> {
    let rel = video_path(&app, tail.as_str())?;
    let u: Update = serde_json::from_slice(&body).map_err(|_| {
        Error::BadRequest(r#"Send JSON like {"position": 12.5, "duration": 600}."#.into())
    })?;
    if !u.position.is_finite() {
        return Err(Error::BadRequest("The position must be a number of seconds.".into()).into());
    }
    let p = app
        .positions
        .set(
            super::profiles::who(&app, &caller).whose(),
            &rel,
            u.position,
            u.duration,
        )
        .await;
    Ok(warp::reply::json(&p).into_response())
}
