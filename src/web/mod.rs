//! warp filters: the routes, each group to its handlers. HTTP only, no
//! business logic: who is asking is `door`'s (one filter decides who is
//! watching, and a route that names a library path gets it as a `Seen`
//! path), how answers look is `reply`'s (the one error-to-status map
//! included); the feature modules use those two and none of each other's
//! but `versions` (from `manage`), `notice` (from `pages`) and `devices`
//! (from `profiles`), so there is no import circle.

mod api;
mod assets;
mod body;
mod devices;
mod door;
mod files;
mod format;
pub mod guard;
mod jobs;
mod listen;
mod manage;
mod notice;
pub mod pages;
mod phone;
mod positions;
mod profiles;
mod reply;
mod runners;
mod tus;
mod upload;
mod versions;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use warp::http::{HeaderMap, Method, StatusCode};
use warp::{Filter, Rejection, Reply};

use crate::error::Error;
use crate::App;
use door::{caller, for_grown_ups, seen, seen_by, seen_for, seen_in, viewer, with_app};

pub use files::{parse_range, ByteRange};
use reply::text_error;

impl warp::reject::Reject for Error {}

/// The filters a route group returns: a reply, or a rejection the others
/// (and finally `recover`) get to answer.
pub trait Routes:
    Filter<Extract = (Self::Out,), Error = Rejection> + Clone + Send + Sync + 'static
{
    type Out: Reply;
}

impl<F, R> Routes for F
where
    F: Filter<Extract = (R,), Error = Rejection> + Clone + Send + Sync + 'static,
    R: Reply,
{
    type Out = R;
}

/// Every route pimedia answers, with errors turned into clear replies.
pub fn routes(
    app: Arc<App>,
) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone + Send + Sync + 'static {
    let all = browsing(app.clone())
        .or(files(app.clone()))
        .or(uploads(app.clone()))
        .or(conversions(app.clone()))
        .or(devices_routes(app.clone()))
        .or(profiles_routes(app.clone()))
        .or(manage_routes(app.clone()))
        .or(runner_routes(app.clone()))
        .or(playback(app.clone()));
    // Checked before any route reads the request (its body above all).
    let guard = warp::method()
        .and(warp::header::headers_cloned())
        .and(with_app(app.clone()))
        .and_then(|method, headers, app: Arc<App>| async move {
            guard::check(&method, &headers, &app.allowed_hosts).map_err(warp::reject::custom)
        })
        .untuple_one();
    // Only the browser's id: who is watching is each route's to ask.
    let browser = warp::header::headers_cloned().map(|h: HeaderMap| reply::browser_id(&h));
    browser
        .and(guard)
        .and(all)
        .map(finish)
        .recover(recover)
        .with(warp::reply::with::header(
            "x-content-type-options",
            "nosniff",
        ))
}

/// What every answer gets. Pages and JSON are asked for again each time
/// (`Cache-Control: no-cache`; posters, videos and `/static/` say their
/// own). Every page gives a browser without one its id (a random cookie,
/// kept a year): its reports, its player's failures and its "ready to
/// play" notices are all its own, even when its first page sends them at
/// once.
fn finish(browser: Option<String>, reply: impl Reply) -> warp::reply::Response {
    use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE};
    let mut resp = reply.into_response();
    let kind = reply::header_str(resp.headers(), CONTENT_TYPE).unwrap_or("");
    let is_page = kind.starts_with("text/html");
    if (is_page || kind.starts_with("application/json"))
        && !resp.headers().contains_key(CACHE_CONTROL)
    {
        resp.headers_mut().insert(
            CACHE_CONTROL,
            warp::http::HeaderValue::from_static("no-cache"),
        );
    }
    if browser.is_none() && is_page {
        if let Some(cookie) = reply::new_browser_cookie() {
            resp.headers_mut()
                .append(warp::http::header::SET_COOKIE, cookie);
        }
    }
    resp
}

/// The pages and JSON a TV or phone browses with.
fn browsing(app: Arc<App>) -> impl Routes {
    let query = warp::query::<HashMap<String, String>>()
        .or(warp::any().map(HashMap::new))
        .unify();
    let library = warp::path::end()
        .and(body::get())
        .and(with_app(app.clone()))
        .and(query)
        .and(caller(app.clone()))
        .and_then(pages::library);
    let watch = warp::path("watch")
        .and(body::get())
        .and(with_app(app.clone()))
        .and(seen_by(app.clone()))
        .and_then(pages::watch);
    let healthz = warp::path!("healthz")
        .and(body::get())
        .and(with_app(app.clone()))
        .and_then(api::healthz);
    let api_videos = warp::path!("api" / "videos")
        .and(body::get())
        .and(with_app(app.clone()))
        .and(viewer(app.clone()))
        .and_then(api::videos);
    let phone = warp::path!("phone")
        .and(body::get())
        .and(warp::header::optional::<String>("host"))
        .and_then(phone::page);
    library.or(watch).or(healthz).or(api_videos).or(phone)
}

/// A GET or HEAD for bytes from disk: its method and headers (ranges,
/// validators), and the app.
fn file_request(
    app: Arc<App>,
) -> impl Filter<Extract = (Method, HeaderMap, Arc<App>), Error = Rejection>
       + Clone
       + Send
       + Sync
       + 'static {
    body::get()
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(with_app(app.clone()))
}

/// Bytes from disk: videos, posters, the page's own assets.
fn files(app: Arc<App>) -> impl Routes {
    // The household's, whoever is watching: nginx serves it so in
    // production (see the README on profiles).
    let videos = warp::path("videos")
        .and(warp::path::tail())
        .and(file_request(app.clone()))
        .and_then(files::videos);
    // A video with another audio language first (see media::versions).
    let audio = warp::path!("audio" / usize / ..)
        .and(file_request(app.clone()))
        .and(seen(app.clone()))
        .and_then(files::audio);
    let download = warp::path("download")
        .and(
            warp::query::<HashMap<String, String>>()
                .or(warp::any().map(HashMap::new))
                .unify(),
        )
        .and(file_request(app.clone()))
        .and(seen(app.clone()))
        .and_then(versions::download);
    let thumbs = warp::path!("thumbs" / String)
        .and(file_request(app.clone()))
        .and(viewer(app))
        .and_then(files::poster);
    let statics = warp::path("static")
        .and(warp::path::tail())
        .and(body::get())
        .and(warp::header::headers_cloned())
        .and_then(assets::serve);
    let icon_names = warp::path!("favicon.ico")
        .map(|| "favicon.ico")
        .or(warp::path!("apple-touch-icon.png").map(|| "apple-touch-icon.png"))
        .unify()
        .or(warp::path!("apple-touch-icon-precomposed.png").map(|| "apple-touch-icon.png"))
        .unify();
    let icons = icon_names
        .and(body::get())
        .and(warp::header::headers_cloned())
        .and_then(assets::root_icon);
    videos
        .or(audio)
        .or(download)
        .or(thumbs)
        .or(statics)
        .or(icons)
}

/// The upload page, form uploads, the password, and tus.
fn uploads(app: Arc<App>) -> impl Routes {
    let page = warp::path!("upload")
        .and(body::get())
        .and(for_grown_ups(app.clone()))
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and(
            warp::query::<HashMap<String, String>>()
                .or(warp::any().map(HashMap::new))
                .unify(),
        )
        .and_then(upload::get_page);
    let post = warp::path!("upload")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and(warp::multipart::form().max_length(None))
        .and_then(upload::post_form);
    let login = warp::path!("upload" / "login")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and(body::form())
        .and_then(upload::login);
    page.or(post).or(login).or(resumable(app))
}

/// tus 1.0 at `/uploads/`.
fn resumable(app: Arc<App>) -> impl Routes {
    let headers = warp::header::headers_cloned();
    let root = warp::path("uploads").and(warp::path::end());
    let one = warp::path!("uploads" / String);
    let options = warp::path("uploads")
        .and(warp::options())
        .and(with_app(app.clone()))
        .and_then(tus::options);
    let create = root
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(headers)
        .and(caller(app.clone()))
        .and_then(tus::create);
    let head = one
        .and(warp::head())
        .and(with_app(app.clone()))
        .and(headers)
        .and(caller(app.clone()))
        .and_then(tus::head);
    let patch = one
        .and(warp::patch())
        .and(with_app(app.clone()))
        .and(headers)
        .and(caller(app.clone()))
        .and(warp::body::stream())
        .and_then(tus::patch);
    let delete = one
        .and(warp::delete())
        .and(with_app(app.clone()))
        .and(headers)
        .and(caller(app.clone()))
        .and_then(tus::delete);
    options.or(create).or(head).or(patch).or(delete)
}

/// The conversions page and API, and cancel/retry/dismiss.
fn conversions(app: Arc<App>) -> impl Routes {
    let page = warp::path!("jobs")
        .and(body::get())
        .and(for_grown_ups(app.clone()))
        .and(with_app(app.clone()))
        .and_then(jobs::page);
    let api = warp::path!("api" / "jobs")
        .and(body::get())
        .and(with_app(app.clone()))
        .and(viewer(app.clone()))
        .and_then(jobs::api);
    let action = warp::path!("api" / "jobs" / u64 / String)
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and_then(jobs::action);
    page.or(api).or(action)
}

/// Delete, rename and move, new folders, the trash.
fn manage_routes(app: Arc<App>) -> impl Routes {
    let video = warp::path!("api" / "videos" / ..)
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(seen_for(app.clone(), manage::VideoAction::of))
        .and(body::fields::<manage::Fields>())
        .and_then(manage::video_action);
    let folder = warp::path!("api" / "folders")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and(body::fields::<manage::Fields>())
        .and_then(manage::new_folder);
    let folder_versions = warp::path!("api" / "folders" / "versions")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and(body::fields::<versions::Fields>())
        .and_then(versions::folder_action);
    let page = warp::path!("trash")
        .and(body::get())
        .and(for_grown_ups(app.clone()))
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and_then(manage::page);
    let restore = warp::path!("api" / "trash" / String / "restore").map(Some);
    let empty = warp::path!("api" / "trash" / "empty").map(|| None);
    let trash = restore
        .or(empty)
        .unify()
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and_then(manage::trash_action);
    video.or(folder).or(folder_versions).or(page).or(trash)
}

/// The PeerTube runner's protocol, and the Helpers page and its API.
fn runner_routes(app: Arc<App>) -> impl Routes {
    let host = || warp::header::optional::<String>("host");
    // Its error messages carry ffmpeg's whole stderr.
    let json = || body::small(1 << 20);
    let call = warp::path!("api" / "v1" / "runners" / String)
        .or(warp::path!("api" / "v1" / "runners" / "jobs" / "request")
            .map(|| "request".to_string()))
        .unify()
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(host())
        .and(json())
        .and_then(runners::runner_call);
    let update = warp::path!("api" / "v1" / "runners" / "jobs" / String / "update")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(warp::multipart::form().max_length(1 << 20))
        .and_then(runners::update);
    let success = warp::path!("api" / "v1" / "runners" / "jobs" / String / "success")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(warp::multipart::form().max_length(None))
        .and_then(runners::success);
    let input = warp::path!("api" / "v1" / "runners" / "jobs" / String / "files" / "video")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(warp::header::headers_cloned())
        .and(json())
        .and_then(runners::input);
    let job = warp::path!("api" / "v1" / "runners" / "jobs" / String / String)
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(host())
        .and(json())
        .and_then(runners::job_call);
    let page = warp::path!("helpers")
        .and(body::get())
        .and(for_grown_ups(app.clone()))
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and(host())
        .and_then(runners::page);
    let api = warp::path!("api" / "runners")
        .and(body::get())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and_then(runners::api);
    let action = warp::path("api")
        .and(warp::path("runners"))
        .and(warp::path::tail())
        .map(|t: warp::path::Tail| t.as_str().split('/').map(String::from).collect::<Vec<_>>())
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and_then(runners::action);
    call.or(update)
        .or(success)
        .or(input)
        .or(job)
        .or(page)
        .or(api)
        .or(action)
}

/// The devices page and API, and the reports pages send.
fn devices_routes(app: Arc<App>) -> impl Routes {
    let page = warp::path!("devices")
        .and(body::get())
        .and(for_grown_ups(app.clone()))
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and_then(devices::page);
    let api = warp::path!("api" / "devices")
        .and(body::get())
        .and(with_app(app.clone()))
        .and_then(devices::api);
    let me = warp::path!("api" / "devices" / "me")
        .and(body::get())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and_then(devices::me);
    let report = warp::path!("api" / "devices" / "me")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and(warp::header::optional::<String>("user-agent"))
        .and(body::small(16 * 1024))
        .and_then(devices::report);
    let change = warp::path!("api" / "devices" / u64)
        .map(|n| (n, None))
        .untuple_one();
    let forget = warp::path!("api" / "devices" / u64 / String)
        .map(|n, what| (n, Some(what)))
        .untuple_one();
    let action = change
        .or(forget)
        .unify()
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and(body::fields::<devices::ChangeBody>())
        .and_then(devices::action);
    page.or(api).or(me).or(report).or(action)
}

/// The people in the house: `/api/profiles` and its changes.
fn profiles_routes(app: Arc<App>) -> impl Routes {
    let list = warp::path!("api" / "profiles")
        .and(body::get())
        .and(with_app(app.clone()))
        .and_then(profiles::list);
    let add = warp::path!("api" / "profiles")
        .map(|| (None, None))
        .untuple_one();
    let change = warp::path!("api" / "profiles" / u64)
        .map(|id| (Some(id), None))
        .untuple_one();
    let remove = warp::path!("api" / "profiles" / u64 / String)
        .map(|id, what| (Some(id), Some(what)))
        .untuple_one();
    let action = add
        .or(change)
        .unify()
        .or(remove)
        .unify()
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and(body::fields::<profiles::ChangeBody>())
        .and_then(profiles::action);
    let page = warp::path!("profiles")
        .and(body::get())
        .and(with_app(app.clone()))
        .and_then(profiles::page);
    let choose = warp::path!("profiles" / "choose")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(caller(app.clone()))
        .and(body::form::<profiles::Choice>())
        .and_then(profiles::choose);
    list.or(action).or(page).or(choose)
}

/// Where each video was left, and its sound as MP3.
fn playback(app: Arc<App>) -> impl Routes {
    let listen = warp::path("listen")
        .and(body::get())
        .and(warp::method())
        .and(with_app(app.clone()))
        .and(seen_in(app.clone(), |tail| tail.strip_suffix(".mp3")))
        .and_then(listen::listen);
    let positions = || warp::path("api").and(warp::path("positions"));
    let get = positions()
        .and(body::get())
        .and(with_app(app.clone()))
        .and(seen(app.clone()))
        .and_then(positions::get);
    let put = positions()
        .and(warp::put().or(warp::post()).unify())
        .and(with_app(app.clone()))
        .and(seen(app))
        .and(body::small(4096))
        .and_then(positions::put);
    listen.or(get).or(put)
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
    Ok(reply::text_reply(status, msg))
}
