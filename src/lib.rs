//! pimedia: a home-LAN media server for a Raspberry Pi.
//!
//! Data flows one way: web -> (upload | jobs | library) -> media -> ffmpeg.
#![forbid(unsafe_code)]

pub mod config;
pub mod error;
pub mod fsutil;
pub mod intake;
pub mod jobs;
pub mod library;
pub mod media;
pub mod paths;
pub mod positions;
pub mod server;
pub mod upload;
pub mod watch;
pub mod web;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::jobs::{Jobs, State};
use crate::library::{Library, Video};
use crate::media::{Kind, Tools};
use crate::upload::{tus::Tus, Auth, Limits, Uploads};

/// Everything a request handler can reach.
pub struct App {
    pub config: Config,
    pub tools: Tools,
    pub library: Arc<Library>,
    pub uploads: Uploads,
    pub tus: Tus,
    pub auth: Auth,
    pub jobs: Arc<Jobs>,
    pub positions: positions::Positions,
}

/// Where a video stands, as pages and the API show it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VideoState {
    Ready,
    NeedsRemux,
    Queued,
    Converting(f64),
    NeedsTranscode,
    ConversionFailed,
    Unreadable,
}

impl VideoState {
    pub fn name(self) -> &'static str {
        match self {
            VideoState::Ready => "ready",
            VideoState::NeedsRemux => "needs_remux",
            VideoState::Queued => "queued",
            VideoState::Converting(_) => "converting",
            VideoState::NeedsTranscode => "needs_transcode",
            VideoState::ConversionFailed => "failed",
            VideoState::Unreadable => "unreadable",
        }
    }
}

impl App {
    /// The media dir's file or folder for a percent-encoded URL tail, or
    /// `None` for anything outside it or hidden.
    pub fn resolve(&self, encoded: &str) -> Option<PathBuf> {
        paths::resolve(self.library.root(), encoded)
    }

    /// Where a page points `<video src>` for a library path.
    pub fn video_url(&self, rel: &str) -> String {
        format!("{}{}", self.config.videos_url, paths::encode_url_path(rel))
    }

    pub fn state_of(&self, v: &Video) -> VideoState {
        if v.error.is_some() {
            return VideoState::Unreadable;
        }
        if v.kind != Kind::NeedsRemux {
            return VideoState::Ready;
        }
        match self.jobs.for_source(&v.path) {
            Some(j) => match j.state {
                State::Queued => VideoState::Queued,
                State::Running => VideoState::Converting(j.progress),
                State::Failed if j.needs_transcode => VideoState::NeedsTranscode,
                State::Failed => VideoState::ConversionFailed,
                State::Done | State::Cancelled => VideoState::NeedsRemux,
            },
            None => VideoState::NeedsRemux,
        }
    }

    /// Remux jobs waiting or running.
    pub fn queue_depth(&self) -> usize {
        self.jobs.depth()
    }
}

/// The running server's parts, each with an owner that stops it.
pub struct Running {
    pub app: Arc<App>,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Prepares the folders, finds ffmpeg, scans the library, sweeps what a
/// crash left behind, and starts the remux pool.
pub async fn start(config: Config) -> std::io::Result<Running> {
    std::fs::create_dir_all(&config.media_dir)?;
    std::fs::create_dir_all(&config.state_dir)?;
    let root = config.media_dir.canonicalize()?;
    let state_dir = config.state_dir.canonicalize()?;
    let (ffmpeg, ffprobe) = (config.ffmpeg.clone(), config.ffprobe.clone());
    let tools = tokio::task::spawn_blocking(move || Tools::locate(ffmpeg, ffprobe))
        .await
        .map_err(std::io::Error::other)?;
    let stop = CancellationToken::new();
    let library::Opened {
        library,
        indexer,
        leftovers,
        added,
    } = Library::open(root.clone(), state_dir.clone(), tools.clone(), stop.clone()).await;
    let limits = Limits {
        max_upload: config.max_upload,
        reserve: config
            .disk_reserve
            .unwrap_or_else(|| upload::default_reserve(&root)),
    };
    let tus = Tus::load(&state_dir, &root)?;
    sweep_leftovers(leftovers, &tus);
    let jobs = Jobs::load(
        &state_dir,
        library.clone(),
        tools.clone(),
        jobs::Settings {
            workers: config.workers,
            delete_originals: config.delete_originals,
            on_job_done: config.on_job_done.clone(),
        },
    );
    let intake = Arc::new(intake::Intake::new(library.clone(), jobs.clone()));
    intake.catch_up().await;
    let app = Arc::new(App {
        uploads: Uploads::new(root, intake.clone(), tools.clone(), limits),
        auth: Auth::new(&state_dir, config.upload_password.clone())?,
        tus,
        jobs: jobs.clone(),
        positions: positions::Positions::load(&state_dir),
        config,
        tools,
        library,
    });
    let mut tasks = vec![
        indexer,
        tokio::spawn(expire_uploads(app.clone(), stop.clone())),
        watch::start(app.library.clone(), intake, added, state_dir, stop.clone()),
    ];
    tasks.extend(jobs.start(stop.clone()));
    Ok(Running { app, stop, tasks })
}

/// Temp files are never worth keeping after a restart; resumable uploads'
/// data files are, while their upload lives.
fn sweep_leftovers(leftovers: Vec<PathBuf>, tus: &Tus) {
    let live = tus.live_data_files();
    for path in leftovers {
        if live.contains(&path) {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::info!("removed leftover temp file {}", path.display()),
            Err(e) => tracing::warn!("cannot remove leftover {}: {e}", path.display()),
        }
    }
}

async fn expire_uploads(app: Arc<App>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
        let app = app.clone();
        let _ = tokio::task::spawn_blocking(move || app.tus.expire()).await;
    }
}

impl Running {
    /// The first step of a shutdown, at the signal: no new jobs, every
    /// ffmpeg stopped, while open requests finish.
    pub fn begin_shutdown(&self) {
        self.app.jobs.begin_shutdown();
        self.stop.cancel();
    }

    /// Waits for background work to stop and saves its state.
    pub async fn shutdown(self) {
        self.begin_shutdown();
        for t in self.tasks {
            let _ = t.await;
        }
        self.app.jobs.finish_shutdown().await;
    }
}
