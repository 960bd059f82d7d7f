//! The people in the house: "Who's watching?" (`/profiles`, the choice
//! kept in a signed cookie), and `/api/profiles`, where they are made,
//! changed and removed from the phone (the upload password's rules hold
//! for the writes).

use std::sync::Arc;

use askama::Template;
use serde::Deserialize;
use warp::http::{header, Response, StatusCode};
use warp::Reply;

use super::door::{Caller, PROFILE_COOKIE};
use super::reply::{json_error, page_with_status, see_other, status_of, ASSET_VERSION};
use crate::error::Error;
use crate::profiles::{Change, Profile};
use crate::App;

/// A choice is kept until someone switches (ten years).
const KEPT_SECS: u64 = 10 * 365 * 24 * 3600;

/// The `Set-Cookie` value that keeps a browser's choice (`signed`, as
/// the app made it).
fn choice_cookie(signed: &str) -> String {
    format!("{PROFILE_COOKIE}={signed}; Path=/; Max-Age={KEPT_SECS}; SameSite=Lax; HttpOnly")
}

#[derive(Template)]
#[template(path = "profiles.html")]
struct Chooser {
    version: &'static str,
    profiles: Vec<Profile>,
    error: Option<String>,
}

fn chooser(app: &App, status: StatusCode, error: Option<String>) -> Reply_ {
    let page = Chooser {
        version: ASSET_VERSION,
        profiles: app.profiles.list(),
        error,
    };
    page_with_status(&page, status)
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
    let browser = caller.browser.as_deref();
    match app.choose_profile(browser, &choice.id, &choice.pin, caller.client) {
        Ok(signed) => Ok(Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/")
            .header(header::SET_COOKIE, choice_cookie(&signed))
            .body(Default::default())
            .expect("valid response")),
        Err(e) => {
            let said = match e {
                Error::NotFound => "That profile is gone; choose another.".to_string(),
                ref e => e.to_string(),
            };
            let page = chooser(&app, status_of(&e), Some(said))?;
            Ok(super::reply::retry_after(&e, page))
        }
    }
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
        Ok(_) => Ok(see_other("/devices#people")),
        Err(e) => reply_error(&app, &caller, e),
    }
}

/// JSON for scripts; the Devices page again, saying why, for its forms.
fn reply_error(app: &App, caller: &Caller, e: Error) -> Reply_ {
    if caller.wants_json {
        return Ok(json_error(&e));
    }
    super::devices::page_with(app, caller, status_of(&e), Some(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> ChangeBody {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", super::super::format::q(v)))
            .collect::<Vec<_>>()
            .join("&");
        serde_urlencoded::from_str(&body).unwrap()
    }

    #[test]
    fn the_devices_page_form_keeps_a_pin_unless_told_otherwise() {
        // An empty PIN field keeps the PIN; "No PIN" clears it.
        assert_eq!(
            form(&[("name", "Kids"), ("new_pin", "")]).change().pin,
            None
        );
        assert_eq!(
            form(&[("new_pin", "1234")]).change().pin.as_deref(),
            Some("1234")
        );
        assert_eq!(
            form(&[("new_pin", "1234"), ("no_pin", "on")])
                .change()
                .pin
                .as_deref(),
            Some("")
        );
        // JSON's own `pin` wins over the form's fields.
        let json: ChangeBody = serde_json::from_str(r#"{"pin": "", "new_pin": "9999"}"#).unwrap();
        assert_eq!(json.change().pin.as_deref(), Some(""));
    }

    #[test]
    fn folders_come_as_a_json_list_or_one_a_line() {
        let lines = form(&[("folders", "Kids\r\nCartoons\r\n")]).change();
        assert_eq!(lines.folders.unwrap(), ["Kids", "Cartoons"]);
        let list: ChangeBody =
            serde_json::from_str(r#"{"folders": ["Kids", "Films/Old"]}"#).unwrap();
        assert_eq!(list.change().folders.unwrap(), ["Kids", "Films/Old"]);
        // Left out: the profile's folders stay as they are.
        assert_eq!(form(&[("name", "Ben")]).change().folders, None);
    }

    #[test]
    fn the_choice_is_kept_by_the_browser_and_never_read_by_scripts() {
        let c = choice_cookie("2.abcd");
        assert!(c.starts_with("pimedia_profile=2.abcd; Path=/;"), "{c}");
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax"), "{c}");
        assert!(c.contains(&format!("Max-Age={KEPT_SECS}")), "{c}");
    }
}
