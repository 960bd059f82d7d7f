//! Numbers as people read them, for pages, API sentences and the log.

/// `500 bytes`, `1.5 MiB`, `2 GiB` (binary units, one decimal).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} bytes")
    } else if v.fract() < 0.05 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `6:02`, `1:02:03`: a point in a video, as a player shows it.
pub fn clock(secs: f64) -> String {
    let t = secs.max(0.0).round() as u64;
    let (h, m, s) = (t / 3600, t / 60 % 60, t % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A language's own name ("English", "Deutsch", "Français") for its
/// ISO 639-1 or 639-2 code (`en`, `eng`, `ger`/`deu`, `en-US`); `None`
/// for a code it does not know.
pub fn language_name(code: &str) -> Option<&'static str> {
    language(code).map(|(_, name)| *name)
}

/// The ISO 639-2 code an MP4 track is tagged with (`eng` for `en`,
/// `ger` for `deu`) for a code [`language_name`] knows.
pub fn iso639_2(code: &str) -> Option<&'static str> {
    language(code).and_then(|(codes, _)| codes.iter().copied().find(|c| c.len() == 3))
}

type Language = (&'static [&'static str], &'static str);

fn language(code: &str) -> Option<&'static Language> {
    let base = code
        .split(['-', '_'])
        .next()
        .unwrap_or(code)
        .to_ascii_lowercase();
    const NAMES: &[Language] = &[
        (&["en", "eng"], "English"),
        (&["de", "deu", "ger"], "Deutsch"),
        (&["fr", "fra", "fre"], "Français"),
        (&["es", "spa"], "Español"),
        (&["it", "ita"], "Italiano"),
        (&["nl", "nld", "dut"], "Nederlands"),
        (&["pt", "por"], "Português"),
        (&["sv", "swe"], "Svenska"),
        (&["da", "dan"], "Dansk"),
        (&["no", "nor", "nob", "nb", "nn", "nno"], "Norsk"),
        (&["fi", "fin"], "Suomi"),
        (&["pl", "pol"], "Polski"),
        (&["cs", "ces", "cze"], "Čeština"),
        (&["sk", "slk", "slo"], "Slovenčina"),
        (&["hu", "hun"], "Magyar"),
        (&["ro", "ron", "rum"], "Română"),
        (&["el", "ell", "gre"], "Ελληνικά"),
        (&["tr", "tur"], "Türkçe"),
        (&["ru", "rus"], "Русский"),
        (&["uk", "ukr"], "Українська"),
        (&["ar", "ara"], "العربية"),
        (&["he", "heb"], "עברית"),
        (&["hi", "hin"], "हिन्दी"),
        (&["ja", "jpn"], "日本語"),
        (&["zh", "zho", "chi"], "中文"),
        (&["ko", "kor"], "한국어"),
        (&["hr", "hrv"], "Hrvatski"),
        (&["sr", "srp"], "Српски"),
        (&["ca", "cat"], "Català"),
        (&["is", "isl", "ice"], "Íslenska"),
    ];
    NAMES
        .iter()
        .find(|(codes, _)| codes.contains(&base.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(500), "500 bytes");
        assert_eq!(human_size(500 << 20), "500 MiB");
        assert_eq!(human_size(1 << 30), "1 GiB");
        assert_eq!(human_size(3 << 29), "1.5 GiB");
    }

    #[test]
    fn clocks() {
        assert_eq!(clock(362.4), "6:02");
        assert_eq!(clock(600.0), "10:00");
        assert_eq!(clock(3723.0), "1:02:03");
        assert_eq!(clock(-1.0), "0:00");
    }

    #[test]
    fn languages_by_their_own_names() {
        assert_eq!(language_name("eng"), Some("English"));
        assert_eq!(language_name("ger"), Some("Deutsch"));
        assert_eq!(language_name("de"), Some("Deutsch"));
        assert_eq!(language_name("fr-CA"), Some("Français"));
        assert_eq!(language_name("x/../../etc"), None);
        assert_eq!(iso639_2("en-GB"), Some("eng"));
        assert_eq!(iso639_2("deu"), Some("deu"));
        assert_eq!(iso639_2("x/../../etc"), None);
    }
}
