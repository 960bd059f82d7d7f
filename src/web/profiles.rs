//! The people in the house: "Who's watching?" (`/profiles`, the choice
//! kept in a signed cookie), and `/api/profiles`, where they are made,
//! changed and removed from the phone (the upload password's rules hold
//! for the writes).

use std::sync::Arc;

use askama::Template;
use serde::Deserialize;
use warp::http::{header, Response, StatusCode};
use warp::Reply;

use super::{Caller, ASSET_VERSION};
use crate::error::Error;
use crate::profiles::{Change, Profile};
use crate::App;

/// The cookie that keeps a browser's choice, signed by the server.
pub const COOKIE: &str = "pimedia_profile";
/// What the signature of [`COOKIE`] is for.
const PURPOSE: &str = "profile";
/// A choice is kept until someone switches (ten years).
const KEPT_SECS: u64 = 10 * 365 * 24 * 3600;

/// Who is watching on a browser.
#[derive(Debug, Clone, PartialEq)]
pub enum Who {
    /// Fewer than two profiles and none chosen: the house, as before
    /// profiles.
    Household,
    Person(Profile),
    /// Two or more profiles, and this browser has not chosen.
    Unchosen,
}

impl Who {
    /// The person, when one was chosen.
    pub fn person(&self) -> Option<&Profile> {
        match self {
            Who::Person(p) => Some(p),
            _ => None,
        }
    }

    /// Whose positions are theirs.
    pub fn whose(&self) -> crate::positions::Whose {
        self.person().map(|p| p.id)
    }

    /// What they see of the library.
    pub fn within(&self) -> crate::library::Within {
        self.person().map(Profile::within).unwrap_or_default()
    }

    /// `Err` for a profile limited to some folders: it watches, it does
    /// not change the library nor reach the pages that do.
    pub fn may_change(&self) -> Result<(), Error> {
        match self.person() {
            Some(p) if p.limited => Err(Error::Forbidden(format!(
                "{} watches what is in their folders; changing the library needs another profile.",
                p.name
            ))),
            _ => Ok(()),
        }
    }
}

/// The profile the caller's device is kept to, if it is.
fn pinned(app: &App, caller: &Caller) -> Option<Profile> {
    let device = app.devices.get(caller.viewer.as_deref()?)?;
    app.profiles.get(device.profile?)
}

/// Who is watching on the caller's browser: the profile its device is
/// kept to, else the one it chose.
pub fn who(app: &App, caller: &Caller) -> Who {
    if let Some(p) = pinned(app, caller) {
        return Who::Person(p);
    }
    let all = app.profiles.list();
    let chosen = caller
        .profile
        .as_deref()
        .and_then(|c| app.auth.verified(PURPOSE, c))
        .and_then(|id| id.parse::<u64>().ok())
        .and_then(|id| all.iter().find(|p| p.id == id));
    match (chosen, all.len()) {
        (Some(p), _) => Who::Person(p.clone()),
        (None, 0 | 1) => Who::Household,
        (None, _) => Who::Unchosen,
    }
}

#[derive(Template)]
#[template(path = "profiles.html")]
struct Chooser {
    version: &'static str,
    profiles: Vec<Profile>,
    error: Option<String>,
}

fn chooser(app: &App, status: StatusCode, error: Option<String>) -> Reply_ {
    let html = Chooser {
        version: ASSET_VERSION,
        profiles: app.profiles.list(),
        error,
    }
    .render()
    .map_err(|e| warp::reject::custom(Error::Internal(format!("template: {e}"))))?;
    Ok(warp::reply::with_status(warp::reply::html(html), status).into_response())
}

/// `GET /profiles`: "Who's watching?", a big tile for each profile; the
/// remote moves between them and Enter chooses (a form each: no script
/// needed).
pub async fn page(app: Arc<App>) -> Reply_ {
    chooser(&app, StatusCode::OK, None)
}

/// The chooser's form.
#[derive(Debug, Default, Deserialize)]
pub struct Choice {
    id: String,
    #[serde(default)]
    pin: String,
}

/// `POST /profiles/choose` (`id`, `pin`): the choice kept in a signed
/// cookie, back to the library. A wrong PIN is counted and slowed as a
/// wrong password is.
pub async fn choose(app: Arc<App>, caller: Caller, choice: Choice) -> Reply_ {
    if let Some(kept) = pinned(&app, &caller) {
        return chooser(
            &app,
            StatusCode::FORBIDDEN,
            Some(format!(
                "This device is kept to {} (on the Devices page).",
                kept.name
            )),
        );
    }
    let Some(p) = choice
        .id
        .parse::<u64>()
        .ok()
        .and_then(|id| app.profiles.get(id))
    else {
        return chooser(
            &app,
            StatusCode::NOT_FOUND,
            Some("That profile is gone; choose another.".into()),
        );
    };
    if p.has_pin {
        let right = app.auth.slowed(caller.client, "profile PIN", || {
            app.profiles.pin_matches(p.id, &choice.pin)
        });
        match right {
            Ok(true) => {}
            Ok(false) => {
                return chooser(
                    &app,
                    StatusCode::FORBIDDEN,
                    Some(format!("That is not {}'s PIN.", p.name)),
                )
            }
            Err(wait) => {
                let mut r = chooser(
                    &app,
                    StatusCode::TOO_MANY_REQUESTS,
                    Some(format!("Too many wrong PINs: try again in {wait} seconds.")),
                )?;
                r.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
                return Ok(r);
            }
        }
    }
    let cookie = format!(
        "{COOKIE}={}; Path=/; Max-Age={KEPT_SECS}; SameSite=Lax; HttpOnly",
        app.auth.signed(PURPOSE, &p.id.to_string())
    );
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/")
        .header(header::SET_COOKIE, cookie)
        .body(Default::default())
        .expect("valid response"))
}

type Reply_ = Result<warp::reply::Response, warp::Rejection>;

/// `GET /api/profiles`: `[{id, name, color, limited, folders, has_pin}]`,
/// never a PIN.
pub async fn list(app: Arc<App>) -> Reply_ {
    Ok(warp::reply::json(&app.profiles.list()).into_response())
}

/// Folders as JSON gives them (a list) or a form (one a line).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Folders {
    List(Vec<String>),
    Lines(String),
}

/// A profile's fields from a form or JSON; what is left out stays.
#[derive(Debug, Default, Deserialize)]
pub struct ChangeBody {
    name: Option<String>,
    color: Option<String>,
    pin: Option<String>,
    folders: Option<Folders>,
    /// The Devices page's form: a PIN to set (empty keeps it)...
    new_pin: Option<String>,
    /// ...or none at all.
    no_pin: Option<String>,
}

impl ChangeBody {
    fn change(self) -> Change {
        let from_form = match (self.no_pin.as_deref(), self.new_pin) {
            (Some(_), _) => Some(String::new()),
            (None, Some(pin)) if !pin.trim().is_empty() => Some(pin),
            _ => None,
        };
        Change {
            name: self.name,
            color: self.color,
            pin: self.pin.or(from_form),
            folders: self.folders.map(|f| match f {
                Folders::List(l) => l,
                Folders::Lines(text) => text.lines().map(str::to_string).collect(),
            }),
        }
    }
}

/// `POST /api/profiles` (make), `POST /api/profiles/{id}` (change) and
/// `POST /api/profiles/{id}/remove`: the profile as it is now, `201` for
/// a new one.
pub async fn action(
    id: Option<u64>,
    what: Option<String>,
    app: Arc<App>,
    caller: Caller,
    body: ChangeBody,
) -> Reply_ {
    if let Err(e) = caller.permit(&app) {
        return reply_error(&app, &caller, e);
    }
    let library = app.library.clone();
    let is_folder = move |f: &str| library.has_folder(f);
    let result = match (id, what.as_deref()) {
        (None, _) => app
            .profiles
            .add(body.change(), is_folder)
            .await
            .map(|p| (StatusCode::CREATED, p)),
        (Some(id), None) => app
            .profiles
            .change(id, body.change(), is_folder)
            .await
            .map(|p| (StatusCode::OK, p)),
        (Some(id), Some("remove")) => app.remove_profile(id).await.map(|p| (StatusCode::OK, p)),
        (Some(_), Some(_)) => Err(Error::NotFound),
    };
    match result {
        Ok((status, p)) if caller.wants_json => {
            Ok(warp::reply::with_status(warp::reply::json(&p), status).into_response())
        }
        // The Devices page's forms come back to it.
        Ok(_) => Ok(super::manage::see_other("/devices#people")),
        Err(e) => reply_error(&app, &caller, e),
    }
}

/// JSON for scripts; the Devices page again, saying why, for its forms.
fn reply_error(app: &App, caller: &Caller, e: Error) -> Reply_ {
    if caller.wants_json {
        return Ok(super::json_error(&e));
    }
    super::devices::page_with(app, caller, super::status_of(&e), Some(e.to_string()))
}
