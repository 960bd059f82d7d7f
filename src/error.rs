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

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => Error::NotFound,
            io::ErrorKind::StorageFull => Error::InsufficientStorage(
                "The disk is full: nothing was kept. Free some space and try again.".into(),
            ),
            _ => Error::Internal(e.to_string()),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
