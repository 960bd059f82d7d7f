//! The PeerTube runner's routes under `/api/v1/runners/` (register,
//! unregister, jobs/request, accept, update, success, error, abort, and
//! the input file it POSTs for), answered as PeerTube answers them: 200
//! with JSON or 204, and a problem document whose `code` the runner reads.
//! Also the Helpers page (`/helpers`) and its API (`/api/runners`).

use std::sync::Arc;

use askama::Template;
use bytes::Buf;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use warp::http::{HeaderMap, Method, Response, StatusCode};
use warp::multipart::FormData;
use warp::Reply;

use super::door::Caller;
use super::reply::{json_error, text_error, ASSET_VERSION};
use crate::error::Error;
use crate::jobs::Offer;
use crate::runners::{job_uuid, Refusal};
use crate::App;

type Reply_ = Result<warp::reply::Response, warp::Rejection>;

/// The job type pimedia hands out.
const JOB_TYPE: &str = "vod-web-video-transcoding";

/// PeerTube's problem document.
fn refused(r: &Refusal) -> warp::reply::Response {
    let (status, code, detail) = r.parts();
    let body = json!({
        "type": format!("https://docs.joinpeertube.org/api-rest-reference.html#section/Errors/{code}"),
        "code": code,
        "detail": detail,
        "status": status,
        "error": detail,
    });
    let mut resp = warp::reply::json(&body).into_response();
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    resp.headers_mut().insert(
        "content-type",
        warp::http::HeaderValue::from_static("application/problem+json; charset=utf-8"),
    );
    resp
}

fn no_content() -> warp::reply::Response {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Default::default())
        .expect("valid response")
}

fn answer<T: serde::Serialize>(r: Result<T, Refusal>) -> warp::reply::Response {
    match r {
        Ok(v) => warp::reply::json(&v).into_response(),
        Err(e) => refused(&e),
    }
}

fn done(r: Result<(), Refusal>) -> warp::reply::Response {
    match r {
        Ok(()) => no_content(),
        Err(e) => refused(&e),
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body)
        .map_err(|e| Refusal::Malformed(format!("The body is not the JSON this route takes: {e}.")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterBody {
    registration_token: String,
    name: String,
    description: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunnerBody {
    runner_token: String,
    /// The job types it takes (runner 0.1 and later); none: any.
    #[serde(default)]
    job_types: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobBody {
    runner_token: String,
    job_token: String,
    #[serde(default)]
    message: Option<String>,
}

/// The address the runner used to reach pimedia, for the URLs it is given.
fn base_url(host: Option<&str>) -> String {
    format!("http://{}", host.unwrap_or("127.0.0.1"))
}

fn payload(offer: &Offer, host: Option<&str>) -> serde_json::Value {
    let uuid = job_uuid(offer.job.id);
    json!({
        "input": {
            "videoFileUrl": format!("{}/api/v1/runners/jobs/{uuid}/files/video", base_url(host)),
            "separatedAudioFileUrl": [],
        },
        "output": { "resolution": offer.resolution, "fps": offer.fps },
    })
}

fn iso(secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    httpdate::fmt_http_date(t)
}

/// `POST /api/v1/runners/{what}` (register, unregister, jobs/request).
pub async fn runner_call(
    what: String,
    app: Arc<App>,
    host: Option<String>,
    body: bytes::Bytes,
) -> Reply_ {
    let r = &app.runners;
    Ok(match what.as_str() {
        "register" => answer(parse::<RegisterBody>(&body).and_then(|b| {
            r.register(&b.registration_token, &b.name, b.description, b.version)
                .map(|(id, token)| json!({ "id": id, "runnerToken": token }))
        })),
        "unregister" => match parse::<RunnerBody>(&body) {
            Ok(b) => done(r.unregister(&b.runner_token).await),
            Err(e) => refused(&e),
        },
        "request" => answer(parse::<RunnerBody>(&body).and_then(|b| {
            let mut offers = r.request(&b.runner_token)?;
            if b.job_types
                .is_some_and(|t| !t.iter().any(|t| t == JOB_TYPE))
            {
                offers.clear();
            }
            let jobs: Vec<_> = offers
                .iter()
                .take(10)
                .map(|o| {
                    json!({
                        "uuid": job_uuid(o.job.id),
                        "type": JOB_TYPE,
                        "payload": payload(o, host.as_deref()),
                    })
                })
                .collect();
            Ok(json!({ "availableJobs": jobs }))
        })),
        _ => return Err(warp::reject::not_found()),
    })
}

/// `POST /api/v1/runners/jobs/{uuid}/{what}`.
pub async fn job_call(
    uuid: String,
    what: String,
    app: Arc<App>,
    host: Option<String>,
    body: bytes::Bytes,
) -> Reply_ {
    let r = &app.runners;
    Ok(match what.as_str() {
        "accept" => match parse::<RunnerBody>(&body) {
            Ok(b) => answer(r.accept(&uuid, &b.runner_token).await.map(|a| {
                let now = iso(crate::fsutil::now());
                json!({ "job": {
                    "uuid": a.uuid,
                    "type": JOB_TYPE,
                    "state": { "id": 2, "label": "Processing" },
                    "payload": payload(&a.offer, host.as_deref()),
                    "failures": a.offer.job.runner_failures,
                    "error": null,
                    "progress": null,
                    "priority": 0,
                    "startedAt": now,
                    "createdAt": iso(a.offer.job.created),
                    "updatedAt": now,
                    "finishedAt": null,
                    "jobToken": a.token,
                }})
            })),
            Err(e) => refused(&e),
        },
        "error" => match parse::<JobBody>(&body) {
            Ok(b) => {
                let message = b.message.as_deref().unwrap_or("it gave no reason");
                done(r.error(&uuid, &b.runner_token, &b.job_token, message).await)
            }
            Err(e) => refused(&e),
        },
        "abort" => match parse::<JobBody>(&body) {
            Ok(b) => done(r.abort(&uuid, &b.runner_token, &b.job_token).await),
            Err(e) => refused(&e),
        },
        _ => return Err(warp::reject::not_found()),
    })
}

/// `POST /api/v1/runners/jobs/{uuid}/files/video`: the source, to this
/// job's runner only.
pub async fn input(uuid: String, app: Arc<App>, headers: HeaderMap, body: bytes::Bytes) -> Reply_ {
    let b = match parse::<JobBody>(&body) {
        Ok(b) => b,
        Err(e) => return Ok(refused(&e)),
    };
    let source = match app.runners.input(&uuid, &b.runner_token, &b.job_token) {
        Ok(s) => s,
        Err(e) => return Ok(refused(&e)),
    };
    let file = crate::paths::on_disk(app.library.root(), &source);
    super::files::serve_file(&file, &Method::GET, &headers)
        .await
        .map_err(warp::reject::custom)
}

/// The text fields of a multipart body before its file, and the file.
#[derive(Default)]
struct Parts {
    runner_token: String,
    job_token: String,
    progress: Option<f64>,
}

async fn text(part: warp::multipart::Part) -> Result<String, Refusal> {
    match super::body::small_field(part, 4096).await {
        Ok(v) => Ok(v.trim().to_string()),
        Err(super::body::FieldError::BrokeOff(e)) => {
            Err(Refusal::Malformed(format!("The body broke off: {e}.")))
        }
        Err(super::body::FieldError::TooLong) => {
            Err(Refusal::Malformed("A field is too long.".into()))
        }
    }
}

/// `POST …/update` (multipart: tokens and `progress`).
pub async fn update(uuid: String, app: Arc<App>, mut form: FormData) -> Reply_ {
    let mut p = Parts::default();
    while let Some(part) = form.next().await {
        let Ok(part) = part else {
            return Ok(refused(&Refusal::Malformed(
                "The form could not be read.".into(),
            )));
        };
        let name = part.name().to_string();
        let value = match text(part).await {
            Ok(v) => v,
            Err(e) => return Ok(refused(&e)),
        };
        match name.as_str() {
            "runnerToken" => p.runner_token = value,
            "jobToken" => p.job_token = value,
            "progress" => p.progress = value.parse().ok(),
            _ => {}
        }
    }
    Ok(done(app.runners.update(
        &uuid,
        &p.runner_token,
        &p.job_token,
        p.progress,
    )))
}

/// `POST …/success` (multipart: tokens, then `payload[videoFile]`): the
/// MP4 streams to a dot-temp file beside the source, never into memory.
pub async fn success(uuid: String, app: Arc<App>, mut form: FormData) -> Reply_ {
    let mut p = Parts::default();
    let mut video = None;
    while let Some(part) = form.next().await {
        let Ok(part) = part else {
            return Ok(refused(&Refusal::Malformed(
                "The form could not be read.".into(),
            )));
        };
        let name = part.name().to_string();
        if name == "payload[videoFile]" {
            // Tokens come first from the runner: a stranger's upload is
            // refused before a byte of it is written.
            let id = match app
                .runners
                .may_send_result(&uuid, &p.runner_token, &p.job_token)
            {
                Ok(id) => id,
                Err(e) => {
                    tracing::info!("a PC's result for {uuid} was refused unread: {e:?}");
                    return Ok(refused(&e));
                }
            };
            match receive(&app, id, part).await {
                Ok(file) => video = Some((id, file)),
                Err(e) => return Err(warp::reject::custom(e)),
            }
            continue;
        }
        let value = match text(part).await {
            Ok(v) => v,
            Err(e) => return Ok(refused(&e)),
        };
        match name.as_str() {
            "runnerToken" => p.runner_token = value,
            "jobToken" => p.job_token = value,
            _ => {}
        }
    }
    let Some((id, file)) = video else {
        return Ok(refused(&Refusal::Malformed(
            "The result has no payload[videoFile].".into(),
        )));
    };
    // Checked again: the job may have been cancelled during the upload.
    if let Err(e) = app
        .runners
        .may_send_result(&uuid, &p.runner_token, &p.job_token)
    {
        tracing::info!("job {id}: a PC's result was refused and discarded: {e:?}");
        return Ok(refused(&e));
    }
    // Checked and completed on the Pi after the answer: the runner has
    // nothing more to do with it, whatever the checks say.
    let runners = app.runners.clone();
    tokio::spawn(async move { runners.success(id, file).await });
    Ok(no_content())
}

/// Streams the upload to a temp file beside job `id`'s source.
async fn receive(
    app: &App,
    id: u64,
    part: warp::multipart::Part,
) -> Result<crate::fsutil::TempFile, Error> {
    let job = app.jobs.get(id).ok_or(Error::NotFound)?;
    let source = crate::paths::on_disk(app.library.root(), &job.source);
    let dir = source.parent().unwrap_or(app.library.root()).to_path_buf();
    let name = crate::media::made::tv_version(
        source
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("video"),
    );
    let limits = crate::upload::Limits {
        max_upload: None,
        reserve: app.uploads.limits.reserve,
    };
    let mut incoming = crate::upload::Incoming::create(&dir, &name, limits).await?;
    let mut s = Box::pin(part.stream());
    while let Some(chunk) = s.next().await {
        let chunk = chunk.map_err(|_| Error::Aborted)?;
        incoming.write(chunk.chunk()).await?;
    }
    let (file, _) = incoming.finish().await?;
    file.ok_or_else(|| Error::Internal("the upload's temp file was lost".into()))
}

// The Helpers page.

#[derive(Template)]
#[template(path = "helpers.html")]
struct HelpersPage {
    version: &'static str,
    /// `None` while the upload password is needed to see it.
    token: Option<String>,
    needs_password: bool,
    url: String,
    runners: Vec<RunnerRow>,
}

struct RunnerRow {
    id: u64,
    name: String,
    last_contact: String,
    doing: String,
    connected: bool,
}

pub async fn page(app: Arc<App>, caller: Caller, host: Option<String>) -> Reply_ {
    let allowed = caller.allowed(&app);
    let url = crate::lan::upload_url_now(host.as_deref())
        .await
        .trim_end_matches("upload")
        .to_string();
    let now = crate::fsutil::now();
    let runners = app
        .runners
        .list()
        .into_iter()
        .map(|r| RunnerRow {
            id: r.id,
            last_contact: super::format::ago(now.saturating_sub(r.last_contact)),
            doing: match (&r.job, r.progress) {
                (Some(j), Some(p)) => format!("transcoding {j}, {p:.0} %"),
                (Some(j), None) => format!("transcoding {j}"),
                (None, _) => "waiting for work".into(),
            },
            connected: r.connected,
            name: r.name,
        })
        .collect();
    let html = HelpersPage {
        version: ASSET_VERSION,
        token: allowed.then(|| app.runners.registration_token()),
        needs_password: !allowed,
        url,
        runners,
    }
    .render()
    .map_err(|e| warp::reject::custom(Error::Internal(format!("template: {e}"))))?;
    Ok(warp::reply::html(html).into_response())
}

/// `GET /api/runners`.
pub async fn api(app: Arc<App>, caller: Caller) -> Reply_ {
    let token = caller
        .allowed(&app)
        .then(|| app.runners.registration_token());
    Ok(warp::reply::json(&json!({
        "registration_token": token,
        "runners": app.runners.list(),
    }))
    .into_response())
}

/// `POST /api/runners/token` and `POST /api/runners/{id}/remove`.
pub async fn action(what: Vec<String>, app: Arc<App>, caller: Caller) -> Reply_ {
    if let Err(e) = caller.permit(&app) {
        return Ok(if caller.wants_json {
            json_error(&e)
        } else {
            text_error(&e)
        });
    }
    let result = match what.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["token"] => Ok(json!({ "registration_token": app.runners.new_registration_token() })),
        [id, "remove"] => match id.parse::<u64>() {
            Ok(id) if app.runners.remove(id).await => Ok(json!({ "removed": id })),
            _ => Err(Error::NotFound),
        },
        _ => Err(Error::NotFound),
    };
    let result = result.map(|v| (v, "/helpers".to_string()));
    Ok(super::reply::answer(caller.wants_json, result, false))
}
