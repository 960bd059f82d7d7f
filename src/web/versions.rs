//! Smaller versions and downloads: make one now, remove one, a folder's
//! own list, and `GET /download/{path}` (`?version=NAME`) as an
//! attachment named as people read it (RFC 6266), with byte ranges so a
//! dropped download resumes; behind nginx, nginx sends the bytes
//! (`X-Accel-Redirect` to the internal location the shipped site has).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use warp::http::{header, HeaderMap, HeaderValue, Method};
use warp::Reply;

use super::door::Caller;
use super::files;
use super::reply::{answer, folder_href, watch_href};
use crate::error::Error;
use crate::profiles::Seen;
use crate::versions::Version;
use crate::App;

type Reply_ = Result<warp::reply::Response, warp::Rejection>;

/// The header the shipped nginx site sets on what it proxies: the
/// internal location that serves the media dir (see `deploy/nginx`).
pub const ACCEL_HEADER: &str = "x-pimedia-accel";

#[derive(Debug, Default, Deserialize)]
pub struct Fields {
    /// A folder's path.
    path: Option<String>,
    /// A folder's list (`720p, audio`; empty for none).
    versions: Option<String>,
    /// `1`: remove every version made in the folder too.
    remove: Option<String>,
    /// `1`: the page's form, its list in the checkboxes `v_<name>`.
    choices: Option<String>,
    v_1080p: Option<String>,
    v_720p: Option<String>,
    v_480p: Option<String>,
    v_360p: Option<String>,
    v_audio: Option<String>,
}

impl Fields {
    /// The page's ticked boxes, largest first.
    fn ticked(&self) -> Vec<Version> {
        [
            (&self.v_1080p, Version::P1080),
            (&self.v_720p, Version::P720),
            (&self.v_480p, Version::P480),
            (&self.v_360p, Version::P360),
            (&self.v_audio, Version::Audio),
        ]
        .into_iter()
        .filter(|(on, _)| on.is_some())
        .map(|(_, v)| v)
        .collect()
    }
}

fn version_named(name: Option<&str>) -> Result<Version, Error> {
    let name = name.unwrap_or("").trim();
    Version::parse(name).ok_or_else(|| {
        Error::BadRequest(format!(
            "'{name}' is not a version: say one of 1080p, 720p, 480p, 360p or audio in the field 'name'."
        ))
    })
}

/// `POST /api/videos/{path}/versions` (`name`): a version made now, as
/// JSON, and the player's Download list to go back to.
pub async fn make(
    app: &App,
    path: &str,
    name: Option<&str>,
    browser: Option<String>,
) -> Result<(serde_json::Value, String), Error> {
    let version = version_named(name)?;
    let info = app.make_version(path, version, browser).await?;
    let back = format!("{}#download", watch_href(path));
    Ok((serde_json::to_value(info).unwrap_or_default(), back))
}

/// `POST /api/videos/{path}/versions/{name}/delete`.
pub async fn remove(
    app: &App,
    path: &str,
    version: Version,
) -> Result<(serde_json::Value, String), Error> {
    app.remove_version(path, version).await?;
    let json = serde_json::json!({ "path": path, "removed": version });
    Ok((json, watch_href(path)))
}

/// `POST /api/folders/versions` (`path`, `versions`, `remove`).
pub async fn folder_action(app: Arc<App>, caller: Caller, fields: Fields) -> Reply_ {
    let result = async {
        caller.permit(&app)?;
        let folder = fields
            .path
            .as_deref()
            .unwrap_or("")
            .trim()
            .trim_matches('/');
        let folder = if folder.is_empty() {
            String::new()
        } else {
            crate::manage::safe_relative(folder)?
        };
        let list = match fields.versions.as_deref() {
            _ if fields.choices.is_some() => fields.ticked(),
            Some(l) => Version::parse_list(l).map_err(Error::BadRequest)?,
            None => app.folder_versions(&folder).versions,
        };
        let remove = fields
            .remove
            .as_deref()
            .is_some_and(|r| r == "1" || r == "true");
        let f = app.set_folder_versions(&folder, list, remove).await?;
        let back = folder_href(&folder);
        Ok((serde_json::to_value(f).unwrap_or_default(), back))
    }
    .await;
    Ok(answer(caller.wants_json, result, false))
}

/// `GET /download/{path}` and `?version=NAME`.
pub async fn download(
    query: HashMap<String, String>,
    method: Method,
    headers: HeaderMap,
    app: Arc<App>,
    seen: Seen,
) -> Reply_ {
    let rel = seen.path();
    let original = app.file_of(&seen).await.ok_or(Error::NotFound)?;
    if !original.is_file() {
        return Err(Error::NotFound.into());
    }
    let version = match query.get("version").map(String::as_str) {
        None | Some("") | Some("original") => None,
        Some(name) => Some(version_named(Some(name))?),
    };
    let file = match version {
        None => original,
        Some(v) => app.version_file(rel, v).await.ok_or(Error::NotFound)?,
    };
    let name = app.download_name(rel, version);
    let kind = match version {
        Some(Version::Audio) => "audio/mp4",
        Some(_) => "video/mp4",
        None => crate::media::content_type(&file),
    };
    let accel = super::reply::header_str(&headers, ACCEL_HEADER)
        .filter(|p| p.starts_with('/') && p.ends_with('/') && p.is_ascii());
    let mut resp = match accel {
        Some(prefix) => {
            let inside = file
                .strip_prefix(app.library.root())
                .map_err(|_| Error::NotFound)?;
            let target = format!(
                "{prefix}{}",
                crate::paths::encode_url_bytes(inside.as_os_str())
            );
            let mut r = warp::reply::Response::default();
            r.headers_mut().insert(
                "x-accel-redirect",
                HeaderValue::from_str(&target).map_err(|_| Error::NotFound)?,
            );
            r
        }
        None => files::serve_file(&file, &method, &headers).await?,
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&attachment(&name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp.into_response())
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII
/// name for old browsers, the real one for the rest.
pub fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            let plain = c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\';
            if plain {
                c
            } else {
                '_'
            }
        })
        .collect();
    if ascii == name {
        return format!("attachment; filename=\"{ascii}\"");
    }
    // RFC 5987's attr-chars that need no escape, of the unreserved ones.
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(name, KEEP);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_as_rfc_6266_says() {
        assert_eq!(
            attachment("The Matrix (1999) - 720p.mp4"),
            "attachment; filename=\"The Matrix (1999) - 720p.mp4\""
        );
        assert_eq!(
            attachment("Café \"noir\".mp4"),
            "attachment; filename=\"Caf_ _noir_.mp4\"; filename*=UTF-8''Caf%C3%A9%20%22noir%22.mp4"
        );
    }
}
