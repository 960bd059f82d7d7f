//! What every request passes before any route reads it: the `Host` it
//! names must be this machine (against DNS rebinding: a web page whose
//! name was re-pointed at the Pi would otherwise read the library), and a
//! write must come from pimedia's own pages, not another site's (cross-site
//! request forgery). Requests without `Origin` (curl, scripts, old TV
//! browsers on same-origin forms) keep working.

use warp::http::{HeaderMap, Method};

use crate::error::Error;
use crate::lan::{host_name, AllowedHosts};

/// The host name in an `Origin` (`http://192.168.1.20:8080`), if it has one.
fn origin_host(origin: &str) -> Option<&str> {
    let rest = origin.split_once("://")?.1;
    Some(host_name(rest.split('/').next()?))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Ok` when the request may go on; else the refusal, with its sentence.
pub fn check(method: &Method, headers: &HeaderMap, allowed: &AllowedHosts) -> Result<(), Error> {
    let host = header(headers, "host").map(host_name);
    if let Some(name) = host.filter(|n| !allowed.allows(n)) {
        return Err(Error::Misdirected(format!(
            "pimedia does not answer to the name '{name}'. If that is your name for this server, start pimedia with --allowed-hosts {name} (or PIMEDIA_ALLOWED_HOSTS); this check keeps other web sites from reading your library through a name of theirs."
        )));
    }
    let writes = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !writes {
        return Ok(());
    }
    if header(headers, "sec-fetch-site") == Some("cross-site") {
        return Err(cross_site());
    }
    match header(headers, "origin") {
        None => Ok(()),
        Some(origin) => match (origin_host(origin), host) {
            (Some(from), Some(to)) if from.eq_ignore_ascii_case(to) => Ok(()),
            _ => Err(cross_site()),
        },
    }
}

fn cross_site() -> Error {
    Error::Forbidden(
        "This change came from another web site, so it was refused: changes are made from pimedia's own pages.".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn allowed() -> AllowedHosts {
        AllowedHosts {
            hostname: Some("mypi".into()),
            extra: vec!["media.home.arpa".into(), "*.example.org".into()],
        }
    }

    #[test]
    fn names_this_machine_answers_to() {
        let a = allowed();
        for ok in [
            "192.168.1.20",
            "[fe80::1]",
            "localhost",
            "raspberrypi.local",
            "MYPI",
            "media.home.arpa",
            "tv.example.org",
            "example.org",
        ] {
            assert!(a.allows(ok), "{ok}");
        }
        for no in [
            "evil.com",
            "192.168.1.20.nip.io",
            "notexample.org",
            "mypi.evil.com",
        ] {
            assert!(!a.allows(no), "{no}");
        }
        let h = headers(&[("host", "attacker.example.com:8080")]);
        let e = check(&Method::GET, &h, &a).unwrap_err().to_string();
        assert!(e.contains("--allowed-hosts attacker.example.com"), "{e}");
    }

    #[test]
    fn writes_from_another_site_are_refused() {
        let a = allowed();
        let post = Method::POST;
        let same = headers(&[
            ("host", "192.168.1.20:8080"),
            ("origin", "http://192.168.1.20:8080"),
        ]);
        assert!(check(&post, &same, &a).is_ok());
        let behind_nginx = headers(&[
            ("host", "192.168.1.20"),
            ("origin", "http://192.168.1.20:8080"),
        ]);
        assert!(
            check(&post, &behind_nginx, &a).is_ok(),
            "nginx keeps the name, not the port"
        );
        let no_origin = headers(&[("host", "192.168.1.20")]);
        assert!(check(&post, &no_origin, &a).is_ok(), "curl, old TVs");
        for bad in [
            headers(&[("host", "192.168.1.20"), ("origin", "https://evil.com")]),
            headers(&[("host", "192.168.1.20"), ("origin", "null")]),
            headers(&[("host", "192.168.1.20"), ("sec-fetch-site", "cross-site")]),
        ] {
            assert!(matches!(check(&post, &bad, &a), Err(Error::Forbidden(_))));
            assert!(
                check(&Method::GET, &bad, &a).is_ok(),
                "reads are not writes"
            );
        }
    }
}
