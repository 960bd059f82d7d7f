//! Titles people read, from names people and cameras write: release noise
//! dropped (`The.Matrix.1999.1080p.BluRay.x264-GRP` is "The Matrix
//! (1999)"), episodes as "Show S1 · E2", and a camera's name
//! (`VID_20260101_101010`) as the file's own title tag or the day it was
//! recorded ("1 Jan 2026, 10:10"). Pure functions: the library calls them
//! for every listing, so nothing here touches the disk.

/// A video's season and episode, read from its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// The show's name as the title shows it ("Breaking Bad").
    pub show: String,
    /// `None` for a plain numbered series ("Show - 03").
    pub season: Option<u32>,
    pub number: u32,
    /// The episode's own name, when the file has one ("Pilot").
    pub name: Option<String>,
}

impl Episode {
    /// "S1 · E2", or "E3" in a series without seasons.
    pub fn label(&self) -> String {
        match self.season {
            Some(s) => format!("S{s} · E{}", self.number),
            None => format!("E{}", self.number),
        }
    }
}

/// The title for a file: `path` is its library path; `tag` and `created`
/// are the container's title and `creation_time` tags, when it has them.
pub fn title(path: &str, tag: Option<&str>, created: Option<&str>) -> String {
    let stem = stem_of(path);
    if stem.starts_with('.') {
        return stem.to_string();
    }
    if says_nothing(stem) {
        if let Some(t) = tag.map(str::trim).filter(|t| !t.is_empty()) {
            return t.to_string();
        }
        let when = date_in(stem).or_else(|| created.and_then(date_in));
        return match (app_of(stem), when) {
            (Some(app), Some(when)) => format!("{app}, {when}"),
            (Some(app), None) => app.to_string(),
            (None, Some(when)) => when,
            (None, None) => plain(stem),
        };
    }
    if let Some(ep) = episode(path) {
        let mut shown = format!("{} {}", ep.show, ep.label());
        if ep.show.is_empty() {
            shown = ep.label();
        }
        if let Some(name) = &ep.name {
            shown = format!("{shown} — {name}");
        }
        return shown;
    }
    let words = cleaned(stem);
    if words.is_empty() {
        return plain(stem);
    }
    words
}

/// The file name without its extension (and a TV version's `.tv`).
fn stem_of(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    let stem = stem
        .strip_suffix(".tv")
        .filter(|s| !s.is_empty())
        .unwrap_or(stem);
    if stem.is_empty() {
        name
    } else {
        stem
    }
}

/// Underscores as spaces, nothing else changed: for names that are not
/// release names.
fn plain(stem: &str) -> String {
    let t = stem.replace('_', " ");
    if t.trim().is_empty() {
        stem.to_string()
    } else {
        t.trim().to_string()
    }
}

/// Words a release name carries that are not its title, lower case.
#[rustfmt::skip]
const NOISE: &[&str] = &[
    // Resolution and picture.
    "480p", "540p", "576p", "720p", "1080p", "1080i", "1440p", "2160p", "4320p", "4k", "8k", "uhd",
    "fhd", "hdr", "hdr10", "hdr10+", "hdr10plus", "dv", "dovi", "sdr", "10bit", "8bit", "12bit",
    // Source.
    "bluray", "blu-ray", "bdrip", "brrip", "bdremux", "remux", "web-dl", "webdl", "webrip",
    "web-rip", "hdtv", "hdtvrip", "pdtv", "dsr", "dvdrip", "dvd", "dvdscr", "dvd5", "dvd9", "dvdr",
    "hdrip", "hdcam", "telesync", "nf", "amzn", "dsnp", "hmax", "atvp", "hulu", "pcok", "imax",
    // Codecs and sound.
    "x264", "x265", "h264", "h265", "hevc", "avc", "xvid", "divx", "av1", "vp9", "aac", "aac2",
    "ac3", "eac3", "dts", "dts-hd", "dtshd", "truehd", "atmos", "dd2", "dd5", "ddp", "ddp2", "ddp5",
    "dd+", "flac", "mp3", "opus", "lpcm", "pcm",
    // Release and edition.
    "proper", "repack", "rerip", "internal", "limited", "unrated", "multi", "multisubs", "subbed",
    "dubbed", "hybrid", "extended", "remastered", "criterion",
    // Languages of the release.
    "vostfr", "french", "truefrench", "german", "korean", "japanese", "spanish", "italian", "ita",
    "eng", "ger",
];

fn is_noise(token: &str) -> bool {
    let t = token
        .trim_matches(|c| c == '(' || c == ')')
        .to_ascii_lowercase();
    // `x264-GRP`: the group rides on the last tag.
    let head = t.split('-').next().unwrap_or(&t);
    NOISE.contains(&t.as_str())
        || NOISE.contains(&head)
        || (t.len() > 1
            && t.ends_with('p')
            && t[..t.len() - 1].parse::<u32>().is_ok_and(|n| n >= 240))
}

/// A year a film's name gives: 1900–2099, bare or in brackets.
fn year_of(token: &str) -> Option<u32> {
    let t = token.trim_matches(|c| c == '(' || c == ')' || c == '[' || c == ']');
    let t = t.split('-').next().unwrap_or(t);
    (t.len() == 4)
        .then(|| t.parse::<u32>().ok())
        .flatten()
        .filter(|y| (1900..=2099).contains(y))
}

/// The stem without bracketed tags (`[GRP]`, `[1080p]`, `{hash}`) and
/// without parenthesised ones (`(1280x720 x264 AAC)`, a leading
/// `(Group)`), split into words at dots, underscores and spaces. Other
/// parentheses stay: "(US)", "(2010)", "(500) Days of Summer".
fn words(stem: &str) -> Vec<String> {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut group: Option<String> = None;
    for c in stem.chars() {
        if let Some(g) = group.as_mut() {
            match c {
                ')' => {
                    let g = group.take().unwrap_or_default();
                    let leading = out.trim().is_empty() && g.chars().any(char::is_alphabetic);
                    if !leading && !is_tag_group(&g) {
                        out.push_str(&format!(" ({g}) "));
                    }
                    out.push(' ');
                }
                '.' | '_' => g.push(' '),
                c => g.push(c),
            }
            continue;
        }
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth = depth.saturating_sub(1);
                out.push(' ');
            }
            _ if depth > 0 => {}
            '(' => group = Some(String::new()),
            '.' | '_' => out.push(' '),
            c => out.push(c),
        }
    }
    if let Some(g) = group {
        out.push_str(&format!(" ({g}"));
    }
    out.split_whitespace().map(str::to_string).collect()
}

/// Whether a parenthesised group is a release's technical tags: a codec,
/// a resolution (`1280x720`), a checksum (`ABCD1234`).
fn is_tag_group(g: &str) -> bool {
    g.split(|c: char| c.is_whitespace() || c == ',' || c == '+')
        .filter(|t| !t.is_empty())
        .any(|t| {
            let dims = t.to_ascii_lowercase();
            let resolution = dims.split_once('x').is_some_and(|(w, h)| {
                [w, h]
                    .iter()
                    .all(|n| (3..=4).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
            });
            let checksum = t.len() == 8
                && t.bytes().all(|b| b.is_ascii_hexdigit())
                && t.bytes().any(|b| b.is_ascii_digit())
                && t.bytes().any(|b| b.is_ascii_alphabetic());
            is_noise(t) || resolution || checksum
        })
}

/// Words up to the first release tag; a year at their end as "(1999)".
fn cleaned(stem: &str) -> String {
    let all = words(stem);
    let cut = all
        .iter()
        .enumerate()
        .position(|(i, w)| i > 0 && is_noise(w))
        .unwrap_or(all.len());
    let mut kept: Vec<String> = all[..cut].to_vec();
    let year_at = kept
        .iter()
        .enumerate()
        .rev()
        .find(|(i, w)| *i > 0 && year_of(w).is_some())
        .map(|(i, _)| i);
    let year = year_at.and_then(|i| year_of(&kept[i]));
    if let Some(i) = year_at {
        kept.truncate(i);
    }
    while kept.last().is_some_and(|w| w == "-" || w == "–") {
        kept.pop();
    }
    let mut shown = tidy(&kept.join(" "));
    if let Some(y) = year {
        shown = format!("{shown} ({y})");
    }
    shown
}

/// Dashes left at the ends gone.
fn tidy(s: &str) -> String {
    s.trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace())
        .to_string()
}

/// `S01E02` (or `s1e2`, `S01E02E03`), `1x02`, and `S01 E02` as two words.
fn marker(words: &[String], i: usize) -> Option<(u32, u32, usize)> {
    let w = words[i].to_ascii_lowercase();
    let w = w.trim_matches(|c| c == '-' || c == '(' || c == ')');
    let digits = |s: &str, max: usize| -> Option<u32> {
        (!s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    if let Some(rest) = w.strip_prefix('s') {
        if let Some((s, e)) = rest.split_once('e') {
            let e = e.split(['e', '-']).next().unwrap_or(e);
            if let (Some(s), Some(e)) = (digits(s, 2), digits(e, 3)) {
                return Some((s, e, 1));
            }
        }
        if let (Some(s), Some(next)) = (digits(rest, 2), words.get(i + 1)) {
            let next = next.to_ascii_lowercase();
            if let Some(e) = next.strip_prefix('e').and_then(|e| digits(e, 3)) {
                return Some((s, e, 2));
            }
        }
    }
    // `1x02`: two digits after the x, so `16x9` and `0x1F` are not episodes.
    if let Some((s, e)) = w.split_once('x').filter(|(_, e)| e.len() >= 2) {
        if let (Some(s), Some(e)) = (digits(s, 2), digits(e, 3)) {
            if s > 0 && e > 0 {
                return Some((s, e, 1));
            }
        }
    }
    None
}

/// The season and episode a file's name gives, or its number in a plain
/// numbered series (`Show - 03`, `Show Episode 3`, `Show E03`). A film's
/// name gives `None`.
pub fn episode(path: &str) -> Option<Episode> {
    let stem = stem_of(path);
    if says_nothing(stem) {
        return None;
    }
    let all = words(stem);
    for i in 0..all.len() {
        if let Some((season, number, used)) = marker(&all, i) {
            let show = tidy(&show_name(&all[..i]));
            let after: Vec<String> = all[i + used..]
                .iter()
                .take_while(|w| !is_noise(w))
                .cloned()
                .collect();
            let name = tidy(&after.join(" "));
            return Some(Episode {
                show,
                season: Some(season),
                number,
                name: (!name.is_empty()).then_some(name),
            });
        }
    }
    numbered(&all)
}

/// The words before an episode marker, without a year or dash at the end.
fn show_name(before: &[String]) -> String {
    let mut kept: Vec<&String> = before.iter().collect();
    while kept
        .last()
        .is_some_and(|w| *w == "-" || (kept.len() > 1 && year_of(w).is_some()))
    {
        kept.pop();
    }
    kept.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `Show - 03`, `Show Episode 3`, `Show Ep 3`, `Show E03`, `Show #3`.
fn numbered(all: &[String]) -> Option<Episode> {
    let end = all
        .iter()
        .enumerate()
        .position(|(i, w)| i > 0 && is_noise(w))
        .unwrap_or(all.len());
    let all = &all[..end];
    for i in 1..all.len() {
        let w = all[i].to_ascii_lowercase();
        let prev = all[i - 1].to_ascii_lowercase();
        let num = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (n, show_end) = if prev == "-" || prev == "–" {
            match num(&w) {
                Some(n) => (n, i - 1),
                None => continue,
            }
        } else if ["episode", "ep", "folge", "épisode", "episodio"].contains(&prev.as_str()) {
            match num(w.trim_end_matches('.')) {
                Some(n) => (n, i - 1),
                None => continue,
            }
        } else if let Some(n) = w
            .strip_prefix("ep")
            .or_else(|| w.strip_prefix('e'))
            .or_else(|| w.strip_prefix('#'))
            .and_then(num)
        {
            (n, i)
        } else {
            continue;
        };
        let show = tidy(&show_name(&all[..show_end]));
        if show.is_empty() {
            return None;
        }
        let rest: Vec<String> = all[i + 1..]
            .iter()
            .skip_while(|w| *w == "-" || *w == "–")
            .cloned()
            .collect();
        let name = tidy(&rest.join(" "));
        return Some(Episode {
            show,
            season: None,
            number: n,
            name: (!name.is_empty()).then_some(name),
        });
    }
    None
}

/// Prefixes cameras and phones put before a number or a date (and the
/// words of "WhatsApp Video … at …", "Screen Recording …"), lower case.
#[rustfmt::skip]
const CAMERA: &[&str] = &[
    "img", "vid", "mvi", "dsc", "dscn", "dscf", "gopr", "gh", "gx", "gp", "dji", "mov", "pxl", "cimg",
    "mah", "mvc", "p", "c", "mts", "clip", "video", "rpreplay", "final", "trim", "whatsapp", "screen",
    "recording", "record", "signal", "telegram", "snapchat", "wa", "at", "cloud", "document",
];

/// Where a phone's video came from, when its name says: a messaging
/// app's naming scheme, or a screen recording.
fn app_of(stem: &str) -> Option<&'static str> {
    let s = stem.to_ascii_lowercase();
    let token = |t: &str| s.split(|c: char| !c.is_alphanumeric()).any(|w| w == t);
    // WhatsApp on Android writes `VID-20240302-WA0003`.
    let wa_number = s
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.len() == 6 && w.starts_with("wa") && w[2..].bytes().all(|b| b.is_ascii_digit()));
    if token("whatsapp") || wa_number {
        Some("WhatsApp video")
    } else if s.starts_with("signal") {
        Some("Signal video")
    } else if s.starts_with("telegram") || (s.starts_with("video_") && date_in(stem).is_some()) {
        // Telegram Desktop saves `video_2024-03-02_18-45-12`.
        Some("Telegram video")
    } else if s.starts_with("snapchat") {
        Some("Snapchat video")
    } else if s.starts_with("screen recording") || s.starts_with("rpreplay") {
        Some("Screen recording")
    } else {
        None
    }
}

/// Whether a name is only what a camera or phone writes: a known prefix
/// and numbers, dates and times (`VID_20260101_101010`, `IMG_0042`,
/// `MVI_0001`, `00001`, `WhatsApp Video 2026-01-01 at 10.10.10`).
pub fn says_nothing(stem: &str) -> bool {
    let mut saw_digit = false;
    for part in stem.split(|c: char| !c.is_alphanumeric()) {
        if part.is_empty() {
            continue;
        }
        let letters: String = part.chars().take_while(|c| c.is_alphabetic()).collect();
        let rest = &part[letters.len()..];
        if !rest.chars().all(|c| c.is_ascii_digit()) {
            // `WA0001`, `PXL_20260101_101010123`, `MOV001`: letters then digits only.
            return false;
        }
        if !rest.is_empty() {
            saw_digit = true;
        }
        if !letters.is_empty() && !CAMERA.contains(&letters.to_lowercase().as_str()) {
            return false;
        }
    }
    saw_digit
}

/// "1 Jan 2026, 10:10" for the first date and time in `s`: `20260101_101010`,
/// `2026-01-01 at 10.10.10`, `2026-01-01T10:10:10Z`; a date alone is
/// "1 Jan 2026".
pub fn date_in(s: &str) -> Option<String> {
    let digits: Vec<(usize, &str)> = runs(s);
    for (k, &(_, run)) in digits.iter().enumerate() {
        // YYYYMMDD, then HHMMSS (or HHMM) in the next run.
        let (date, next) = if run.len() >= 8 && run.len() != 9 {
            (ymd(&run[..8]), k + 1)
        } else if run.len() == 4 {
            // YYYY-MM-DD as three runs.
            match (digits.get(k + 1), digits.get(k + 2)) {
                (Some((_, m)), Some((_, d))) if m.len() == 2 && d.len() == 2 => {
                    (ymd(&format!("{run}{m}{d}")), k + 3)
                }
                _ => (None, k + 1),
            }
        } else {
            (None, k + 1)
        };
        let Some((y, m, d)) = date else { continue };
        // A time right after: HHMMSS… in one run (or the rest of this
        // one), or HH MM [SS] as runs.
        let same_run_time = (run.len() >= 12).then(|| &run[8..]);
        // Only separators (or "at", "T") between the date and a time.
        let end = digits[next.saturating_sub(1)].0 + digits[next.saturating_sub(1)].1.len();
        let near = |at: usize| {
            let gap = s[end..at].trim_matches(|c: char| !c.is_alphanumeric());
            gap.is_empty() || gap.eq_ignore_ascii_case("at") || gap == "T"
        };
        let time = same_run_time.and_then(hm).or_else(|| {
            match digits.get(next).filter(|(at, _)| near(*at)) {
                Some((_, t)) if t.len() >= 4 => hm(t),
                Some((_, h)) if h.len() == 2 => match digits.get(next + 1) {
                    Some((_, mi)) if mi.len() == 2 => hm(&format!("{h}{mi}")),
                    _ => None,
                },
                _ => None,
            }
        });
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let day = format!("{d} {} {y}", MONTHS[m as usize - 1]);
        return Some(match time {
            Some((h, mi)) => format!("{day}, {h:02}:{mi:02}"),
            None => day,
        });
    }
    None
}

/// The runs of ASCII digits in `s`, with where each starts.
fn runs(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        match (c.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                out.push((st, &s[st..i]));
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn ymd(s: &str) -> Option<(u32, u32, u32)> {
    let (y, m, d) = (
        s.get(..4)?.parse().ok()?,
        s.get(4..6)?.parse().ok()?,
        s.get(6..8)?.parse().ok()?,
    );
    ((1970..=2099).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then_some((y, m, d))
}

fn hm(s: &str) -> Option<(u32, u32)> {
    let (h, m): (u32, u32) = (s.get(..2)?.parse().ok()?, s.get(2..4)?.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_people_and_the_internet_write() {
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("The.Matrix.1999.1080p.BluRay.x264-GRP.mkv", "The Matrix (1999)"),
            ("show.s01e02.720p.hdtv.mkv", "show S1 · E2"),
            ("Breaking.Bad.S05E14.Ozymandias.1080p.WEB-DL.DD5.1.H.264-GRP.mkv", "Breaking Bad S5 · E14 — Ozymandias"),
            ("The Office (US) - 2x01 - The Dundies.avi", "The Office (US) S2 · E1 — The Dundies"),
            ("Blade.Runner.2049.2017.2160p.UHD.BluRay.REMUX.HDR.HEVC.Atmos-EPSiLON.mkv", "Blade Runner 2049 (2017)"),
            ("1917.2019.1080p.WEBRip.x264.mp4", "1917 (2019)"),
            ("2001.A.Space.Odyssey.1968.REMASTERED.1080p.BluRay.mkv", "2001 A Space Odyssey (1968)"),
            ("Inception (2010).mkv", "Inception (2010)"),
            ("Inception_2010_720p.mp4", "Inception (2010)"),
            ("Amélie.2001.FRENCH.DVDRip.XviD.avi", "Amélie (2001)"),
            ("[SubsPlease] Frieren - 05 (1080p) [ABCD1234].mkv", "Frieren E5"),
            ("[HorribleSubs] One Piece - 1001 [720p].mkv", "One Piece E1001"),
            ("Game.of.Thrones.S08E06.The.Iron.Throne.2160p.AMZN.WEB-DL.mkv", "Game of Thrones S8 · E6 — The Iron Throne"),
            ("game_of_thrones_s01e01.mp4", "game of thrones S1 · E1"),
            ("Doctor.Who.2005.S01E01.Rose.mkv", "Doctor Who S1 · E1 — Rose"),
            ("Friends S01 E03.mkv", "Friends S1 · E3"),
            ("Sherlock.S02E01.A.Scandal.in.Belgravia.mp4", "Sherlock S2 · E1 — A Scandal in Belgravia"),
            ("Planet Earth II - Episode 3 - Jungles.mp4", "Planet Earth II E3 — Jungles"),
            ("Peppa Pig Ep 12.mp4", "Peppa Pig E12"),
            ("My_Film.2020.mkv", "My Film (2020)"),
            ("Kids/Birthday.tv.mp4", "Birthday"),
            ("holiday.mp4", "holiday"),
            ("Birthday cam 2.mp4", "Birthday cam 2"),
            ("Dune.Part.2.2024.mkv", "Dune Part 2 (2024)"),
            ("Summer holiday in Rome.mp4", "Summer holiday in Rome"),
            ("Avengers.Endgame.2019.IMAX.1080p.mkv", "Avengers Endgame (2019)"),
            ("Dune.Part.Two.2024.HDR.2160p.WEB.H265-GRP.mkv", "Dune Part Two (2024)"),
            ("Parasite.2019.KOREAN.1080p.BluRay.x264.mkv", "Parasite (2019)"),
            ("Spider-Man.No.Way.Home.2021.1080p.mkv", "Spider-Man No Way Home (2021)"),
            ("Apollo.13.1995.720p.BRRip.mkv", "Apollo 13 (1995)"),
            ("Ocean's.Eleven.2001.PROPER.720p.mkv", "Ocean's Eleven (2001)"),
            ("The.Mandalorian.S02E08.Chapter.16.The.Rescue.1080p.DSNP.WEB-DL.mkv", "The Mandalorian S2 · E8 — Chapter 16 The Rescue"),
            ("VID_20260101_101010.mp4", "1 Jan 2026, 10:10"),
            ("PXL_20260315_183000123.mp4", "15 Mar 2026, 18:30"),
            ("IMG_0042.MOV", "IMG 0042"),
            ("MVI_0001.AVI", "MVI 0001"),
            ("20260704_201501.mp4", "4 Jul 2026, 20:15"),
            ("WhatsApp Video 2026-01-01 at 10.10.10.mp4", "WhatsApp video, 1 Jan 2026, 10:10"),
            ("WhatsApp Video 2024-03-02 at 18.45.12 (1).mp4", "WhatsApp video, 2 Mar 2024, 18:45"),
            ("VID-20260202-WA0003.mp4", "WhatsApp video, 2 Feb 2026"),
            ("Screen Recording 2026-05-06 at 09.08.07.mov", "Screen recording, 6 May 2026, 09:08"),
            ("video_2024-03-02_18-45-12.mp4", "Telegram video, 2 Mar 2024, 18:45"),
            ("telegram-cloud-document-2-5301234567890.mp4", "Telegram video"),
            ("Snapchat-123456789.mp4", "Snapchat video"),
            ("[Erai-raws] Frieren - 01 (1280x720 x264 AAC) [ABCD1234].mkv", "Frieren E1"),
            ("[Judas] Frieren - 02 [1080p][HEVC x265 10bit][Multi-Subs].mkv", "Frieren E2"),
            ("Frieren - 03 (WEB 1080p AAC) [SubsPlease].mkv", "Frieren E3"),
            ("(Hi10) Frieren - 04 (BD 1080p) [ABCD1234].mkv", "Frieren E4"),
            ("[ASW] Frieren - 06 [1080p HEVC x265 10Bit][AAC].mkv", "Frieren E6"),
            ("Show.S01E02.(1920x1080.HEVC).mkv", "Show S1 · E2"),
            ("(500) Days of Summer (2009).mkv", "(500) Days of Summer (2009)"),
            ("GOPR0123.MP4", "GOPR0123"),
            ("00001.MTS", "00001"),
            ("MOV001.MOD", "MOV001"),
            ("DSC_0001.MOV", "DSC 0001"),
            ("Stranger.Things.S04E01.Chapter.One.720p.NF.WEB-DL.mkv", "Stranger Things S4 · E1 — Chapter One"),
            ("The.Simpsons.1x01.Simpsons.Roasting.on.an.Open.Fire.avi", "The Simpsons S1 · E1 — Simpsons Roasting on an Open Fire"),
            ("Signal-2026-03-04-121314.mp4", "Signal video, 4 Mar 2026, 12:13"),
            ("P1010001.MOV", "P1010001"),
        ];
        let mut wrong = Vec::new();
        for (name, want) in cases {
            let got = title(name, None, None);
            if got != want.trim_end() {
                wrong.push(format!("{name}: got {got:?}, want {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        assert!(cases.len() >= 40);
    }

    #[test]
    fn a_camera_name_takes_the_files_own_title_or_its_date() {
        assert_eq!(title("IMG_0042.MOV", Some("Beach day"), None), "Beach day");
        assert_eq!(
            title("IMG_0042.MOV", None, Some("2026-01-01T10:10:10.000000Z")),
            "1 Jan 2026, 10:10"
        );
        // The name's own date beats the tag's (a copy keeps the name).
        assert_eq!(
            title(
                "VID_20260101_101010.mp4",
                None,
                Some("2025-06-01T00:00:00Z")
            ),
            "1 Jan 2026, 10:10"
        );
        // An AVI's recording date (`ICRD`, ffprobe's `date`), as a date.
        assert_eq!(
            title("MVI_0001.AVI", None, Some("2009-06-12")),
            "12 Jun 2009"
        );
        // A name that says something keeps it, whatever the tag says.
        assert_eq!(title("Wedding.mp4", Some("Untitled"), None), "Wedding");
    }

    #[test]
    fn episodes_and_films_are_told_apart() {
        let e = episode("Show/show.s01e03.the.end.mkv").unwrap();
        assert_eq!((e.season, e.number), (Some(1), 3));
        assert_eq!(e.name.as_deref(), Some("the end"));
        assert_eq!(e.label(), "S1 · E3");
        let e = episode("Frieren - 05.mkv").unwrap();
        assert_eq!((e.season, e.number, e.show.as_str()), (None, 5, "Frieren"));
        for film in [
            "The.Matrix.1999.1080p.mkv",
            "Apollo.13.1995.mkv",
            "VID_20260101_101010.mp4",
            "holiday.mp4",
            "1917.2019.mp4",
            "Ocean's Eleven.mkv",
        ] {
            assert_eq!(episode(film), None, "{film}");
        }
    }
}
