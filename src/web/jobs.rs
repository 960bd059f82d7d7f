//! `/jobs` and `/api/jobs`: the remux queue, with cancel, retry and the
//! "ready to play" notices.

use std::sync::Arc;

use askama::Template;
use warp::Reply;

use super::door::Caller;
use super::reply::{answer, ASSET_VERSION};
use crate::error::Error;
use crate::jobs::{Job, State, Wait};
use crate::paths::encode_url_path;
use crate::profiles::Viewer;
use crate::App;

type Reply_ = Result<warp::reply::Response, warp::Rejection>;

pub struct JobRow {
    pub id: u64,
    /// `remux`, `transcode`, or `version 720p`.
    pub kind: String,
    pub source: String,
    /// Who a transcode is for ("Living-room LG").
    pub made_for: String,
    pub state: &'static str,
    pub progress: f64,
    pub detail: String,
    pub error: String,
    pub plan: Vec<String>,
    pub log: Vec<String>,
    pub watch_href: Option<String>,
    pub can_cancel: bool,
    pub can_retry: bool,
}

/// The progress line of a job: a pause, percent, speed, time left, the
/// encoder, retries.
fn detail(j: &Job) -> String {
    let mut detail = Vec::new();
    if let Some(why) = j.paused.as_ref().filter(|_| j.state == State::Running) {
        detail.push(format!("paused: {why}"));
    }
    if let Some(r) = j.runner.as_ref().filter(|_| j.state == State::Running) {
        detail.push(format!("on {r}, {:.0} %", j.progress));
    } else if let (State::Running, Some([done, all])) = (j.state, j.pictures) {
        detail.push(format!(
            "{} of {} pictures",
            super::format::count(done),
            super::format::count(all)
        ));
    } else if j.state == State::Running {
        detail.push(format!("{:.0}%", j.progress));
        if let Some(s) = j.speed {
            detail.push(format!("{s:.1}× speed"));
        }
        if let Some(e) = j.eta_secs {
            detail.push(format!("{} left", super::format::format_duration(e as f64)));
        }
    }
    if let Some(e) = j
        .encoder
        .filter(|_| j.state.is_live() && j.runner.is_none())
    {
        detail.push(format!("with {}", e.name()));
    }
    if matches!(
        j.state,
        State::Waiting {
            why: Wait::Missing,
            ..
        }
    ) {
        detail.push("waits until it is installed".into());
    }
    if matches!(
        j.state,
        State::Waiting {
            why: Wait::Retry,
            ..
        }
    ) {
        detail.push(format!(
            "retry {} of {}",
            j.attempts + 1,
            crate::jobs::MAX_ATTEMPTS
        ));
    }
    if let State::NotNeeded(why) = j.state {
        detail.push(format!("not needed: {why}"));
    }
    detail.join(" · ")
}

fn row(j: &Job) -> JobRow {
    JobRow {
        id: j.id,
        kind: j.kind.to_string(),
        source: j.source.clone(),
        made_for: j.kind.made_for().unwrap_or_default().to_string(),
        state: j.state.name(),
        progress: j.progress,
        detail: detail(j),
        // Not needed is not an error: its reason is in the detail.
        error: match j.state {
            State::NotNeeded(_) => String::new(),
            _ => j.error.clone().unwrap_or_default(),
        },
        plan: j.plan.clone(),
        log: j.log.clone(),
        // A version is not an entry: it is on its video's page.
        watch_href: match j.kind.version() {
            Some(_) => (j.state == State::Done)
                .then(|| format!("/watch/{}#download", encode_url_path(&j.source))),
            None => j
                .output
                .as_ref()
                .filter(|_| j.state == State::Done)
                .map(|o| format!("/watch/{}", encode_url_path(o))),
        },
        can_cancel: j.state.is_live(),
        can_retry: j.state.is_failed() || j.state == State::Cancelled,
    }
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    version: &'static str,
    jobs: Vec<JobRow>,
    live: bool,
    /// Why nothing is being converted ("ffmpeg cannot start: …").
    problem: Option<String>,
    /// Why transcodes wait ("the Pi is at 82 °C").
    paused: Option<String>,
    /// How transcodes are made, for the page's footnote (once found).
    encoder: &'static str,
    transcode: bool,
}

pub async fn page(app: Arc<App>) -> Reply_ {
    let jobs: Vec<JobRow> = app.jobs.list().iter().map(row).collect();
    let live = jobs.iter().any(|j| j.can_cancel);
    let html = JobsPage {
        version: ASSET_VERSION,
        jobs,
        live,
        problem: app.tools.problem(),
        paused: app.jobs.paused(),
        encoder: app
            .jobs
            .encoder_found()
            .map_or("the best encoder found", |e| e.name()),
        transcode: app.config.transcode,
    }
    .render()
    .map_err(|e| warp::reject::custom(Error::Internal(format!("template: {e}"))))?;
    Ok(warp::reply::html(html).into_response())
}

/// A job as `/api/jobs` shows it: as saved, plus the progress line the
/// page shows ("42% · 1.5× speed · 1:15:00 left"), so scripts need not
/// format durations themselves.
#[derive(serde::Serialize)]
struct ApiJob {
    #[serde(flatten)]
    job: Job,
    detail: String,
}

/// `GET /api/jobs`: a limited profile's folders' jobs only.
pub async fn api(app: Arc<App>, viewer: Viewer) -> Reply_ {
    let jobs: Vec<ApiJob> = app
        .jobs
        .list()
        .into_iter()
        .filter(|job| viewer.sees(&job.source))
        .map(|job| ApiJob {
            detail: detail(&job),
            job,
        })
        .collect();
    Ok(warp::reply::json(&jobs).into_response())
}

/// Cancel, retry or dismiss: JSON for scripts, back to the page for forms.
pub async fn action(id: u64, what: String, app: Arc<App>, caller: Caller) -> Reply_ {
    let permit = caller.permit(&app);
    let result = match what.as_str() {
        "cancel" | "retry" if permit.is_err() => Err(permit.expect_err("checked")),
        "cancel" => app.jobs.cancel(id).await,
        "retry" => app.jobs.retry(id).await,
        "dismiss" => match &caller.browser {
            Some(v) => app.dismiss_job(id, v).await,
            None => Err(Error::NotFound),
        },
        _ => Err(Error::NotFound),
    };
    let back = if what == "dismiss" { "/" } else { "/jobs" };
    let result = result.map(|job| (serde_json::to_value(job).unwrap_or_default(), back.into()));
    Ok(answer(caller.wants_json, result, false))
}
