//! Writing an upload to disk: a dot-prefixed temp file beside its final
//! place, byte counting against the limits, then fsync + rename.

use std::path::{Path, PathBuf};

use crate::error::Context;
use crate::error::{Error, Result};
use crate::format::human_size;
use crate::fsutil::{free_space, TempFile};

/// How often (in bytes written) free space is checked again.
const SPACE_CHECK_EVERY: u64 = 64 << 20;
/// Bytes buffered before each write to disk.
const WRITE_BUFFER: usize = 1 << 20;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_upload: Option<u64>,
    /// Free bytes that must stay on the disk.
    pub reserve: u64,
}

impl Limits {
    pub fn too_large(&self) -> Error {
        Error::TooLarge(format!(
            "The file is larger than this server's upload limit of {} (--max-upload); nothing was kept.",
            human_size(self.max_upload.unwrap_or(0))
        ))
    }

    pub fn no_space(&self) -> Error {
        Error::InsufficientStorage(format!(
            "Not enough free disk space: the upload would leave less than {} free. Nothing was kept; free some space and try again.",
            human_size(self.reserve)
        ))
    }

    /// Fails when `more` bytes would cross the limit or the reserve of `dir`.
    pub async fn check(&self, dir: &Path, total: u64, more: u64) -> Result<()> {
        if self.max_upload.is_some_and(|m| total > m) {
            return Err(self.too_large());
        }
        let dir = dir.to_path_buf();
        let free = tokio::task::spawn_blocking(move || free_space(&dir))
            .await
            .ok()
            .flatten();
        match free {
            Some(free) if free < more.saturating_add(self.reserve) => Err(self.no_space()),
            _ => Ok(()),
        }
    }
}

/// A buffer write on the blocking pool, giving back the file and the buffer.
type WriteJob = tokio::task::JoinHandle<(std::fs::File, Vec<u8>, std::io::Result<()>)>;

/// Writes whole buffers on the blocking pool while the next one fills:
/// receiving from the network and writing to disk overlap.
struct DiskWriter {
    file: Option<std::fs::File>,
    buf: Vec<u8>,
    pending: Option<WriteJob>,
}

impl DiskWriter {
    fn new(file: std::fs::File) -> DiskWriter {
        DiskWriter {
            file: Some(file),
            buf: Vec::with_capacity(WRITE_BUFFER),
            pending: None,
        }
    }

    /// Waits for the write in flight, if any, and takes the file back.
    async fn settle(&mut self) -> std::io::Result<()> {
        if let Some(job) = self.pending.take() {
            let (file, mut spare, result) = job.await.map_err(std::io::Error::other)?;
            self.file = Some(file);
            spare.clear();
            // Reuse the written buffer if ours is still empty.
            if self.buf.is_empty() {
                self.buf = spare;
            }
            result?;
        }
        Ok(())
    }

    async fn write(&mut self, mut chunk: &[u8]) -> std::io::Result<()> {
        while !chunk.is_empty() {
            let room = WRITE_BUFFER - self.buf.len();
            let n = room.min(chunk.len());
            self.buf.extend_from_slice(&chunk[..n]);
            chunk = &chunk[n..];
            if self.buf.len() == WRITE_BUFFER {
                self.send().await?;
            }
        }
        Ok(())
    }

    /// Hands the full buffer to the blocking pool.
    async fn send(&mut self) -> std::io::Result<()> {
        self.settle().await?;
        let mut file = self.file.take().expect("file is back after settle");
        let buf = std::mem::replace(&mut self.buf, Vec::with_capacity(WRITE_BUFFER));
        self.pending = Some(tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let r = file.write_all(&buf);
            (file, buf, r)
        }));
        Ok(())
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.send().await?;
        }
        self.settle().await
    }

    async fn sync(&mut self) -> std::io::Result<()> {
        self.flush().await?;
        let file = self.file.take().expect("file is back after flush");
        let (file, r) = tokio::task::spawn_blocking(move || {
            let r = file.sync_all();
            (file, r)
        })
        .await
        .map_err(std::io::Error::other)?;
        self.file = Some(file);
        r
    }
}

/// One file being received: a new temp file (form uploads) or an existing
/// resumable upload's data file, appended at its offset.
pub struct Incoming {
    /// Removes a form upload's file on drop; `None` for resumable data,
    /// which must outlive a dropped connection.
    temp: Option<TempFile>,
    file: DiskWriter,
    dir: PathBuf,
    /// Bytes in the file, counting any earlier ones.
    written: u64,
    next_check: u64,
    limits: Limits,
}

impl Incoming {
    /// Creates the temp file in `dir` (the upload's target folder).
    pub async fn create(dir: &Path, name: &str, limits: Limits) -> Result<Incoming> {
        limits.check(dir, 0, 0).await?;
        let temp = TempFile::new(crate::fsutil::temp_path_for(&dir.join(name), "up"));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(temp.path())
            .await
            .at(temp.path().display())?;
        Ok(Incoming::with(Some(temp), file, dir, 0, limits).await)
    }

    /// Opens a resumable upload's data file, cut back to `offset` (bytes
    /// past the last recorded offset were never acknowledged).
    pub async fn resume(path: &Path, offset: u64, limits: Limits) -> Result<Incoming> {
        let dir = path.parent().unwrap_or(Path::new("/"));
        limits.check(dir, offset, 0).await?;
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .await
            .at(path.display())?;
        file.set_len(offset).await.at(path.display())?;
        tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start(offset))
            .await
            .at(path.display())?;
        Ok(Incoming::with(None, file, dir, offset, limits).await)
    }

    async fn with(
        temp: Option<TempFile>,
        file: tokio::fs::File,
        dir: &Path,
        written: u64,
        limits: Limits,
    ) -> Incoming {
        Incoming {
            temp,
            file: DiskWriter::new(file.into_std().await),
            dir: dir.to_path_buf(),
            written,
            next_check: written + SPACE_CHECK_EVERY,
            limits,
        }
    }

    /// Appends a chunk; fails as soon as a limit is crossed.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.written += chunk.len() as u64;
        if self.limits.max_upload.is_some_and(|m| self.written > m) {
            return Err(self.limits.too_large());
        }
        if self.written >= self.next_check {
            self.next_check = self.written + SPACE_CHECK_EVERY;
            self.limits
                .check(&self.dir, self.written, SPACE_CHECK_EVERY)
                .await?;
        }
        self.file.write(chunk).await.map_err(write_error)
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes and fsyncs. A form upload's temp file still removes itself
    /// when the returned guard is dropped.
    pub async fn finish(mut self) -> Result<(Option<TempFile>, u64)> {
        self.file.sync().await.map_err(write_error)?;
        Ok((self.temp.take(), self.written))
    }

    /// Flushes without fsync: a resumable upload's chunk that is not its
    /// last (its offset is the file's length, so a crash only makes the
    /// client send the lost tail again). Returns the bytes in the file.
    pub async fn pause(mut self) -> Result<u64> {
        self.file.flush().await.map_err(write_error)?;
        Ok(self.written)
    }
}

/// ENOSPC while writing is a full disk, said as such.
pub fn write_error(e: std::io::Error) -> Error {
    if e.raw_os_error() == Some(nix::libc::ENOSPC) {
        Error::InsufficientStorage(
            "The disk filled up during the upload; nothing was kept. Free some space and try again."
                .into(),
        )
    } else {
        crate::error::io("writing an upload", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(1536 << 20), "1.5 GiB");
    }

    #[tokio::test]
    async fn a_dropped_upload_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_upload: Some(10),
            reserve: 0,
        };
        let mut inc = Incoming::create(dir.path(), "a.mp4", limits).await.unwrap();
        inc.write(b"12345").await.unwrap();
        assert!(matches!(
            inc.write(b"123456").await,
            Err(Error::TooLarge(_))
        ));
        drop(inc);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
