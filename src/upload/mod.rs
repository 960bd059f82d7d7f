//! Uploads: form posts and resumable (tus) uploads, streamed to dot-prefixed
//! temp files, checked, then renamed to a safe name in the library.

mod auth;
mod names;
mod sink;
pub mod tus;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Buf;
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use crate::error::Context;
use crate::error::{Error, Result};
use crate::intake::Intake;
use crate::library::found_file;
use crate::media::{self, Tools};
use crate::paths::check_relative;

pub use auth::{Auth, COOKIE};

/// 128 random bits in hex, for ids that must not be guessed.
pub fn random_id() -> std::io::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(std::io::Error::other)?;
    Ok(auth::hex(&b))
}
use crate::format::human_size;
pub use crate::fsutil::TempFile;
pub use names::{accepted_types, file_type, safe_name, FileType};
pub use sink::{Incoming, Limits};

/// A file that made it into the library.
#[derive(Debug, Clone, Serialize)]
pub struct Accepted {
    pub name: String,
    pub path: String,
    pub size: u64,
}

/// A request body as warp hands it over: chunks, any of which may fail
/// (a lost connection).
pub trait Body: Stream<Item = std::result::Result<Self::Chunk, Self::Error>> + Unpin {
    type Chunk: Buf;
    type Error: std::fmt::Display;
}

impl<S, B, E> Body for S
where
    S: Stream<Item = std::result::Result<B, E>> + Unpin,
    B: Buf,
    E: std::fmt::Display,
{
    type Chunk = B;
    type Error = E;
}

/// A file whose bytes have all arrived, waiting to be checked and placed.
pub struct Complete<'a> {
    pub temp: TempFile,
    /// Where it goes: the folder relative to the media dir, and on disk.
    pub folder: &'a str,
    pub dir: &'a Path,
    /// The safe name it asked for, and what kind of file that is.
    pub name: &'a str,
    pub kind: FileType,
    pub size: u64,
}

pub struct Uploads {
    root: PathBuf,
    intake: Arc<Intake>,
    tools: Tools,
    pub limits: Limits,
    /// Picking a free name and renaming onto it happen under this lock, so
    /// two uploads of `a.mp4` become `a.mp4` and `a (1).mp4`.
    rename_lock: tokio::sync::Mutex<()>,
}

/// The free space kept on the disk: 1 GiB or 5% of it, whichever is less.
pub fn default_reserve(root: &Path) -> u64 {
    let five_percent = crate::fsutil::disk_size(root).unwrap_or(0) / 20;
    five_percent.min(1 << 30)
}

impl Uploads {
    /// Uploads into `root` (the media dir, canonical).
    pub fn new(root: PathBuf, intake: Arc<Intake>, tools: Tools, limits: Limits) -> Uploads {
        Uploads {
            root,
            intake,
            tools,
            limits,
            rename_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The folder an upload goes to: a checked relative path inside the
    /// media dir, created when new.
    pub async fn target_dir(&self, folder: &str) -> Result<(String, PathBuf)> {
        let rel = check_relative(folder.trim().trim_matches('/')).ok_or_else(|| {
            Error::BadRequest(format!(
                "'{folder}' is not a folder name pimedia can use: no '..', no leading dots."
            ))
        })?;
        let (root, folder) = (self.root.clone(), rel.clone());
        let real = crate::fsutil::blocking(move || crate::paths::make_dirs_inside(&root, &folder))
            .await
            .ok_or_else(|| Error::Internal("making the folder stopped unexpectedly".into()))?
            .at(format!("upload folder '{rel}'"))?;
        Ok((rel, real))
    }

    /// The safe name of an incoming file, or 415 before any byte is stored.
    pub fn check_name(&self, raw: &str) -> Result<(String, FileType)> {
        let name = safe_name(raw);
        match file_type(&name) {
            Some(t) => Ok((name, t)),
            None => Err(Error::UnsupportedType(format!(
                "'{}' is not a video or subtitle file: {}.",
                raw.chars().filter(|c| !c.is_control()).collect::<String>(),
                accepted_types()
            ))),
        }
    }

    /// Streams one file to a temp file in `dir` and accepts it.
    pub async fn receive(
        &self,
        folder: &str,
        dir: &Path,
        raw_name: &str,
        owner: Option<&str>,
        mut body: impl Body,
    ) -> Result<Accepted> {
        let (name, kind) = self.check_name(raw_name)?;
        let mut incoming = Incoming::create(dir, &name, self.limits).await?;
        while let Some(chunk) = body.next().await {
            let mut chunk = chunk.map_err(|e| {
                tracing::info!(
                    "upload of {name} cut off after {} bytes: {e}",
                    incoming.written()
                );
                Error::Aborted
            })?;
            while chunk.has_remaining() {
                let part = chunk.chunk();
                let n = part.len();
                incoming.write(part).await?;
                chunk.advance(n);
            }
        }
        let (temp, size) = incoming.finish().await?;
        let temp = temp.expect("a form upload owns its temp file");
        let done = Complete {
            temp,
            folder,
            dir,
            name: &name,
            kind,
            size,
        };
        self.accept(done, owner).await
    }

    /// Checks a complete temp file, renames it to a free name beside it and
    /// adds it to the library. Any failure removes the temp file.
    pub async fn accept(&self, done: Complete<'_>, owner: Option<&str>) -> Result<Accepted> {
        let Complete {
            temp,
            folder,
            dir,
            name,
            kind,
            size,
        } = done;
        let probe = match (kind, &self.tools.ffprobe) {
            (FileType::Video, Some(_)) => {
                let (tools, file) = (self.tools.clone(), temp.path().to_path_buf());
                let probed = tokio::task::spawn_blocking(move || media::probe(&tools, &file))
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))?;
                match probed {
                    Ok(p) if p.video().is_some() || p.streams.iter().any(|s| s.kind == "audio") => {
                        Some(p)
                    }
                    Ok(_) => return Err(unreadable(name, "it holds no audio or video")),
                    Err(e) => return Err(unreadable(name, &e.to_string())),
                }
            }
            _ => None,
        };
        let final_path = {
            let _guard = self.rename_lock.lock().await;
            let (tmp, dir, name) = (
                temp.path().to_path_buf(),
                dir.to_path_buf(),
                name.to_string(),
            );
            let name_shown = name.clone();
            let placed =
                crate::fsutil::blocking(move || crate::fsutil::place_unique(&tmp, &dir, &name))
                    .await
                    .ok_or_else(|| {
                        Error::Internal("placing the upload stopped unexpectedly".into())
                    })?
                    .at(format!("placing the upload '{name_shown}'"))?;
            temp.keep();
            placed
        };
        let file_name = final_path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(name)
            .to_string();
        let rel = if folder.is_empty() {
            file_name.clone()
        } else {
            format!("{folder}/{file_name}")
        };
        tracing::info!("upload accepted: {rel} ({})", human_size(size));
        if kind == FileType::Video {
            if let Some(found) = found_file(&final_path, rel.clone()) {
                self.intake
                    .arrived(found, probe, owner.map(str::to_string))
                    .await;
            }
        }
        Ok(Accepted {
            name: file_name,
            path: rel,
            size,
        })
    }
}

fn unreadable(name: &str, why: &str) -> Error {
    Error::Unprocessable(format!(
        "'{name}' is not a video ffprobe can read ({why}); it was not kept."
    ))
}
