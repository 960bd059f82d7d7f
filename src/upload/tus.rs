//! Resumable uploads, tus 1.0.0: core, creation, termination, checksum.
//! Each upload's bytes are a dot-prefixed file in the target folder, and
//! its offset is that file's length (as in tusd): a chunk costs no state
//! write and no fsync, and after a crash the offset is what the disk holds,
//! so the client resends whatever was lost. A small JSON file in
//! `<state-dir>/uploads/` holds what never changes (name, folder, length),
//! written at creation, and once more at completion.

use crate::fsutil::now;
use crate::sync::Locked;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Buf;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha1::Digest;

use super::{Accepted, Body, Incoming, TempFile, Uploads};
use crate::error::Context;
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

pub const VERSION: &str = "1.0.0";
pub const EXTENSIONS: &str = "creation,termination,checksum";
pub const CHECKSUMS: &str = "sha1,sha256";
/// Incomplete uploads (and the record of finished ones) live this long.
pub const EXPIRY_SECS: u64 = 24 * 3600;
/// Prefix of resumable data files; start-up keeps only live ones.
pub const DATA_PREFIX: &str = ".pimedia-tus-";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TusUpload {
    pub id: String,
    /// Safe file name it will get.
    pub name: String,
    /// Target folder, relative to the media dir.
    pub folder: String,
    pub length: u64,
    /// Bytes received: the data file's length, never saved.
    #[serde(skip_serializing, default)]
    pub offset: u64,
    /// Unix seconds.
    pub created: u64,
    /// Library path once complete.
    #[serde(default)]
    pub done: Option<String>,
}

impl TusUpload {
    pub fn expires(&self) -> u64 {
        self.created + EXPIRY_SECS
    }
}

/// A chunk's claimed digest from `Upload-Checksum`.
#[derive(Debug, Clone)]
pub enum Checksum {
    Sha1(Vec<u8>),
    Sha256(Vec<u8>),
}

impl Checksum {
    /// Parses `sha1 <base64>`; `None` for an unsupported algorithm or bad base64.
    pub fn parse(header: &str) -> Option<Checksum> {
        let (alg, b64) = header.trim().split_once(' ')?;
        let digest = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()?;
        match alg {
            "sha1" => Some(Checksum::Sha1(digest)),
            "sha256" => Some(Checksum::Sha256(digest)),
            _ => None,
        }
    }
}

/// A PATCH body as it landed: the open data file, its digest so far, and
/// whether the connection was lost before its end.
struct Received {
    incoming: Incoming,
    hasher: Hasher,
    cut_off: bool,
}

enum Hasher {
    None,
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Hasher {
    fn for_checksum(c: Option<&Checksum>) -> Hasher {
        match c {
            None => Hasher::None,
            Some(Checksum::Sha1(_)) => Hasher::Sha1(sha1::Sha1::new()),
            Some(Checksum::Sha256(_)) => Hasher::Sha256(sha2::Sha256::new()),
        }
    }
    fn update(&mut self, b: &[u8]) {
        match self {
            Hasher::None => {}
            Hasher::Sha1(h) => h.update(b),
            Hasher::Sha256(h) => h.update(b),
        }
    }
    fn matches(self, c: &Option<Checksum>) -> bool {
        match (self, c) {
            (Hasher::None, _) => true,
            (Hasher::Sha1(h), Some(Checksum::Sha1(want))) => h.finalize().as_slice() == want,
            (Hasher::Sha256(h), Some(Checksum::Sha256(want))) => h.finalize().as_slice() == want,
            _ => false,
        }
    }
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (a key
/// alone has an empty value). Keys are unique, not empty, without spaces
/// or commas; values are base64. Anything else is refused, saying why.
pub fn parse_metadata(header: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for pair in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        if key.is_empty() || key.chars().any(|c| c.is_control()) {
            return Err(format!("'{pair}' has no usable key"));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| format!("the value of '{key}' is not base64"))?;
        if out
            .insert(
                key.to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
            .is_some()
        {
            return Err(format!("'{key}' is given twice"));
        }
    }
    Ok(out)
}

pub struct Tus {
    state_dir: PathBuf,
    root: PathBuf,
    /// Where complete uploads go, checked like form uploads.
    ups: Arc<Uploads>,
    uploads: Mutex<HashMap<String, TusUpload>>,
    /// Uploads with a PATCH in progress: a second one at once gets 409.
    busy: Mutex<HashSet<String>>,
}

/// Releases an upload's busy mark however the PATCH ends.
struct BusyGuard<'a> {
    tus: &'a Tus,
    id: String,
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.tus.busy.locked().remove(&self.id);
    }
}

impl Tus {
    /// Loads every upload's state, its offset from its data file;
    /// unreadable state files are moved aside. Blocking.
    pub fn load(state_dir: &Path, root: &Path, ups: Arc<Uploads>) -> std::io::Result<Tus> {
        let dir = state_dir.join("uploads");
        std::fs::create_dir_all(&dir)?;
        let tus = Tus {
            state_dir: dir,
            root: root.to_path_buf(),
            ups,
            uploads: Mutex::new(HashMap::new()),
            busy: Mutex::new(HashSet::new()),
        };
        for entry in std::fs::read_dir(&tus.state_dir)?.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            if let Some(mut u) = crate::fsutil::load_json::<TusUpload>(&path, "upload state") {
                u.offset = match u.done {
                    Some(_) => u.length,
                    None => std::fs::metadata(tus.data_path(&u))
                        .map(|m| m.len().min(u.length))
                        .unwrap_or(0),
                };
                tus.uploads.locked().insert(u.id.clone(), u);
            }
        }
        tus.expire();
        Ok(tus)
    }

    fn data_path(&self, u: &TusUpload) -> PathBuf {
        let dir = if u.folder.is_empty() {
            self.root.clone()
        } else {
            self.root.join(&u.folder)
        };
        dir.join(format!("{DATA_PREFIX}{}", u.id))
    }

    fn state_path(&self, id: &str) -> PathBuf {
        self.state_dir.join(format!("{id}.json"))
    }

    /// Writes the upload's state file (atomically, fsynced) and then
    /// holds it in memory.
    async fn save(&self, u: &TusUpload) -> Result<()> {
        let bytes = serde_json::to_vec(u).map_err(|e| Error::Internal(e.to_string()))?;
        let file = self.state_path(&u.id);
        let shown = file.display().to_string();
        crate::fsutil::blocking(move || write_atomic(&file, &bytes))
            .await
            .ok_or_else(|| {
                Error::Internal("saving the upload's state stopped unexpectedly".into())
            })?
            .at(shown)?;
        self.uploads.locked().insert(u.id.clone(), u.clone());
        Ok(())
    }

    async fn forget(&self, id: &str) {
        self.uploads.locked().remove(id);
        let _ = tokio::fs::remove_file(self.state_path(id)).await;
    }

    /// [`Tus::forget`] for the blocking expiry sweep.
    fn forget_now(&self, id: &str) {
        self.uploads.locked().remove(id);
        let _ = std::fs::remove_file(self.state_path(id));
    }

    /// Data files of uploads still in progress (start-up keeps these).
    pub fn live_data_files(&self) -> HashSet<PathBuf> {
        let uploads = self.uploads.locked();
        uploads
            .values()
            .filter(|u| u.done.is_none())
            .map(|u| self.data_path(u))
            .collect()
    }

    /// Removes uploads older than 24 h with their bytes. Blocking.
    pub fn expire(&self) {
        let now = now();
        let old: Vec<TusUpload> = self
            .uploads
            .locked()
            .values()
            .filter(|u| u.expires() <= now)
            .cloned()
            .collect();
        for u in old {
            if self.busy.locked().contains(&u.id) {
                continue;
            }
            if u.done.is_none() {
                tracing::info!("resumable upload of {} expired unfinished; removed", u.name);
                let _ = std::fs::remove_file(self.data_path(&u));
            }
            self.forget_now(&u.id);
        }
    }

    pub fn get(&self, id: &str) -> Option<TusUpload> {
        self.uploads.locked().get(id).cloned()
    }

    /// Creation: checks name, type, size and space before any byte arrives.
    pub async fn create(
        &self,
        length: u64,
        metadata: &HashMap<String, String>,
    ) -> Result<TusUpload> {
        let ups = &self.ups;
        let raw = metadata
            .get("filename")
            .or_else(|| metadata.get("name"))
            .ok_or_else(|| {
                Error::BadRequest(
                    "Upload-Metadata must carry the file's name as 'filename'.".into(),
                )
            })?;
        let (name, _) = ups.check_name(raw)?;
        let (folder, dir) = ups
            .target_dir(metadata.get("folder").map(String::as_str).unwrap_or(""))
            .await?;
        if ups.limits.max_upload.is_some_and(|m| length > m) {
            return Err(ups.limits.too_large());
        }
        ups.limits.check(&dir, 0, length).await?;
        let u = TusUpload {
            id: super::random_id().at("a new upload's id")?,
            name,
            folder,
            length,
            offset: 0,
            created: now(),
            done: None,
        };
        tokio::fs::File::create(self.data_path(&u))
            .await
            .at(self.data_path(&u).display())?;
        self.save(&u).await?;
        tracing::info!(
            "resumable upload {} started: {} ({} bytes)",
            u.id,
            u.name,
            u.length
        );
        Ok(u)
    }

    /// Appends one PATCH body at `offset`. Returns the new offset and, when
    /// the upload is complete, the accepted file. `owner` is the browser to
    /// tell when its conversion is ready.
    pub async fn patch(
        &self,
        id: &str,
        offset: u64,
        checksum: Option<Checksum>,
        owner: Option<&str>,
        body: impl Body,
    ) -> Result<(u64, Option<Accepted>)> {
        let (mut u, _busy) = self.begin_patch(id, offset)?;
        let received = self.receive(&u, checksum.as_ref(), body).await?;
        let cut_off = received.cut_off;
        u.offset = self.settle(&u, &checksum, received).await?;
        if u.offset < u.length {
            self.uploads.locked().insert(u.id.clone(), u.clone());
            return if cut_off {
                Err(Error::Aborted)
            } else {
                Ok((u.offset, None))
            };
        }
        let accepted = self.complete(&mut u, owner).await?;
        Ok((u.offset, Some(accepted)))
    }

    /// The checks before a PATCH's first byte: a live upload, nobody else
    /// writing to it, the offset the client resumes from.
    fn begin_patch(&self, id: &str, offset: u64) -> Result<(TusUpload, BusyGuard<'_>)> {
        let u = self.get(id).ok_or(Error::NotFound)?;
        if u.done.is_some() {
            return Err(Error::Conflict("This upload is already complete.".into()));
        }
        if !self.busy.locked().insert(id.to_string()) {
            return Err(Error::Conflict(
                "Another request is writing to this upload right now.".into(),
            ));
        }
        let busy = BusyGuard {
            tus: self,
            id: id.to_string(),
        };
        if offset != u.offset {
            return Err(Error::Conflict(format!(
                "Upload-Offset {offset} does not match the upload's offset {}; ask with HEAD and resume from there.",
                u.offset
            )));
        }
        Ok((u, busy))
    }

    /// Streams the body onto the data file, hashing it when a checksum
    /// was sent. A lost connection ends the body, not the request.
    async fn receive(
        &self,
        u: &TusUpload,
        checksum: Option<&Checksum>,
        mut body: impl Body,
    ) -> Result<Received> {
        let mut limits = self.ups.limits;
        // The declared length is this upload's own limit.
        limits.max_upload = Some(limits.max_upload.map_or(u.length, |m| m.min(u.length)));
        let mut incoming = Incoming::resume(&self.data_path(u), u.offset, limits).await?;
        let mut hasher = Hasher::for_checksum(checksum);
        let mut cut_off = false;
        while let Some(chunk) = body.next().await {
            let mut chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    tracing::info!("resumable upload {}: connection lost: {e}", u.id);
                    cut_off = true;
                    break;
                }
            };
            while chunk.has_remaining() {
                let part = chunk.chunk();
                let n = part.len();
                hasher.update(part);
                if let Err(e) = incoming.write(part).await {
                    return Err(match e {
                        Error::TooLarge(_)
                            if self.ups.limits.max_upload.is_none_or(|m| m >= u.length) =>
                        {
                            Error::BadRequest(format!(
                                "The body goes past Upload-Length ({} bytes); the chunk was discarded.",
                                u.length
                            ))
                        }
                        other => other,
                    });
                }
                chunk.advance(n);
            }
        }
        Ok(Received {
            incoming,
            hasher,
            cut_off,
        })
    }

    /// Makes the chunk count, or not: one with a checksum counts only whole
    /// and correct (else the file is cut back). The last chunk is fsynced;
    /// the others only flushed. Returns the new offset.
    async fn settle(&self, u: &TusUpload, checksum: &Option<Checksum>, r: Received) -> Result<u64> {
        let written = if r.incoming.written() >= u.length {
            r.incoming.finish().await?.1
        } else {
            r.incoming.pause().await?
        };
        if checksum.is_some() && (r.cut_off || !r.hasher.matches(checksum)) {
            let data = self.data_path(u);
            tokio::fs::OpenOptions::new()
                .write(true)
                .open(&data)
                .await
                .at(data.display())?
                .set_len(u.offset)
                .await
                .at(data.display())?;
            return Err(if r.cut_off {
                Error::Aborted
            } else {
                Error::ChecksumMismatch
            });
        }
        Ok(written)
    }

    /// The last byte is in: the same checks as a form upload, then the
    /// library; the state file records where it went.
    async fn complete(&self, u: &mut TusUpload, owner: Option<&str>) -> Result<Accepted> {
        let path = self.data_path(u);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        let kind = super::file_type(&u.name).expect("checked at creation");
        let done = super::Complete {
            temp: TempFile::new(path),
            folder: &u.folder,
            dir: &dir,
            name: &u.name,
            kind,
            size: u.length,
        };
        match self.ups.accept(done, owner).await {
            Ok(a) => {
                u.done = Some(a.path.clone());
                self.save(u).await?;
                Ok(a)
            }
            Err(e) => {
                self.forget(&u.id).await;
                Err(e)
            }
        }
    }

    /// Termination: the bytes and the state go.
    pub async fn delete(&self, id: &str) -> Result<()> {
        let u = self.get(id).ok_or(Error::NotFound)?;
        if self.busy.locked().contains(id) {
            return Err(Error::Conflict(
                "This upload is being written right now; try again when it stops.".into(),
            ));
        }
        if u.done.is_none() {
            let _ = tokio::fs::remove_file(self.data_path(&u)).await;
        }
        self.forget(id).await;
        tracing::info!("resumable upload {id} ({}) deleted", u.name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_and_checksums_parse() {
        let m = parse_metadata("filename ZmlsbS5ta3Y=,folder S2lkcw==, empty").unwrap();
        assert_eq!(m["filename"], "film.mkv");
        assert_eq!(m["folder"], "Kids");
        assert_eq!(m["empty"], "");
        assert!(parse_metadata("filename !!!").is_err());
        assert!(parse_metadata("a YQ==,a Yg==").is_err());
        assert!(parse_metadata("").unwrap().is_empty());
        assert!(matches!(
            Checksum::parse("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="),
            Some(Checksum::Sha1(d)) if d.len() == 20
        ));
        assert!(Checksum::parse("md5 AAAA").is_none());
        assert!(Checksum::parse("sha1 !!!").is_none());
    }
}
