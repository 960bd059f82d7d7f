//! Server-rendered pages (askama). Each handler gathers a view and renders.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use warp::Rejection;

use super::door::Caller;
use super::format::{format_duration, format_resolution, q};
use super::reply::{render, see_other, watch_href, ASSET_VERSION};
use crate::error::Error;
use crate::library::{Query, Sort, Video, Within};
use crate::paths::{check_relative, encode_url_path};
use crate::positions::Whose;
use crate::profiles::Seen;
use crate::{App, VideoState};

pub const PER_PAGE: usize = 60;

pub struct Crumb {
    pub name: String,
    pub href: String,
}

pub struct FolderTile {
    pub name: String,
    pub href: String,
    /// Its first videos' posters (up to four): one is its face, more a mosaic.
    pub posters: Vec<String>,
}

pub struct VideoTile {
    pub title: String,
    /// `/thumbs/{id}.jpg`, or empty for the placeholder.
    pub poster: String,
    pub href: String,
    pub duration: String,
    pub resolution: String,
    /// A short state word shown on the tile, e.g. "needs conversion".
    pub note: String,
    /// Percent seen, for a half-watched video.
    pub seen: Option<u32>,
    pub watched: bool,
}

#[derive(Template)]
#[template(path = "library.html")]
struct LibraryPage {
    version: &'static str,
    /// Who is watching, when a profile was chosen (the header's "Switch").
    person: Option<crate::profiles::Profile>,
    heading: String,
    crumbs: Vec<Crumb>,
    dir: String,
    search: String,
    sort_name_href: String,
    sort_date_href: String,
    by_date: bool,
    folders: Vec<FolderTile>,
    videos: Vec<VideoTile>,
    /// "Continue watching": started, not finished, the latest first.
    continuing: Vec<VideoTile>,
    total: usize,
    page: usize,
    pages: usize,
    prev_href: Option<String>,
    next_href: Option<String>,
    notice: Option<String>,
    /// "Ready to play" for conversions this browser started.
    ready: Vec<super::notice::Notice>,
    /// Changes (a new folder) need the password first.
    needs_password: bool,
    /// The "Add videos from your phone" tile (the top of the library).
    phone_tile: bool,
    /// This page, to come back to after the password.
    here_href: String,
    /// The folder's smaller versions: its list, and what they take.
    versions: VersionsForm,
}

/// The folder's "Smaller versions" form.
struct VersionsForm {
    /// Each version, with whether the folder's videos get it.
    choices: Vec<(&'static str, String, bool)>,
    /// "720p, audio", or "none".
    list: String,
    /// The list comes from a folder above (or `--versions`).
    inherited: bool,
    count: usize,
    size: String,
}

impl VersionsForm {
    fn of(f: crate::app::FolderVersions) -> VersionsForm {
        use crate::versions::Version;
        let names: Vec<&str> = f.versions.iter().map(|v| v.name()).collect();
        VersionsForm {
            choices: Version::ALL
                .iter()
                .map(|v| (v.name(), v.label(), f.versions.contains(v)))
                .collect(),
            list: if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            },
            inherited: !f.own,
            count: f.count,
            size: crate::format::human_size(f.size),
        }
    }
}

fn list_href(dir: &str, search: &str, sort: Sort, page: usize) -> String {
    let mut parts = Vec::new();
    if !dir.is_empty() {
        parts.push(format!("dir={}", q(dir)));
    }
    if !search.is_empty() {
        parts.push(format!("q={}", q(search)));
    }
    if sort == Sort::Date {
        parts.push("sort=date".into());
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        "/".into()
    } else {
        format!("/?{}", parts.join("&"))
    }
}

fn crumbs(dir: &str) -> Vec<Crumb> {
    let mut out = vec![Crumb {
        name: "Library".into(),
        href: "/".into(),
    }];
    let mut acc = String::new();
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        if !acc.is_empty() {
            acc.push('/');
        }
        acc.push_str(part);
        out.push(Crumb {
            name: part.into(),
            href: list_href(&acc, "", Sort::Name, 1),
        });
    }
    out
}

fn video_tile(app: &App, whose: Whose, v: &Video) -> VideoTile {
    let meta = v.meta.as_ref();
    let pos = app.positions.get(whose, &v.path);
    let watched = pos.is_some_and(|p| p.watched());
    VideoTile {
        seen: pos
            .filter(|_| !watched)
            .and_then(|p| p.fraction())
            .map(|f| (f * 100.0).round() as u32)
            .filter(|p| *p >= 1),
        watched,
        title: v.title(),
        poster: v.thumb.map(poster_url).unwrap_or_default(),
        href: watch_href(&v.path),
        duration: meta
            .and_then(|m| m.duration)
            .map(format_duration)
            .unwrap_or_default(),
        resolution: meta
            .and_then(|m| Some(format_resolution(m.width?, m.height?)))
            .unwrap_or_default(),
        note: match app.intake.state_of(v) {
            VideoState::Ready => String::new(),
            VideoState::NeedsConversion => "needs conversion".into(),
            VideoState::Queued => "waiting to convert".into(),
            VideoState::Converting(p) => format!("converting {p:.0}%"),
            VideoState::NeedsTranscode => "needs transcode".into(),
            VideoState::ConversionFailed => "conversion failed".into(),
            VideoState::Unreadable => "unreadable".into(),
        },
    }
}

/// A language's own name, else the code as the file says it.
fn language_label(code: &str) -> String {
    crate::format::language_name(code)
        .map(str::to_string)
        .unwrap_or_else(|| code.to_string())
}

/// A subtitle track's name on the player: its language, whether it is
/// forced, and whether it was read from pictures (so an odd word is
/// understood).
fn track_label(f: &crate::library::SubtitleFile) -> String {
    let mut label = f
        .language
        .as_deref()
        .map(language_label)
        .unwrap_or_else(|| "Subtitles".into());
    if f.forced {
        label.push_str(", forced");
    }
    if f.from_pictures {
        label.push_str(" (from picture subtitles)");
    }
    label
}

/// The audio tracks of a library MP4 with more than one, by language
/// name (or title), each with the URL of a version that plays it first.
fn audio_choices(app: &App, rel: &str) -> Vec<AudioChoice> {
    let tracks = app.library.mp4_audio_tracks(rel);
    if tracks.len() < 2 {
        return Vec::new();
    }
    tracks
        .iter()
        .enumerate()
        .map(|(i, s)| AudioChoice {
            label: match (&s.language, &s.title) {
                (Some(l), Some(t)) if crate::format::language_name(l).is_some() => {
                    format!("{} ({t})", language_label(l))
                }
                (Some(l), _) => language_label(l),
                (None, Some(t)) => t.clone(),
                (None, None) => format!("Track {}", i + 1),
            },
            lang: s.language.clone().unwrap_or_default(),
            src: if i == 0 {
                app.video_url(rel)
            } else {
                format!("/audio/{i}/{}", encode_url_path(rel))
            },
        })
        .collect()
}

fn poster_url(id: u64) -> String {
    format!("/thumbs/{}.jpg", crate::library::poster_name(id))
}

/// The library's first row: at most this many.
const CONTINUING: usize = 12;

/// Videos started and not finished on any device, still in the library.
fn continuing(app: &App, whose: Whose, within: &Within) -> Vec<VideoTile> {
    app.positions
        .in_progress(whose)
        .into_iter()
        .filter(|(p, _)| within.sees(p))
        .filter(|(p, _)| !app.library.is_superseded(p))
        .filter_map(|(p, pos)| Some((app.library.get(&p)?, pos)))
        .take(CONTINUING)
        .map(|(v, pos)| VideoTile {
            seen: pos.fraction().map(|f| ((f * 100.0).round() as u32).max(1)),
            watched: false,
            ..video_tile(app, whose, &v)
        })
        .collect()
}

/// What a library page asks for: `?dir=`, `?q=`, `?sort=`, `?page=`.
struct Asked {
    dir: String,
    search: String,
    sort: Sort,
    page: usize,
    /// `?uploaded=n`, after a form upload.
    uploaded: Option<usize>,
}

impl Asked {
    fn of(params: &HashMap<String, String>) -> Result<Asked, Error> {
        let raw_dir = params.get("dir").map(String::as_str).unwrap_or("");
        Ok(Asked {
            dir: check_relative(raw_dir).ok_or(Error::NotFound)?,
            search: params.get("q").cloned().unwrap_or_default(),
            sort: match params.get("sort").map(String::as_str) {
                Some("date") => Sort::Date,
                _ => Sort::Name,
            },
            page: params.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
            uploaded: params.get("uploaded").and_then(|n| n.parse().ok()),
        })
    }

    fn href(&self, sort: Sort, page: usize) -> String {
        list_href(&self.dir, &self.search, sort, page)
    }
}

/// `GET /`: a folder of the library (the root first), or a search.
pub async fn library(
    app: Arc<App>,
    params: HashMap<String, String>,
    caller: Caller,
) -> Result<warp::reply::Response, Rejection> {
    use warp::Reply;
    if caller.viewer.must_choose() {
        return Ok(see_other("/profiles"));
    }
    let asked = Asked::of(&params)?;
    let within = caller.viewer.within();
    if !app.library.has_folder(&asked.dir) || !within.lists(&asked.dir) {
        return Err(Error::NotFound.into());
    }
    let listing = app.library.list(&Query {
        within,
        dir: asked.dir.clone(),
        search: asked.search.clone(),
        sort: asked.sort,
        page: asked.page,
        per_page: PER_PAGE,
    });
    render(&library_page(&app, &caller, asked, listing)).map(Reply::into_response)
}

fn folder_tile(app: &App, f: &str, sort: Sort, within: &Within) -> FolderTile {
    FolderTile {
        name: f.rsplit('/').next().unwrap_or(f).to_string(),
        href: list_href(f, "", sort, 1),
        posters: app
            .library
            .folder_posters(f, 4, within)
            .into_iter()
            .map(poster_url)
            .collect(),
    }
}

fn library_page(
    app: &App,
    caller: &Caller,
    asked: Asked,
    listing: crate::library::Listing,
) -> LibraryPage {
    let viewer = &caller.viewer;
    let (whose, within) = (viewer.whose(), viewer.within());
    let sort = asked.sort;
    let top = asked.dir.is_empty() && asked.search.is_empty() && listing.page == 1;
    let heading = if asked.search.is_empty() {
        asked
            .dir
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("Library")
            .to_string()
    } else {
        format!("Search: {}", asked.search)
    };
    LibraryPage {
        version: ASSET_VERSION,
        person: viewer.person().cloned(),
        ready: super::notice::notices(app, caller),
        needs_password: !caller.allowed(app),
        phone_tile: app.config.phone_tile && viewer.may_change().is_ok() && top,
        here_href: asked.href(sort, asked.page),
        versions: VersionsForm::of(app.folder_versions(&asked.dir)),
        notice: asked.uploaded.map(|n| match n {
            1 => "1 file uploaded.".to_string(),
            n => format!("{n} files uploaded."),
        }),
        heading,
        crumbs: crumbs(&asked.dir),
        sort_name_href: asked.href(Sort::Name, 1),
        sort_date_href: asked.href(Sort::Date, 1),
        by_date: sort == Sort::Date,
        prev_href: (listing.page > 1).then(|| asked.href(sort, listing.page - 1)),
        next_href: (listing.page < listing.pages).then(|| asked.href(sort, listing.page + 1)),
        folders: listing
            .folders
            .iter()
            .map(|f| folder_tile(app, f, sort, &within))
            .collect(),
        videos: listing
            .videos
            .iter()
            .map(|v| video_tile(app, whose, v))
            .collect(),
        continuing: if top {
            continuing(app, whose, &within)
        } else {
            Vec::new()
        },
        dir: asked.dir,
        search: asked.search,
        total: listing.total,
        page: listing.page,
        pages: listing.pages,
    }
}

pub struct Track {
    pub src: String,
    pub lang: String,
    pub label: String,
}

/// One of a video's audio languages, and the file that plays it first.
pub struct AudioChoice {
    pub label: String,
    pub lang: String,
    pub src: String,
}

/// The episode after this one, offered near the end.
pub struct NextUp {
    pub href: String,
    /// "S1 · E3 — The End".
    pub label: String,
}

#[derive(Template)]
#[template(path = "watch.html")]
struct WatchPage {
    version: &'static str,
    /// Who is watching, when a profile was chosen (the header's "Switch").
    person: Option<crate::profiles::Profile>,
    title: String,
    src: String,
    mime: &'static str,
    back_href: String,
    tracks: Vec<Track>,
    next: Option<NextUp>,
    /// Its audio languages, when it has more than one.
    audio: Vec<AudioChoice>,
    details: String,
    note: String,
    /// Where this video was left on any device, in seconds.
    resume: f64,
    position_url: String,
    /// The file this playable version was made from, to download.
    original: Option<(String, String)>,
    /// The library path, for the player's report when it can't play it.
    path: String,
    has_video: bool,
    /// The path in the manage forms' addresses (percent-encoded).
    action_path: String,
    /// The rename field's first value: folder and name, no extension.
    rename_to: String,
    needs_password: bool,
    watch_href: String,
    /// What its conversion found ("It ends at 6:02 of 10:00: the file
    /// seems cut off.").
    found: Option<String>,
    /// The original, the TV version and each smaller version.
    downloads: Vec<DownloadRow>,
    /// The smaller video versions made, largest first, for "Quality".
    qualities: Vec<Quality>,
    /// Bits per second of the file the page plays first.
    bitrate: u64,
}

/// A smaller version the player can move to.
struct Quality {
    name: &'static str,
    src: String,
    bitrate: u64,
}

/// One line of the player page's "Download" list.
struct DownloadRow {
    label: String,
    /// Where it downloads from, once it is there.
    href: String,
    ready: bool,
    size: String,
    /// "Being made: 42 %", "Waiting for its turn", "Not made: …".
    status: String,
    /// The job making it, for the page's script to follow.
    job: Option<u64>,
    /// A version to make on a tap (missing, or failed).
    make: Option<&'static str>,
    /// A made version that can be removed.
    remove: Option<&'static str>,
}

/// Where the file at `rel`, or its `version`, downloads from.
fn download_href(rel: &str, version: Option<crate::versions::Version>) -> String {
    let path = format!("/download/{}", encode_url_path(rel));
    match version {
        Some(v) => format!("{path}?version={}", v.name()),
        None => path,
    }
}

/// What the player page offers to download: the original (where this is
/// a TV version made of it), this file, and each smaller version.
fn downloads(app: &App, rel: &str, video: &crate::library::Video) -> Vec<DownloadRow> {
    use crate::app::VersionState;
    use crate::format::human_size;
    let row = |label: String, href: String, size: u64| DownloadRow {
        label,
        href,
        ready: true,
        size: human_size(size),
        status: String::new(),
        job: None,
        make: None,
        remove: None,
    };
    let mut rows = Vec::new();
    let source = app.library.source_of(rel);
    if let Some(s) = source.as_deref().and_then(|s| app.library.get(s)) {
        let name = s.path.rsplit('/').next().unwrap_or(&s.path).to_string();
        let original = download_href(&s.path, None);
        rows.push(row(format!("Original ({name})"), original, s.size));
        rows.push(row(
            "TV version (MP4)".into(),
            download_href(rel, None),
            video.size,
        ));
    } else {
        rows.push(row("Original".into(), download_href(rel, None), video.size));
    }
    let jobs = app.version_jobs();
    let infos = app.versions_of(rel, &jobs);
    for v in crate::versions::Version::ALL {
        let mut r = row(v.label(), download_href(rel, Some(v)), 0);
        r.ready = false;
        r.size = String::new();
        r.make = Some(v.name());
        if let Some(i) = infos.iter().find(|i| i.name == v) {
            match i.state {
                VersionState::Ready => {
                    r.ready = true;
                    r.size = human_size(i.size.unwrap_or(0));
                    r.make = None;
                    r.remove = Some(v.name());
                }
                VersionState::Making => {
                    r.status = format!("Being made: {} %", i.progress.unwrap_or(0.0).round());
                    r.make = None;
                    r.job = i.job;
                }
                VersionState::Queued => {
                    r.status = "Waiting for its turn".into();
                    r.make = None;
                    r.job = i.job;
                }
                VersionState::Failed => {
                    r.status = format!(
                        "Could not be made: {}.",
                        i.error.as_deref().unwrap_or("it failed")
                    );
                }
                VersionState::NotNeeded => {
                    r.status = format!(
                        "Not needed: {}.",
                        i.error.as_deref().unwrap_or("it would be no smaller")
                    );
                    r.make = None;
                }
            }
        }
        rows.push(r);
    }
    rows
}

/// `GET /watch/{path}`: the player.
pub async fn watch(
    app: Arc<App>,
    caller: Caller,
    seen: Seen,
) -> Result<warp::reply::Response, Rejection> {
    use warp::Reply;
    if caller.viewer.must_choose() {
        return Ok(see_other("/profiles"));
    }
    let rel = seen.path();
    app.file_of(&seen).await.ok_or(Error::NotFound)?;
    let video = app.library.get(rel).ok_or(Error::NotFound)?;
    // A source whose TV version is made (a bookmark, a name seen over
    // SMB or DLNA) leads to the entry's own page.
    if let Some(entry) = app.library.shown_as(rel) {
        return Ok(see_other(&watch_href(&entry)));
    }
    // Devices that watch are the ones conversions are made for.
    if let Some(browser) = &caller.browser {
        app.devices.opened_player(browser).await;
    }
    let tracks = app
        .subtitles_for(rel)
        .await
        .into_iter()
        .map(|f| Track {
            src: app.video_url(&f.path),
            label: track_label(&f),
            lang: f.language.unwrap_or_else(|| "und".into()),
        })
        .collect();
    render(&watch_page(&app, &caller, &seen, &video, tracks)).map(Reply::into_response)
}

/// The episode after `rel`, when the viewer sees it.
fn next_up(app: &App, seen: &Seen) -> Option<NextUp> {
    let (v, e) = app.library.next_episode(seen.path())?;
    seen.viewer().sees(&v.path).then(|| NextUp {
        href: watch_href(&v.path),
        label: match &e.name {
            Some(name) => format!("{} — {name}", e.label()),
            None => e.label(),
        },
    })
}

/// The smaller video versions made, largest first, for "Quality".
fn qualities(app: &App, rel: &str) -> Vec<Quality> {
    app.versions
        .made(rel)
        .into_iter()
        .filter(|(v, _)| v.lines().is_some())
        .map(|(v, m)| Quality {
            name: v.name(),
            src: download_href(rel, Some(v)),
            bitrate: m.bitrate,
        })
        .collect()
}

/// Bits per second of the whole file.
fn bitrate(video: &Video) -> u64 {
    video
        .meta
        .as_ref()
        .and_then(|m| m.duration)
        .filter(|d| *d > 0.0)
        .map(|d| (video.size as f64 * 8.0 / d) as u64)
        .unwrap_or(0)
}

fn watch_page(
    app: &App,
    caller: &Caller,
    seen: &Seen,
    video: &Video,
    tracks: Vec<Track>,
) -> WatchPage {
    let rel = seen.path();
    let whose = seen.viewer().whose();
    let tile = video_tile(app, whose, video);
    let details = [tile.duration.as_str(), tile.resolution.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ");
    let source = app.library.source_of(rel);
    WatchPage {
        version: ASSET_VERSION,
        person: seen.viewer().person().cloned(),
        resume: app
            .positions
            .get(whose, rel)
            .filter(|p| !p.watched())
            .map(|p| p.position)
            .unwrap_or(0.0),
        position_url: format!("/api/positions/{}", encode_url_path(rel)),
        title: video.title(),
        found: source
            .as_deref()
            .and_then(|source| app.jobs.for_source(source))
            .and_then(|j| j.note),
        original: source.map(|source| {
            let name = source.rsplit('/').next().unwrap_or(&source).to_string();
            (app.video_url(&source), name)
        }),
        downloads: downloads(app, rel, video),
        qualities: qualities(app, rel),
        bitrate: bitrate(video),
        has_video: video.meta.as_ref().is_some_and(|m| m.width.is_some()),
        action_path: encode_url_path(rel),
        rename_to: app.library.rename_base(rel),
        needs_password: !caller.allowed(app),
        watch_href: watch_href(rel),
        path: rel.to_string(),
        src: app.video_url(rel),
        mime: crate::media::content_type(std::path::Path::new(rel)),
        back_href: list_href(video.folder(), "", Sort::Name, 1),
        tracks,
        next: next_up(app, seen),
        audio: audio_choices(app, rel),
        details,
        note: if tile.note.is_empty() {
            String::new()
        } else {
            format!(
                "This file {}: a TV may not play it until pimedia has converted it to MP4.",
                tile.note
            )
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_links_keep_state() {
        assert_eq!(list_href("", "", Sort::Name, 1), "/");
        assert_eq!(
            list_href("Kids & Co", "cat", Sort::Date, 2),
            "/?dir=Kids%20%26%20Co&q=cat&sort=date&page=2"
        );
    }
}
