//! `--upload-password`: a constant-time password check and a signed cookie
//! that keeps a browser in once it has given the password.

use crate::fsutil::now;
use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

pub const COOKIE: &str = "pimedia_auth";
/// A browser stays in for a year.
const COOKIE_SECS: u64 = 365 * 24 * 3600;

pub struct Auth {
    password: Option<String>,
    key: [u8; 32],
}

impl Auth {
    /// Without a password everything is open. With one, the signing key is
    /// read from (or made in) the state dir, so cookies survive restarts.
    pub fn new(state_dir: &Path, password: Option<String>) -> std::io::Result<Auth> {
        let mut key = [0u8; 32];
        if password.is_some() {
            let file = state_dir.join("cookie.key");
            match std::fs::read(&file) {
                Ok(bytes) if bytes.len() == 32 => key.copy_from_slice(&bytes),
                _ => {
                    getrandom::fill(&mut key).map_err(std::io::Error::other)?;
                    use std::os::unix::fs::OpenOptionsExt;
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .mode(0o600)
                        .open(&file)?;
                    f.write_all(&key)?;
                    f.sync_all()?;
                }
            }
        }
        Ok(Auth { password, key })
    }

    pub fn enabled(&self) -> bool {
        self.password.is_some()
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = HmacSha256::new_from_slice(&self.key).expect("any key length");
        for p in parts {
            m.update(p);
            m.update(b"\0");
        }
        m.finalize().into_bytes().into()
    }

    /// Constant-time: both sides are MACed first, so neither length nor
    /// content leaks through timing.
    pub fn check_password(&self, given: &str) -> bool {
        match &self.password {
            None => true,
            Some(p) => {
                let a = self.mac(&[b"pw", given.as_bytes()]);
                let b = self.mac(&[b"pw", p.as_bytes()]);
                a.ct_eq(&b).into()
            }
        }
    }

    /// `expiry.signature`, the signature binding the current password.
    pub fn cookie_value(&self) -> String {
        let expiry = now() + COOKIE_SECS;
        let pw = self.password.as_deref().unwrap_or("");
        let mac = self.mac(&[b"cookie", expiry.to_string().as_bytes(), pw.as_bytes()]);
        format!("{expiry}.{}", hex(&mac))
    }

    pub fn check_cookie(&self, value: &str) -> bool {
        let Some((expiry, sig)) = value.split_once('.') else {
            return false;
        };
        let Ok(exp) = expiry.parse::<u64>() else {
            return false;
        };
        let pw = self.password.as_deref().unwrap_or("");
        let want = hex(&self.mac(&[b"cookie", expiry.as_bytes(), pw.as_bytes()]));
        exp > now() && bool::from(want.as_bytes().ct_eq(sig.as_bytes()))
    }

    /// Whether a request may upload: no password set, a valid cookie, or
    /// the password itself in a header (for scripts and API clients).
    pub fn allows(&self, cookie: Option<&str>, header_password: Option<&str>) -> bool {
        !self.enabled()
            || cookie.is_some_and(|c| self.check_cookie(c))
            || header_password.is_some_and(|p| self.check_password(p))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_cookies() {
        let dir = tempfile::tempdir().unwrap();
        let a = Auth::new(dir.path(), Some("s3cret".into())).unwrap();
        assert!(a.check_password("s3cret"));
        assert!(!a.check_password("s3cre"));
        let c = a.cookie_value();
        assert!(a.check_cookie(&c));
        assert!(!a.check_cookie(&c.replace('.', ".0")));
        assert!(!a.check_cookie("1.abc"));
        // Same key after a restart; a new password voids old cookies.
        let b = Auth::new(dir.path(), Some("s3cret".into())).unwrap();
        assert!(b.check_cookie(&c));
        let other = Auth::new(dir.path(), Some("new".into())).unwrap();
        assert!(!other.check_cookie(&c));
        assert!(a.allows(None, Some("s3cret")) && !a.allows(None, None));
        let open = Auth::new(dir.path(), None).unwrap();
        assert!(open.allows(None, None));
    }
}
