//! Tidying the library from the phone: delete (to the trash), rename and
//! move, new folders, and the trash page. Forms get `303` back to a page;
//! `Accept: application/json` gets JSON. Every change needs the upload
//! password when one is set.

use std::sync::Arc;

use askama::Template;
use serde::Deserialize;
use warp::Reply;

use super::door::Caller;
use super::reply::{answer, folder_href, watch_href, ASSET_VERSION};
use crate::error::Error;
use crate::fsutil::now;
use crate::profiles::Seen;
use crate::versions::Version;
use crate::App;

type Reply_ = Result<warp::reply::Response, warp::Rejection>;

/// The fields these forms and JSON bodies carry.
#[derive(Debug, Default, Deserialize)]
pub struct Fields {
    /// The new path of a rename, relative to the media dir.
    to: Option<String>,
    /// A new folder's path, relative to the media dir (or to `in`).
    path: Option<String>,
    /// The folder a new folder's form was in.
    #[serde(rename = "in")]
    inside: Option<String>,
    /// A version to make (`720p`).
    name: Option<String>,
}

/// What a `POST /api/videos/{path}/…` asks of a video (or folder).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VideoAction {
    Delete,
    Rename,
    /// `…/versions` (`name`).
    MakeVersion,
    /// `…/versions/{name}/delete`.
    RemoveVersion(Version),
}

impl VideoAction {
    /// The video's percent-encoded path and the action an address
    /// after `/api/videos/` names.
    pub fn of(tail: &str) -> Option<(&str, VideoAction)> {
        if let Some(video) = tail.strip_suffix("/versions") {
            return Some((video, VideoAction::MakeVersion));
        }
        if let Some((video, v)) = tail
            .strip_suffix("/delete")
            .and_then(|rest| rest.rsplit_once("/versions/"))
        {
            return Some((video, VideoAction::RemoveVersion(Version::parse(v)?)));
        }
        match tail.rsplit_once('/')? {
            (video, "delete") => Some((video, VideoAction::Delete)),
            (video, "rename") => Some((video, VideoAction::Rename)),
            _ => None,
        }
    }
}

/// `POST /api/videos/{path}/delete` and `…/rename` (and a version's
/// actions, see `versions.rs`).
pub async fn video_action(
    app: Arc<App>,
    caller: Caller,
    seen: Seen,
    action: VideoAction,
    fields: Fields,
) -> Reply_ {
    let path = seen.path();
    let result = match caller.permit(&app) {
        Err(e) => Err(e),
        Ok(()) => match action {
            VideoAction::MakeVersion => {
                let (name, browser) = (fields.name.as_deref(), caller.browser.clone());
                super::versions::make(&app, path, name, browser).await
            }
            VideoAction::RemoveVersion(v) => super::versions::remove(&app, path, v).await,
            VideoAction::Delete => app.manage.delete(path).await.map(|e| {
                let folder = path.rsplit_once('/').map_or("", |(d, _)| d);
                let json = serde_json::json!({ "trash": e.id, "path": e.path, "title": e.title, "files": e.files });
                (json, folder_href(folder))
            }),
            VideoAction::Rename => match fields.to.as_deref() {
                None => Err(Error::BadRequest("Say the new name in the field 'to'.".into())),
                Some(to) => app.manage.rename(path, to).await.map(|new| {
                    let back = if app.library.get(&new).is_some() {
                        watch_href(&new)
                    } else {
                        folder_href(&new)
                    };
                    (serde_json::json!({ "path": new }), back)
                }),
            },
        },
    };
    let made = action == VideoAction::MakeVersion;
    Ok(answer(caller.wants_json, result, made))
}

/// `POST /api/folders`.
pub async fn new_folder(app: Arc<App>, caller: Caller, fields: Fields) -> Reply_ {
    let result = if let Err(e) = caller.permit(&app) {
        Err(e)
    } else {
        let name = fields.path.unwrap_or_default();
        let full = match fields
            .inside
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            Some(dir) => format!("{dir}/{name}"),
            None => name,
        };
        app.manage
            .new_folder(&full)
            .await
            .map(|p| (serde_json::json!({ "path": p }), folder_href(&p)))
    };
    Ok(answer(caller.wants_json, result, true))
}

/// `POST /api/trash/{id}/restore` and `POST /api/trash/empty`.
pub async fn trash_action(id: Option<String>, app: Arc<App>, caller: Caller) -> Reply_ {
    let result = if let Err(e) = caller.permit(&app) {
        Err(e)
    } else {
        match id {
            Some(id) => app
                .manage
                .restore(&id)
                .await
                .map(|p| (serde_json::json!({ "path": p }), "/trash".to_string())),
            None => app
                .manage
                .empty_trash()
                .await
                .map(|n| (serde_json::json!({ "emptied": n }), "/trash".to_string())),
        }
    };
    Ok(answer(caller.wants_json, result, false))
}

pub struct TrashRow {
    pub id: String,
    pub title: String,
    pub path: String,
    pub files: usize,
    pub deleted: String,
    pub days_left: u64,
}

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage {
    version: &'static str,
    rows: Vec<TrashRow>,
    needs_password: bool,
    keep_days: u64,
}

/// `GET /trash` (JSON with `Accept: application/json`).
pub async fn page(app: Arc<App>, caller: Caller) -> Reply_ {
    let entries = app.manage.trash().await;
    if caller.wants_json {
        return Ok(warp::reply::json(&entries).into_response());
    }
    let t = now();
    let rows = entries
        .iter()
        .map(|e| TrashRow {
            id: e.id.clone(),
            title: e.title.clone(),
            path: e.path.clone(),
            files: e.files.len(),
            deleted: super::format::ago(t.saturating_sub(e.deleted)),
            days_left: e.expires().saturating_sub(t).div_ceil(86400),
        })
        .collect();
    let html = TrashPage {
        version: ASSET_VERSION,
        rows,
        needs_password: !caller.allowed(&app),
        keep_days: crate::manage::trash::KEEP_DAYS,
    }
    .render()
    .map_err(|e| warp::reject::custom(Error::Internal(format!("template: {e}"))))?;
    Ok(warp::reply::html(html).into_response())
}
