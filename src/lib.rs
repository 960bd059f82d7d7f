//! pimedia: a home-LAN media server for a Raspberry Pi.
//!
//! Data flows one way: web -> (upload | jobs | library) -> media -> ffmpeg.
#![forbid(unsafe_code)]

pub mod app;
pub mod config;
pub mod devices;
pub mod error;
pub mod format;
pub mod fsutil;
pub mod intake;
pub mod jobs;
pub mod lan;
pub mod library;
pub mod manage;
pub mod media;
pub mod paths;
pub mod positions;
pub mod profiles;
pub mod runners;
pub mod server;
pub mod startup;
pub mod store;
pub mod sync;
pub mod upload;
pub mod versions;
pub mod watch;
pub mod web;

pub use app::App;
pub use intake::VideoState;
pub use startup::{start, Running};
