//! `/api/profiles`: the people in the house, made, changed and removed
//! from the phone (the upload password's rules hold for the writes).

use std::sync::Arc;

use serde::Deserialize;
use warp::http::StatusCode;
use warp::Reply;

use super::Caller;
use crate::error::Error;
use crate::profiles::Change;
use crate::App;

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
}

impl ChangeBody {
    fn change(self) -> Change {
        Change {
            name: self.name,
            color: self.color,
            pin: self.pin,
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
        return Ok(super::json_error(&e));
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
        (Some(id), Some("remove")) => app.profiles.remove(id).await.map(|p| (StatusCode::OK, p)),
        (Some(_), Some(_)) => Err(Error::NotFound),
    };
    Ok(match result {
        Ok((status, p)) => warp::reply::with_status(warp::reply::json(&p), status).into_response(),
        Err(e) => super::json_error(&e),
    })
}
