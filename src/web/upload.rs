//! `/upload`: the upload page, the form post and the password prompt.

use std::sync::Arc;

use askama::Template;
use bytes::Buf;
use futures_util::StreamExt;
use warp::http::{header, Response, StatusCode};
use warp::multipart::FormData;
use warp::Reply;

use super::door::Caller;
use super::reply::{json_error, see_other, status_of, ASSET_VERSION};
use crate::error::Error;
use crate::upload::{Accepted, COOKIE};
use crate::App;

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage<'a> {
    version: &'static str,
    needs_password: bool,
    error: Option<&'a str>,
    folders: Vec<String>,
    /// The folder field's first value (`?folder=`, from a folder's page).
    folder: String,
    max_upload: String,
    /// Files above this many bytes go through tus when the browser can.
    tus_threshold: u64,
}

const TUS_THRESHOLD: u64 = 50 << 20;

fn page(
    app: &App,
    caller: &Caller,
    status: StatusCode,
    error: Option<&str>,
) -> warp::reply::Response {
    page_for(app, caller, status, error, "")
}

fn page_for(
    app: &App,
    caller: &Caller,
    status: StatusCode,
    error: Option<&str>,
    folder: &str,
) -> warp::reply::Response {
    let needs_password = !caller.allowed(app);
    let html = UploadPage {
        version: ASSET_VERSION,
        needs_password,
        error,
        folders: app.library.folders(),
        folder: folder.to_string(),
        max_upload: app
            .config
            .max_upload
            .map(crate::format::human_size)
            .unwrap_or_default(),
        tus_threshold: TUS_THRESHOLD,
    }
    .render()
    .unwrap_or_else(|e| format!("template error: {e}"));
    warp::reply::with_status(warp::reply::html(html), status).into_response()
}

/// The upload page; the browser's id (for its "ready to play" notices)
/// comes with every page.
pub async fn get_page(
    app: Arc<App>,
    caller: Caller,
    query: std::collections::HashMap<String, String>,
) -> Result<warp::reply::Response, warp::Rejection> {
    let folder = query.get("folder").map(String::as_str).unwrap_or("");
    Ok(page_for(&app, &caller, StatusCode::OK, None, folder))
}

/// An error as the caller wants it: JSON for scripts, the page for people.
fn error_reply(app: &App, caller: &Caller, e: &Error) -> warp::reply::Response {
    if caller.wants_json {
        json_error(e)
    } else {
        page(app, caller, status_of(e), Some(&e.to_string()))
    }
}

/// `POST /upload`: every `file` part streams to disk as it arrives.
pub async fn post_form(
    app: Arc<App>,
    caller: Caller,
    form: FormData,
) -> Result<warp::reply::Response, warp::Rejection> {
    if let Err(e) = caller.permit(&app) {
        drain(form, std::time::Duration::from_secs(5)).await;
        return Ok(error_reply(&app, &caller, &e));
    }
    let mut form = form;
    match receive_all(&app, &mut form, caller.browser.as_deref()).await {
        Ok((folder, accepted)) => Ok({
            if caller.wants_json {
                warp::reply::with_status(warp::reply::json(&accepted), StatusCode::CREATED)
                    .into_response()
            } else {
                let mut to = format!("/?uploaded={}", accepted.len());
                if !folder.is_empty() {
                    to.push_str("&dir=");
                    to.push_str(&super::format::q(&folder));
                }
                see_other(&to)
            }
        }),
        Err(e) => {
            // Over a limit, the rest of the body may be gigabytes: read on
            // for a moment only, so the client is listening when the answer
            // goes out and the close is not a reset.
            let patience = match e {
                Error::Aborted => None,
                Error::TooLarge(_) | Error::InsufficientStorage(_) => Some(1),
                _ => Some(5),
            };
            if let Some(secs) = patience {
                drain(form, std::time::Duration::from_secs(secs)).await;
            }
            Ok(error_reply(&app, &caller, &e))
        }
    }
}

/// Reads and drops what is left of a request body (up to 8 MiB, for at most
/// `patience`), so that a client still sending sees the error instead of a
/// reset connection. Larger bodies are not waited for: the reply goes out
/// and the connection closes.
async fn drain(mut form: FormData, patience: std::time::Duration) {
    const MAX_DRAIN: usize = 8 << 20;
    let mut seen = 0usize;
    let work = async {
        while let Some(Ok(part)) = form.next().await {
            let mut s = Box::pin(part.stream());
            while let Some(Ok(chunk)) = s.next().await {
                seen += chunk.remaining();
                if seen > MAX_DRAIN {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(patience, work).await;
}

async fn receive_all(
    app: &App,
    form: &mut FormData,
    owner: Option<&str>,
) -> Result<(String, Vec<Accepted>), Error> {
    let (mut folder, mut dir) = app.uploads.target_dir("").await?;
    let mut accepted = Vec::new();
    while let Some(part) = form.next().await {
        let part = part.map_err(|e| {
            Error::BadRequest(format!(
                "The upload form could not be read ({e}); nothing more was kept."
            ))
        })?;
        match part.name() {
            "folder" => {
                let value = super::body::small_field(part, 4096)
                    .await
                    .map_err(|e| match e {
                        super::body::FieldError::BrokeOff(_) => Error::Aborted,
                        super::body::FieldError::TooLong => {
                            Error::BadRequest("The folder name is too long.".into())
                        }
                    })?;
                (folder, dir) = app.uploads.target_dir(&value).await?;
            }
            "file" => {
                let raw = match part.filename() {
                    Some(name) => name.to_string(),
                    // A name that is not UTF-8 (an old disk's): stored
                    // under a safe one its type gives.
                    None => part
                        .content_type()
                        .and_then(crate::media::extension_for)
                        .map(|ext| format!("upload.{ext}"))
                        .unwrap_or_default(),
                };
                if raw.is_empty() {
                    // An empty file input still sends a part; skip it.
                    continue;
                }
                let a = app
                    .uploads
                    .receive(&folder, &dir, &raw, owner, Box::pin(part.stream()))
                    .await?;
                accepted.push(a);
            }
            _ => {}
        }
    }
    if accepted.is_empty() {
        return Err(Error::BadRequest(
            "No file was sent: choose at least one video and press Upload.".into(),
        ));
    }
    Ok((folder, accepted))
}

/// `POST /upload/login`: the password once, then a signed cookie.
pub async fn login(
    app: Arc<App>,
    caller: Caller,
    form: std::collections::HashMap<String, String>,
) -> Result<warp::reply::Response, warp::Rejection> {
    let given = form.get("password").map(String::as_str).unwrap_or("");
    match app.check_password(given, caller.client) {
        Ok(true) => {}
        Ok(false) => {
            return Ok(page(
                &app,
                &caller,
                StatusCode::UNAUTHORIZED,
                Some("That password is not right. Try again."),
            ))
        }
        Err(e) => {
            let mut resp = page(&app, &caller, status_of(&e), Some(&e.to_string()));
            if let Error::TooManyAttempts(secs) = e {
                resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            return Ok(resp);
        }
    }
    // Strict: no other site's page ever makes the browser send it.
    let cookie = format!(
        "{COOKIE}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict",
        app.auth.cookie_value()
    );
    // Back to the page that asked: a path here, never another site.
    let back = form
        .get("back")
        .map(String::as_str)
        .filter(|b| {
            b.starts_with('/')
                && !b.starts_with("//")
                && !b.contains('\\')
                && !b.chars().any(char::is_control)
        })
        .unwrap_or("/upload");
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, back)
        .header(header::SET_COOKIE, cookie)
        .body(Default::default())
        .expect("valid response"))
}
