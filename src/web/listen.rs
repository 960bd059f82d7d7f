//! `/listen/{path}.mp3`: a video's audio as MP3, live from an ffmpeg pipe.
//! The ffmpeg process belongs to the response body: when the client goes,
//! the body is dropped and ffmpeg is killed (and reaped by tokio), and its
//! slot (one of `--listen-streams`) is free again.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use tokio_util::io::ReaderStream;
use warp::http::header;
use warp::Reply;

use crate::error::Error;
use crate::profiles::Seen;
use crate::App;

struct Piped {
    _child: tokio::process::Child,
    /// The stream's slot, given back with the body.
    _slot: tokio::sync::OwnedSemaphorePermit,
    out: ReaderStream<tokio::process::ChildStdout>,
}

impl Stream for Piped {
    type Item = std::io::Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.out).poll_next(cx)
    }
}

/// The answer's headers, the same for HEAD (which starts no ffmpeg).
fn headers(resp: &mut warp::reply::Response) {
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("audio/mpeg"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
}

pub async fn listen(
    method: warp::http::Method,
    app: Arc<App>,
    seen: Seen,
) -> Result<warp::reply::Response, warp::Rejection> {
    let file = app.file_of(&seen).await.ok_or(Error::NotFound)?;
    if crate::media::kind_of(&file).is_none() {
        return Err(Error::NotFound.into());
    }
    if method == warp::http::Method::HEAD {
        let mut resp = warp::reply::Response::new(Default::default());
        headers(&mut resp);
        return Ok(resp);
    }
    let (ffmpeg, slot) = app.audio_as_mp3(&file)?;
    let mut child = tokio::process::Command::from(ffmpeg)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::Internal(format!("ffmpeg could not start: {e}")))?;
    let out = child.stdout.take().expect("stdout is piped");
    let body = Piped {
        _child: child,
        _slot: slot,
        out: ReaderStream::with_capacity(out, 64 * 1024),
    };
    let mut resp = warp::reply::stream(body).into_response();
    headers(&mut resp);
    Ok(resp)
}
