//! How pages and scripts write numbers and times: one format each, made
//! here.

/// Query-string value, percent-encoded for use inside an href.
pub fn q(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub fn format_duration(secs: f64) -> String {
    let s = secs.round() as u64;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `1080p`, `720p`, `4K` from a frame height; the raw size otherwise.
pub fn format_resolution(w: u32, h: u32) -> String {
    match h {
        2000.. => "4K".into(),
        1000..=1999 if w >= 1280 => "1080p".into(),
        700..=999 if w >= 960 => "720p".into(),
        _ => format!("{w}×{h}"),
    }
}

/// A count with thousands apart: `1,480`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// "just now", "5 minutes ago", "3 days ago".
pub fn ago(secs: u64) -> String {
    let (n, unit) = match secs {
        0..60 => return "just now".into(),
        60..3600 => (secs / 60, "minute"),
        3600..86400 => (secs / 3600, "hour"),
        _ => (secs / 86400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_their_thousands_apart() {
        assert_eq!(count(0), "0");
        assert_eq!(count(120), "120");
        assert_eq!(count(1480), "1,480");
        assert_eq!(count(1234567), "1,234,567");
    }

    #[test]
    fn durations_and_resolutions() {
        assert_eq!(format_duration(5.4), "0:05");
        assert_eq!(format_duration(3725.0), "1:02:05");
        assert_eq!(format_resolution(1920, 1080), "1080p");
        assert_eq!(format_resolution(1280, 720), "720p");
        assert_eq!(format_resolution(320, 240), "320×240");
    }

    #[test]
    fn says_how_long_ago() {
        assert_eq!(ago(5), "just now");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(7200), "2 hours ago");
        assert_eq!(ago(3 * 86400), "3 days ago");
    }
}
