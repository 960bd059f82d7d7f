//! Who is asking, decided at the door: one filter reads a request's
//! cookies, password and address into a [`Caller`] and asks the app, once,
//! who is watching (its [`Viewer`]). A route that names a library path
//! takes it as a [`Seen`] path from [`seen`] or [`seen_by`], which answer
//! `404` for another folder's video before any handler runs: no handler
//! can forget to ask.

use std::convert::Infallible;
use std::sync::Arc;

use warp::http::{header, HeaderMap};
use warp::path::Tail;
use warp::{Filter, Rejection};

use super::reply::{browser_id, cookie_value};
use crate::error::Error;
use crate::profiles::{Seen, Viewer};
use crate::App;

/// The cookie that keeps a browser's choice of profile (signed by the
/// server, see [`App::choose_profile`]).
pub const PROFILE_COOKIE: &str = "pimedia_profile";

/// Who is asking: their cookies, a password header, whether they want
/// JSON back, and who is watching.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The upload password's cookie.
    pub password_cookie: Option<String>,
    /// This browser's id (its notices, its reports, its device).
    pub browser: Option<String>,
    pub password: Option<String>,
    pub wants_json: bool,
    /// Where the request came from, for the wrong-password count.
    pub client: Option<std::net::IpAddr>,
    /// Who is watching on this browser, and what they may see.
    pub viewer: Viewer,
}

impl Caller {
    /// The caller of a request: its headers, and the address it came from
    /// (behind nginx on this machine, the client nginx names in
    /// `X-Forwarded-For`).
    fn of(app: &App, h: &HeaderMap, peer: Option<crate::server::Peer>) -> Caller {
        let peer = peer.map(|p| p.0.ip());
        let forwarded = h
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        let client = match peer {
            Some(ip) if ip.is_loopback() => forwarded.or(Some(ip)),
            other => other,
        };
        let browser = browser_id(h);
        let choice = cookie_value(h, PROFILE_COOKIE);
        Caller {
            viewer: app.viewer(browser.as_deref(), choice.as_deref()),
            client,
            browser,
            password_cookie: cookie_value(h, crate::upload::COOKIE),
            password: h
                .get("x-upload-password")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            wants_json: h
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("application/json")),
        }
    }

    /// Whether this caller may change things (see [`Caller::permit`]).
    pub fn allowed(&self, app: &App) -> bool {
        self.permit(app).is_ok()
    }

    /// `Ok` when this caller may change things; else `403` for a limited
    /// profile, `401` without the password, or `429` while it must wait
    /// after too many wrong passwords.
    pub fn permit(&self, app: &App) -> Result<(), Error> {
        self.viewer.may_change()?;
        match app.allows(
            self.password_cookie.as_deref(),
            self.password.as_deref(),
            self.client,
        )? {
            true => Ok(()),
            false => Err(Error::Unauthorized),
        }
    }
}

pub(super) fn with_app(
    app: Arc<App>,
) -> impl Filter<Extract = (Arc<App>,), Error = Infallible> + Clone + Send + Sync + 'static {
    warp::any().map(move || app.clone())
}

/// The one place a request becomes a [`Caller`], and who is watching is
/// decided.
pub fn caller(
    app: Arc<App>,
) -> impl Filter<Extract = (Caller,), Error = Infallible> + Clone + Send + Sync + 'static {
    warp::header::headers_cloned()
        .and(warp::ext::optional::<crate::server::Peer>())
        .and(with_app(app))
        .map(|h: HeaderMap, peer, app: Arc<App>| Caller::of(&app, &h, peer))
}

/// Who is watching, for a listing or a lookup.
pub fn viewer(
    app: Arc<App>,
) -> impl Filter<Extract = (Viewer,), Error = Infallible> + Clone + Send + Sync + 'static {
    caller(app).map(|c: Caller| c.viewer)
}

/// The library path the rest of the address names (`split` takes what
/// follows it off, and gives it as `T`), as the caller may see it: `404`
/// for another folder's video, or a path that is no path.
pub fn seen_for<T: Send + 'static>(
    app: Arc<App>,
    split: impl Fn(&str) -> Option<(&str, T)> + Clone + Send + Sync + 'static,
) -> impl Filter<Extract = (Caller, Seen, T), Error = Rejection> + Clone + Send + Sync + 'static {
    warp::path::tail()
        .and(caller(app))
        .and_then(move |tail: Tail, caller: Caller| {
            let parts = split(tail.as_str())
                .map(|(encoded, rest)| (crate::paths::url_relative(encoded), rest));
            async move {
                let (path, rest) = parts.ok_or(Error::NotFound)?;
                let seen = caller.viewer.clone().see(path.ok_or(Error::NotFound)?)?;
                Ok::<_, Rejection>((caller, seen, rest))
            }
        })
        .untuple_one()
}

/// [`seen_for`] the whole rest of the address, with its caller.
pub fn seen_by(
    app: Arc<App>,
) -> impl Filter<Extract = (Caller, Seen), Error = Rejection> + Clone + Send + Sync + 'static {
    seen_for(app, |tail| Some((tail, ())))
        .map(|caller, seen, ()| (caller, seen))
        .untuple_one()
}

/// [`seen_for`] what `path` makes of the rest of the address (what
/// precedes `.mp3`).
pub fn seen_in(
    app: Arc<App>,
    path: fn(&str) -> Option<&str>,
) -> impl Filter<Extract = (Seen,), Error = Rejection> + Clone + Send + Sync + 'static {
    seen_for(app, move |tail| path(tail).map(|p| (p, ()))).map(|_: Caller, seen: Seen, ()| seen)
}

/// [`seen_for`] the whole rest of the address.
pub fn seen(
    app: Arc<App>,
) -> impl Filter<Extract = (Seen,), Error = Rejection> + Clone + Send + Sync + 'static {
    seen_in(app, |tail| Some(tail))
}

/// Passes unless the browser's profile is limited to some folders: the
/// pages that change the library are not for it (`403` and a sentence).
pub fn for_grown_ups(
    app: Arc<App>,
) -> impl Filter<Extract = (), Error = Rejection> + Clone + Send + Sync + 'static {
    viewer(app)
        .and_then(|v: Viewer| async move { v.may_change().map_err(warp::reject::custom) })
        .untuple_one()
}
