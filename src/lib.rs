//! pimedia: a home-LAN media server for a Raspberry Pi.
//!
//! Data flows one way: web -> library -> media -> ffprobe/ffmpeg.
#![forbid(unsafe_code)]

pub mod config;
pub mod error;
pub mod fsutil;
pub mod library;
pub mod media;
pub mod paths;
pub mod server;
pub mod web;

use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::library::{Library, Video};
use crate::media::{Kind, Tools};

/// Everything a request handler can reach.
pub struct App {
    pub config: Config,
    pub tools: Tools,
    pub library: Arc<Library>,
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

    /// `ready`, `needs_remux` or `unreadable`, as pages and the API show it.
    pub fn state_of(&self, v: &Video) -> &'static str {
        if v.error.is_some() {
            "unreadable"
        } else if v.kind == Kind::NeedsRemux {
            "needs_remux"
        } else {
            "ready"
        }
    }

    /// Remux jobs waiting or running.
    pub fn queue_depth(&self) -> usize {
        0
    }
}

/// The running server's parts, each with an owner that stops it.
pub struct Running {
    pub app: Arc<App>,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Prepares the folders, finds ffmpeg, scans the library.
pub async fn start(config: Config) -> std::io::Result<Running> {
    std::fs::create_dir_all(&config.media_dir)?;
    std::fs::create_dir_all(&config.state_dir)?;
    let root = config.media_dir.canonicalize()?;
    let state_dir = config.state_dir.canonicalize()?;
    let tools = Tools::locate(config.ffmpeg.clone(), config.ffprobe.clone());
    let stop = CancellationToken::new();
    let (library, prober) = Library::open(root, state_dir, tools.clone(), stop.clone()).await;
    Ok(Running {
        app: Arc::new(App {
            config,
            tools,
            library,
        }),
        stop,
        tasks: vec![prober],
    })
}

impl Running {
    /// Stops background work and waits for it to save its state.
    pub async fn shutdown(self) {
        self.stop.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}
