//! warp filters: routes, request parsing and the one error-to-status map.
//! No business logic lives here.

mod api;
mod assets;
mod files;
mod format;
mod jobs;
mod listen;
mod notice;
pub mod pages;
mod positions;
mod tus;
mod upload;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::error::Error;
use crate::App;

pub use files::{parse_range, ByteRange};

impl warp::reject::Reject for Error {}

/// A header's value as text, if it is there and printable.
fn header_str(
    headers: &warp::http::HeaderMap,
    name: impl warp::http::header::AsHeaderName,
) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Static assets are linked with this, so a release changes their URLs.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Who is asking, as far as uploads care: their cookie, a password header,
/// and whether they want JSON back.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub cookie: Option<String>,
    /// This browser's id (the `pimedia_viewer` cookie), for its notices.
    pub viewer: Option<String>,
    pub password: Option<String>,
    pub wants_json: bool,
}

/// Every route pimedia answers, with errors turned into clear replies.
pub fn routes(
    app: Arc<App>,
) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone + Send + Sync + 'static {
    let with_app = warp::any().map(move || app.clone());
    let query = warp::query::<HashMap<String, String>>()
        .or(warp::any().map(HashMap::new))
        .unify();

    let caller =
        warp::header::headers_cloned().map(|h: warp::http::HeaderMap| Caller::from_headers(&h));
    let library = warp::path::end()
        .and(warp::get())
        .and(with_app.clone())
        .and(query)
        .and(caller)
        .and_then(pages::library);
    let watch = warp::path("watch")
        .and(warp::path::tail())
        .and(warp::get())
        .and(with_app.clone())
        .and_then(pages::watch);
    let videos = warp::path("videos")
        .and(warp::path::tail())
        .and(warp::get().or(warp::head()).unify())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(with_app.clone())
        .and_then(
            |tail: warp::path::Tail, method, headers, app: Arc<App>| async move {
                let file = app.resolve(tail.as_str()).ok_or(Error::NotFound)?;
                files::serve_file(&file, &method, &headers)
                    .await
                    .map_err(warp::reject::custom)
            },
        );
    let thumbs = warp::path!("thumbs" / String)
        .and(warp::get().or(warp::head()).unify())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(with_app.clone())
        .and_then(|name: String, method, headers, app: Arc<App>| async move {
            let id = name.strip_suffix(".jpg").ok_or(Error::NotFound)?;
            let file = app.poster_file(id).ok_or(Error::NotFound)?;
            let mut resp = files::serve_file(&file, &method, &headers)
                .await
                .map_err(warp::reject::custom)?;
            // The id changes whenever the video does.
            resp.headers_mut().insert(
                warp::http::header::CACHE_CONTROL,
                warp::http::HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            Ok::<_, Rejection>(resp)
        });
    let healthz = warp::path!("healthz")
        .and(warp::get())
        .and(with_app.clone())
        .and_then(api::healthz);
    let api_videos = warp::path!("api" / "videos")
        .and(warp::get())
        .and(with_app.clone())
        .and_then(api::videos);
    let statics = warp::path("static")
        .and(warp::path::tail())
        .and(warp::get().or(warp::head()).unify())
        .and(warp::header::headers_cloned())
        .and_then(assets::serve);

    let caller =
        warp::header::headers_cloned().map(|h: warp::http::HeaderMap| Caller::from_headers(&h));
    let upload_page = warp::path!("upload")
        .and(warp::get())
        .and(with_app.clone())
        .and(caller)
        .and_then(upload::get_page);
    let upload_post = warp::path!("upload")
        .and(warp::post())
        .and(with_app.clone())
        .and(caller)
        .and(warp::multipart::form().max_length(None))
        .and_then(upload::post_form);
    let login = warp::path!("upload" / "login")
        .and(warp::post())
        .and(with_app.clone())
        .and(caller)
        .and(warp::body::content_length_limit(16 * 1024))
        .and(warp::body::form())
        .and_then(upload::login);

    let headers = warp::header::headers_cloned();
    let tus_root = warp::path("uploads").and(warp::path::end());
    let tus_one = warp::path!("uploads" / String);
    let tus_options = warp::path("uploads")
        .and(warp::options())
        .and(with_app.clone())
        .and_then(tus::options);
    let tus_create = tus_root
        .and(warp::post())
        .and(with_app.clone())
        .and(headers)
        .and_then(tus::create);
    let tus_head = tus_one
        .and(warp::head())
        .and(with_app.clone())
        .and(headers)
        .and_then(tus::head);
    let tus_patch = tus_one
        .and(warp::patch())
        .and(with_app.clone())
        .and(headers)
        .and(warp::body::stream())
        .and_then(tus::patch);
    let tus_delete = tus_one
        .and(warp::delete())
        .and(with_app.clone())
        .and(headers)
        .and_then(tus::delete);
    let uploads = upload_page
        .or(upload_post)
        .or(login)
        .or(tus_options)
        .or(tus_create)
        .or(tus_head)
        .or(tus_patch)
        .or(tus_delete);

    let jobs_page = warp::path!("jobs")
        .and(warp::get())
        .and(with_app.clone())
        .and_then(jobs::page);
    let jobs_api = warp::path!("api" / "jobs")
        .and(warp::get())
        .and(with_app.clone())
        .and_then(jobs::api);
    let job_action = warp::path!("api" / "jobs" / u64 / String)
        .and(warp::post())
        .and(with_app.clone())
        .and(caller)
        .and_then(jobs::action);
    let listen = warp::path("listen")
        .and(warp::path::tail())
        .and(warp::get())
        .and(with_app.clone())
        .and_then(listen::listen);
    let position_get = warp::path("api")
        .and(warp::path("positions"))
        .and(warp::path::tail())
        .and(warp::get())
        .and(with_app.clone())
        .and_then(positions::get);
    let position_put = warp::path("api")
        .and(warp::path("positions"))
        .and(warp::path::tail())
        .and(warp::put().or(warp::post()).unify())
        .and(with_app.clone())
        .and(warp::body::content_length_limit(4096))
        .and(warp::body::bytes())
        .and_then(positions::put);
    let jobs = jobs_page
        .or(jobs_api)
        .or(job_action)
        .or(listen)
        .or(position_get)
        .or(position_put);

    library
        .or(uploads)
        .or(jobs)
        .or(watch)
        .or(videos)
        .or(thumbs)
        .or(healthz)
        .or(api_videos)
        .or(statics)
        .recover(recover)
        .with(warp::reply::with::header(
            "x-content-type-options",
            "nosniff",
        ))
}

/// Status and sentence for an error the user can meet.
pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::BadRequest(_) => StatusCode::BAD_REQUEST,
        Error::Unauthorized => StatusCode::UNAUTHORIZED,
        Error::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Conflict(_) => StatusCode::CONFLICT,
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
    warp::reply::with_status(warp::reply::json(&body), status_of(e)).into_response()
}

/// An error as a plain-text sentence, with its status.
pub fn text_error(e: &Error) -> warp::reply::Response {
    text_reply(status_of(e), e.to_string())
}

/// Plain text for a status: what happened, in one sentence.
fn text_reply(status: StatusCode, message: String) -> warp::reply::Response {
    warp::reply::with_status(
        warp::reply::with_header(message + "\n", "content-type", "text/plain; charset=utf-8"),
        status,
    )
    .into_response()
}

async fn recover(r: Rejection) -> Result<warp::reply::Response, Infallible> {
    if let Some(e) = r.find::<Error>() {
        if let Error::Internal(detail) = e {
            tracing::error!("internal error: {detail}");
        }
        return Ok(text_error(e));
    }
    let (status, msg) = if r.is_not_found() {
        (StatusCode::NOT_FOUND, Error::NotFound.to_string())
    } else if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "This address does not take that kind of request.".to_string(),
        )
    } else if let Some(e) = r.find::<warp::reject::PayloadTooLarge>() {
        (StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
    } else if let Some(e) = r.find::<warp::reject::UnsupportedMediaType>() {
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string())
    } else if let Some(e) = r.find::<warp::reject::LengthRequired>() {
        (StatusCode::LENGTH_REQUIRED, e.to_string())
    } else if let Some(e) = r.find::<warp::reject::InvalidQuery>() {
        (StatusCode::BAD_REQUEST, e.to_string())
    } else if let Some(e) = r.find::<warp::reject::MissingHeader>() {
        (StatusCode::BAD_REQUEST, e.to_string())
    } else if let Some(e) = r.find::<warp::reject::InvalidHeader>() {
        (StatusCode::BAD_REQUEST, e.to_string())
    } else {
        tracing::warn!("unhandled rejection: {r:?}");
        (
            StatusCode::BAD_REQUEST,
            "The request could not be understood.".to_string(),
        )
    };
    Ok(text_reply(status, msg))
}
