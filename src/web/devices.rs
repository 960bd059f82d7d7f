//! `/devices` and `/api/devices`: what each browser plays, the household
//! target made of them, and the reports pages send.

use std::sync::Arc;

use askama::Template;
use serde::{Deserialize, Serialize};
use warp::http::{header, StatusCode};
use warp::Reply;

use super::door::Caller;
use super::reply::{browser_cookie, json_error, see_other, status_of, ASSET_VERSION};
use crate::devices::{Change, Device, Report, CODECS};
use crate::error::Error;
use crate::fsutil::now;
use crate::App;

type Reply_ = Result<warp::reply::Response, warp::Rejection>;

/// One answer, as the page and the API show it.
#[derive(Serialize)]
pub struct Answer {
    pub key: &'static str,
    pub label: &'static str,
    pub yes: bool,
    /// A file of this kind failed on its player.
    pub failed: bool,
}

/// A device as the page and `/api/devices` show it.
#[derive(Serialize)]
pub struct DeviceView {
    pub number: u64,
    pub name: String,
    /// The name its user agent gives, shown when none is set.
    pub auto_name: String,
    pub user_agent: String,
    pub last_seen: u64,
    pub last_seen_ago: String,
    pub last_player: Option<u64>,
    /// Whether conversions are made for it now.
    pub convert: bool,
    /// As set on this page, if it was.
    pub convert_set: Option<bool>,
    pub plays: Vec<Answer>,
    /// What it plays, as `--tv-codecs` would say it.
    pub tv_codecs: String,
    /// The profile it is kept to, or `null`.
    pub profile: Option<u64>,
}

fn view(d: &Device, at: u64) -> DeviceView {
    DeviceView {
        number: d.number,
        name: d.name(),
        auto_name: d.auto_name(),
        user_agent: d.user_agent.clone(),
        last_seen: d.last_seen,
        last_seen_ago: super::format::ago(at.saturating_sub(d.last_seen)),
        last_player: d.last_player,
        convert: d.counted(at),
        convert_set: d.convert,
        profile: d.profile,
        plays: CODECS
            .iter()
            .map(|c| Answer {
                key: c.key,
                label: c.label,
                yes: d.plays(c.key),
                failed: d.failed.contains(c.key),
            })
            .collect(),
        tv_codecs: d.target().names(),
    }
}

/// The target in words: "H.264 and HEVC, up to 1080p".
fn target_words(t: &crate::media::Target) -> String {
    let mut codecs = vec!["H.264"];
    for (on, name) in [(t.hevc, "HEVC"), (t.vp9, "VP9"), (t.av1, "AV1")] {
        if on {
            codecs.push(name);
        }
    }
    let size = if t.uhd { "4K" } else { "1080p" };
    let list = match codecs.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => codecs.join(""),
    };
    format!("{list} video up to {size}, with AAC or MP3 sound")
}

#[derive(Serialize)]
struct Household {
    /// Learned from the devices (no `--tv-codecs`).
    learning: bool,
    /// What conversions are made for, as `--tv-codecs` would say it.
    tv_codecs: String,
    /// The questions pages ask.
    codecs: &'static [crate::devices::Codec],
    devices: Vec<DeviceView>,
}

/// `GET /api/devices`.
pub async fn api(app: Arc<App>) -> Reply_ {
    let (target, learning) = (app.devices.target(), app.devices.learning());
    let at = now();
    Ok(warp::reply::json(&Household {
        learning,
        tv_codecs: target.names(),
        codecs: CODECS,
        devices: app.devices.list().iter().map(|d| view(d, at)).collect(),
    })
    .into_response())
}

/// `GET /api/devices/me`: whether this browser's pages should report, and
/// the questions to answer (so the list lives in one place).
pub async fn me(app: Arc<App>, caller: Caller) -> Reply_ {
    let body = serde_json::json!({
        "due": app.devices.report_due(caller.browser.as_deref()),
        "codecs": CODECS,
    });
    Ok(warp::reply::json(&body).into_response())
}

/// `POST /api/devices/me`: a page's report, or its player's failure. A
/// browser without an id gets one (a random cookie, kept a year).
pub async fn report(
    app: Arc<App>,
    caller: Caller,
    user_agent: Option<String>,
    body: bytes::Bytes,
) -> Reply_ {
    let body: Report = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            let e = Error::BadRequest(format!("The report is not the JSON pages send: {e}."));
            return Ok(json_error(&e));
        }
    };
    // Whether a video it may not see is in the library is not its to learn.
    if body
        .failed
        .as_deref()
        .is_some_and(|p| !caller.viewer.sees(p))
    {
        return Ok(json_error(&Error::NotFound));
    }
    let (id, new) = match caller.browser {
        Some(id) => (id, false),
        None => (
            crate::upload::random_id().map_err(|e| Error::Internal(e.to_string()))?,
            true,
        ),
    };
    let reported = match app
        .intake
        .player_report(
            &id,
            caller.client,
            user_agent.as_deref().unwrap_or(""),
            &body,
        )
        .await
    {
        Ok(r) => r,
        Err(e) => return Ok(json_error(&e)),
    };
    let mut resp = warp::reply::json(&reported).into_response();
    if let Some(cookie) = browser_cookie(&id).filter(|_| new) {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    version: &'static str,
    learning: bool,
    tv_codecs: String,
    target: String,
    counted: usize,
    devices: Vec<DeviceView>,
    needs_password: bool,
    error: Option<String>,
    /// The people in the house, to change here, and to keep a device to.
    profiles: Vec<crate::profiles::Profile>,
    /// The library's folders, for a person kept to some.
    folders: Vec<String>,
}

pub(super) fn page_with(
    app: &App,
    caller: &Caller,
    status: StatusCode,
    error: Option<String>,
) -> Reply_ {
    let (target, learning) = (app.devices.target(), app.devices.learning());
    let at = now();
    let devices: Vec<DeviceView> = app.devices.list().iter().map(|d| view(d, at)).collect();
    let html = DevicesPage {
        version: ASSET_VERSION,
        learning,
        tv_codecs: target.names(),
        target: target_words(&target),
        counted: devices.iter().filter(|d| d.convert).count(),
        devices,
        needs_password: !caller.allowed(app),
        error,
        profiles: app.profiles.list(),
        folders: app.library.folders(),
    }
    .render()
    .map_err(|e| warp::reject::custom(Error::Internal(format!("template: {e}"))))?;
    Ok(warp::reply::with_status(warp::reply::html(html), status).into_response())
}

/// `GET /devices`.
pub async fn page(app: Arc<App>, caller: Caller) -> Reply_ {
    page_with(&app, &caller, StatusCode::OK, None)
}

/// A profile's id (a number in JSON, its digits in a form), or `0` or
/// `none` for none.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Pin {
    Id(u64),
    Text(String),
}

/// `"convert": true` from JSON, `convert=on` from a form's checkbox.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Flag {
    Bool(bool),
    Text(String),
}

/// A change from the page's form or as JSON.
#[derive(Debug, Default, Deserialize)]
pub struct ChangeBody {
    name: Option<String>,
    convert: Option<Flag>,
    /// A profile's id, or "" for none: `Some` only when sent.
    profile: Option<Pin>,
    /// Present in the page's form, whose unticked checkbox sends nothing.
    form: Option<String>,
}

impl ChangeBody {
    fn change(&self) -> Result<Change, Error> {
        let convert = match &self.convert {
            Some(Flag::Bool(b)) => Some(*b),
            Some(Flag::Text(t)) => match t.as_str() {
                "on" | "true" | "1" | "yes" => Some(true),
                "off" | "false" | "0" | "no" => Some(false),
                other => {
                    return Err(Error::BadRequest(format!(
                        "convert is '{other}'; it must be true or false."
                    )))
                }
            },
            None if self.form.is_some() => Some(false),
            None => None,
        };
        let profile = match &self.profile {
            None => None,
            Some(Pin::Id(0)) => Some(None),
            Some(Pin::Id(id)) => Some(Some(*id)),
            Some(Pin::Text(t)) if t.trim().is_empty() || t == "none" => Some(None),
            Some(Pin::Text(t)) => Some(Some(t.trim().parse().map_err(|_| {
                Error::BadRequest(format!("profile is '{t}'; it must be a profile's id."))
            })?)),
        };
        Ok(Change {
            name: self.name.clone(),
            convert,
            profile,
        })
    }
}

/// `POST /api/devices/{n}` (rename, convert for it or not) and
/// `POST /api/devices/{n}/forget`: the upload password when one is set.
pub async fn action(
    number: u64,
    what: Option<String>,
    app: Arc<App>,
    caller: Caller,
    body: ChangeBody,
) -> Reply_ {
    let result = if let Err(e) = caller.permit(&app) {
        Err(e)
    } else {
        match what.as_deref() {
            None => match body.change() {
                Ok(Change {
                    profile: Some(Some(id)),
                    ..
                }) if app.profiles.get(id).is_none() => Err(Error::BadRequest(format!(
                    "There is no profile {id} to keep this device to."
                ))),
                Ok(change) => app.devices.update(number, &change).await,
                Err(e) => Err(e),
            },
            Some("forget") => app.devices.forget(number).await,
            Some(_) => Err(Error::NotFound),
        }
    };
    match result {
        Ok(d) if caller.wants_json => Ok(warp::reply::json(&view(&d, now())).into_response()),
        Ok(_) => Ok(see_other("/devices")),
        Err(e) if caller.wants_json => Ok(json_error(&e)),
        Err(e) => page_with(&app, &caller, status_of(&e), Some(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_the_target_in_words() {
        let t = crate::media::Target::parse("h264,hevc,vp9").unwrap();
        assert_eq!(
            target_words(&t),
            "H.264, HEVC and VP9 video up to 1080p, with AAC or MP3 sound"
        );
        assert_eq!(
            target_words(&Default::default()),
            "H.264 video up to 1080p, with AAC or MP3 sound"
        );
    }
}
