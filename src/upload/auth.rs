//! `--upload-password`: a constant-time password check and a signed cookie
//! that keeps a browser in once it has given the password.

use crate::fsutil::now;
use crate::sync::Locked;
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

pub const COOKIE: &str = "pimedia_auth";
/// A browser stays in for a year.
const COOKIE_SECS: u64 = 365 * 24 * 3600;
/// Wrong passwords a client may give before each further try must wait:
/// 1 s, then twice as long each time, up to a minute.
const FREE_TRIES: u32 = 5;
const MAX_WAIT_SECS: u64 = 60;
/// Clients remembered at most (the oldest forgiven first).
const MAX_CLIENTS: usize = 10_000;

pub struct Auth {
    password: Option<String>,
    key: [u8; 32],
    /// Per client: wrong passwords in a row, and when it may try again.
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
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
        Ok(Auth {
            password,
            key,
            failures: Mutex::new(HashMap::new()),
        })
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

    /// Whether a request may change things: no password set, a valid
    /// cookie, or the password itself in a header (scripts, API clients).
    /// A password given counts as an attempt (see [`Auth::attempt`]).
    pub fn allows(
        &self,
        cookie: Option<&str>,
        header_password: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<bool, u64> {
        if !self.enabled() || cookie.is_some_and(|c| self.check_cookie(c)) {
            return Ok(true);
        }
        match header_password {
            Some(p) => self.attempt(p, client),
            None => Ok(false),
        }
    }

    /// One password attempt from `client`: whether it was right, or how
    /// many seconds it must wait first. After 5 wrong ones in a row each
    /// further attempt waits, longer each time; a right one forgives.
    pub fn attempt(&self, given: &str, client: Option<IpAddr>) -> Result<bool, u64> {
        self.slowed(client, "upload password", || self.check_password(given))
    }

    /// One guess of a secret (the password, a profile's PIN) from
    /// `client`, judged by `right`, counted and slowed as
    /// [`Auth::attempt`] says: whether it was right, or how many seconds
    /// it must wait first.
    pub fn slowed(
        &self,
        client: Option<IpAddr>,
        what: &str,
        right: impl FnOnce() -> bool,
    ) -> Result<bool, u64> {
        let client = client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let at = Instant::now();
        if let Some((n, until)) = self.failures.locked().get(&client) {
            if *n >= FREE_TRIES && at < *until {
                return Err((*until - at).as_secs_f64().ceil().max(1.0) as u64);
            }
        }
        let right = right();
        let mut failures = self.failures.locked();
        if right {
            failures.remove(&client);
            return Ok(true);
        }
        if failures.len() >= MAX_CLIENTS && !failures.contains_key(&client) {
            if let Some(oldest) = failures
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| *k)
            {
                failures.remove(&oldest);
            }
        }
        let entry = failures.entry(client).or_insert((0, at));
        entry.0 += 1;
        if entry.0 >= FREE_TRIES {
            let wait = (1u64 << (entry.0 - FREE_TRIES).min(6)).min(MAX_WAIT_SECS);
            entry.1 = at + Duration::from_secs(wait);
        }
        tracing::warn!("a wrong {what} from {client} ({} in a row)", entry.0);
        Ok(false)
    }

    /// `value.signature`: a value this server gave, which it can tell
    /// from one made up (a profile chosen on a browser).
    pub fn signed(&self, purpose: &str, value: &str) -> String {
        let mac = self.mac(&[purpose.as_bytes(), value.as_bytes()]);
        format!("{value}.{}", hex(&mac))
    }

    /// The value of a [`Auth::signed`] one, if the signature is this
    /// server's.
    pub fn verified<'a>(&self, purpose: &str, signed: &'a str) -> Option<&'a str> {
        let (value, sig) = signed.rsplit_once('.')?;
        let want = hex(&self.mac(&[purpose.as_bytes(), value.as_bytes()]));
        bool::from(want.as_bytes().ct_eq(sig.as_bytes())).then_some(value)
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
        assert_eq!(a.allows(None, Some("s3cret"), None), Ok(true));
        assert_eq!(a.allows(None, None, None), Ok(false));
        let open = Auth::new(dir.path(), None).unwrap();
        assert_eq!(open.allows(None, None, None), Ok(true));
        // Signed values: told from made-up ones, and from another purpose's.
        let s = a.signed("profile", "2");
        assert_eq!(a.verified("profile", &s), Some("2"));
        assert_eq!(a.verified("profile", &s.replacen('2', "3", 1)), None);
        assert_eq!(a.verified("other", &s), None);
        assert_eq!(a.verified("profile", "2"), None);
    }

    #[test]
    fn five_wrong_passwords_then_each_try_waits_longer() {
        let dir = tempfile::tempdir().unwrap();
        let a = Auth::new(dir.path(), Some("s3cret".into())).unwrap();
        let (me, other) = (
            Some("10.0.0.5".parse().unwrap()),
            Some("10.0.0.6".parse().unwrap()),
        );
        for _ in 0..5 {
            assert_eq!(a.attempt("guess", me), Ok(false));
        }
        assert_eq!(a.attempt("s3cret", me), Err(1), "even the right one waits");
        assert_eq!(
            a.attempt("s3cret", other),
            Ok(true),
            "others are not held up"
        );
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(a.attempt("guess", me), Ok(false));
        assert_eq!(a.attempt("guess", me), Err(2), "longer now");
        std::thread::sleep(Duration::from_millis(2100));
        assert_eq!(a.attempt("s3cret", me), Ok(true));
        assert_eq!(a.attempt("guess", me), Ok(false), "forgiven");
    }
}
