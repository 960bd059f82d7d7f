//! The one error type users can meet; `web` maps each variant to a status.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Nothing here: the file or folder does not exist, or it moved.")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("A password is needed for this: enter the upload password and try again.")]
    Unauthorized,
    #[error("{0}")]
    UnsupportedType(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Conflict(String),
    /// A write from another web site.
    #[error("{0}")]
    Forbidden(String),
    /// A `Host` this server does not answer to.
    #[error("{0}")]
    Misdirected(String),
    /// Too many wrong passwords: wait this many seconds.
    #[error("Too many wrong passwords from here: wait {0} seconds, then try again.")]
    TooManyAttempts(u64),
    /// Too many requests of one kind from one client: wait, then again.
    #[error("{message}")]
    TooMany { retry_after: u64, message: String },
    /// Every slot for this is taken now: try again after a while.
    #[error("{message}")]
    Busy { retry_after: u64, message: String },
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("The request body was cut off before it ended; nothing was kept. Try again.")]
    Aborted,
    #[error("{0}")]
    Unavailable(String),
    #[error(
        "The chunk's checksum does not match its bytes; the chunk was discarded. Send it again."
    )]
    ChecksumMismatch,
    #[error("Something went wrong on the server ({0}). The log has details.")]
    Internal(String),
}

/// An I/O error as the user meets it: a missing file stays a 404 and a
/// full disk a 507, while the log says what it happened to, its kind and
/// the system's message (so a 404 for a file that is there but unreadable
/// can be told from a typo). Every I/O error that reaches a user passes
/// here, with what it was about ([`Context::at`]).
pub fn io(what: impl std::fmt::Display, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::NotFound => {
            tracing::info!("{what}: {e} ({:?})", e.kind());
            Error::NotFound
        }
        io::ErrorKind::StorageFull => {
            tracing::warn!("{what}: {e} ({:?})", e.kind());
            Error::InsufficientStorage(
                "The disk is full: nothing was kept. Free some space and try again.".into(),
            )
        }
        kind => Error::Internal(format!("{what}: {e} ({kind:?})")),
    }
}

/// `io::Result` into [`Result`], saying what the I/O was about.
pub trait Context<T> {
    fn at(self, what: impl std::fmt::Display) -> Result<T>;
}

impl<T> Context<T> for io::Result<T> {
    fn at(self, what: impl std::fmt::Display) -> Result<T> {
        self.map_err(|e| io(what, e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_io_error_keeps_its_cause_for_the_log() {
        let gone = io::Error::new(io::ErrorKind::NotFound, "No such file or directory");
        assert!(matches!(
            Err::<(), _>(gone).at("/media/a.mp4"),
            Err(Error::NotFound)
        ));
        let denied = io::Error::new(io::ErrorKind::PermissionDenied, "Permission denied");
        match Err::<(), _>(denied).at("/media/b.mp4") {
            Err(Error::Internal(d)) => {
                assert_eq!(d, "/media/b.mp4: Permission denied (PermissionDenied)")
            }
            other => panic!("{other:?}"),
        }
        let full = io::Error::new(io::ErrorKind::StorageFull, "No space left on device");
        assert!(matches!(
            Err::<(), _>(full).at("x"),
            Err(Error::InsufficientStorage(_))
        ));
    }
}
