//! What one browser says it plays: the MIME types pages ask it about, a
//! readable name from its user agent, and the [`Target`] it stands for.
//! Pure logic, so every rule is a unit test.

use std::collections::{BTreeMap, BTreeSet};

use crate::media::{Stream, Target};

/// One question a page asks its browser (`video.canPlayType(mime)`).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Codec {
    /// The name reports and `/api/devices` use.
    pub key: &'static str,
    /// What the devices page shows.
    pub label: &'static str,
    pub mime: &'static str,
}

const fn codec(key: &'static str, label: &'static str, mime: &'static str) -> Codec {
    Codec { key, label, mime }
}

/// Every question, in the order the devices page shows the answers.
pub const CODECS: &[Codec] = &[
    codec(
        "h264",
        "H.264 High 4.1",
        r#"video/mp4; codecs="avc1.640029""#,
    ),
    codec(
        "h264_51",
        "H.264 High 5.1",
        r#"video/mp4; codecs="avc1.640033""#,
    ),
    codec(
        "hevc",
        "HEVC Main",
        r#"video/mp4; codecs="hvc1.1.6.L120.90""#,
    ),
    codec(
        "hevc_hev1",
        "HEVC Main (hev1)",
        r#"video/mp4; codecs="hev1.1.6.L120.90""#,
    ),
    codec(
        "hevc10",
        "HEVC Main 10",
        r#"video/mp4; codecs="hvc1.2.4.L120.90""#,
    ),
    codec(
        "hevc10_hev1",
        "HEVC Main 10 (hev1)",
        r#"video/mp4; codecs="hev1.2.4.L120.90""#,
    ),
    codec("vp9", "VP9", r#"video/webm; codecs="vp9""#),
    codec("av1", "AV1", r#"video/mp4; codecs="av01.0.08M.08""#),
    codec("aac", "AAC", r#"audio/mp4; codecs="mp4a.40.2""#),
    codec("mp3", "MP3", "audio/mpeg"),
    codec("ac3", "AC-3", r#"audio/mp4; codecs="ac-3""#),
    codec("eac3", "E-AC-3", r#"audio/mp4; codecs="ec-3""#),
    codec("opus", "Opus", r#"audio/webm; codecs="opus""#),
    codec("flac", "FLAC", r#"audio/mp4; codecs="flac""#),
];

/// The shortest side a screen has for pictures up to 4K to be worth keeping.
const UHD_SCREEN: u32 = 3840;

/// Whether a browser's answers mean it plays a codec: "probably"; or
/// "maybe" when Media Source agrees. Some TVs say "probably" and then fail:
/// the failures a player reports override this (see [`plays`]).
pub fn answer_means_yes(can_play_type: &str, media_source: Option<bool>) -> bool {
    match can_play_type {
        "probably" => true,
        "maybe" => media_source == Some(true),
        _ => false,
    }
}

/// Whether a device plays `key`: it said so, and no file of that kind
/// failed on its player since.
pub fn plays(said: &BTreeMap<String, bool>, failed: &BTreeSet<String>, key: &str) -> bool {
    said.get(key) == Some(&true) && !failed.contains(key)
}

/// The target a device stands for. H.264 at level 4.1 is the baseline every
/// device counts for, whatever it said; HEVC only when both Main and Main 10
/// play in `hvc1` (how pimedia tags what it remuxes); 4K only with H.264 at
/// 5.1 and a screen that shows it.
pub fn target_of(
    said: &BTreeMap<String, bool>,
    failed: &BTreeSet<String>,
    screen: Option<[u32; 2]>,
) -> Target {
    let yes = |k: &str| plays(said, failed, k);
    let big_screen = screen.is_some_and(|[w, h]| w.max(h) >= UHD_SCREEN);
    Target {
        hevc: yes("hevc") && yes("hevc10"),
        vp9: yes("vp9"),
        av1: yes("av1"),
        uhd: yes("h264_51") && big_screen,
        // No browser says whether it deinterlaces: only --tv-codecs does.
        interlaced: false,
    }
}

/// The codec key of a video stream, for marking what failed on a player.
pub fn key_of(v: &Stream) -> Option<&'static str> {
    let ten_bit = v
        .format
        .pix_fmt
        .as_deref()
        .is_some_and(|p| p.contains("10"));
    Some(match v.codec.as_str() {
        "h264" if v.format.level.is_some_and(|l| l > 41) => "h264_51",
        "h264" => "h264",
        "hevc" if ten_bit => "hevc10",
        "hevc" => "hevc",
        "vp9" => "vp9",
        "av1" => "av1",
        _ => return None,
    })
}

/// A name a person recognises, from a user agent: "LG webOS TV",
/// "Samsung Tizen TV", "iPhone Safari", "Android Chrome".
pub fn name_from_user_agent(ua: &str) -> String {
    let has = |s: &str| ua.contains(s);
    let tv = if has("Web0S") || has("webOS") {
        Some("LG webOS TV")
    } else if has("Tizen") {
        Some("Samsung Tizen TV")
    } else if has("AFT") && has("Silk") || has("AmazonWebAppPlatform") {
        Some("Amazon Fire TV")
    } else if has("CrKey") {
        Some("Chromecast")
    } else if has("Android") && (has("TV") || has("BRAVIA") || has("AFT")) {
        Some("Android TV")
    } else if has("SMART-TV") || has("SmartTV") || has("HbbTV") {
        Some("Smart TV")
    } else {
        None
    };
    if let Some(tv) = tv {
        return tv.to_string();
    }
    let browser = if has("SamsungBrowser") {
        "Samsung Internet"
    } else if has("Firefox/") || has("FxiOS") {
        "Firefox"
    } else if has("Edg/") || has("EdgA/") || has("EdgiOS") {
        "Edge"
    } else if has("HeadlessChrome") {
        "Headless Chrome"
    } else if has("Chrome/") || has("CriOS") || has("Chromium/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else {
        "browser"
    };
    let platform = if has("iPhone") {
        "iPhone"
    } else if has("iPad") {
        "iPad"
    } else if has("Android") {
        "Android"
    } else if has("CrOS") {
        "Chromebook"
    } else if has("Macintosh") {
        "Mac"
    } else if has("Windows") {
        "Windows"
    } else if has("Linux") {
        "Linux"
    } else {
        "Unknown"
    };
    format!("{platform} {browser}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LG: &str = "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/38.0.2125.122 Safari/537.36 WebAppManager";
    const SAMSUNG: &str = "Mozilla/5.0 (SMART-TV; LINUX; Tizen 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Version/5.0 TV Safari/537.36";
    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
    const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
    const ANDROID_TV: &str = "Mozilla/5.0 (Linux; Android 9; BRAVIA 4K GB ATV3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0 Safari/537.36";

    #[test]
    fn names_devices_from_their_user_agent() {
        assert_eq!(name_from_user_agent(LG), "LG webOS TV");
        assert_eq!(name_from_user_agent(SAMSUNG), "Samsung Tizen TV");
        assert_eq!(name_from_user_agent(IPHONE), "iPhone Safari");
        assert_eq!(name_from_user_agent(ANDROID), "Android Chrome");
        assert_eq!(name_from_user_agent(ANDROID_TV), "Android TV");
        assert_eq!(name_from_user_agent("curl/8.0"), "Unknown browser");
    }

    fn said(keys: &[&str]) -> BTreeMap<String, bool> {
        CODECS
            .iter()
            .map(|c| (c.key.to_string(), keys.contains(&c.key)))
            .collect()
    }

    #[test]
    fn a_device_stands_for_what_it_plays_minus_what_failed() {
        let tv = said(&["h264", "h264_51", "hevc", "hevc10", "aac"]);
        let none = BTreeSet::new();
        let t = target_of(&tv, &none, Some([1920, 1080]));
        assert!(t.hevc && !t.uhd && !t.vp9);
        assert!(target_of(&tv, &none, Some([3840, 2160])).uhd);
        let failed: BTreeSet<String> = ["hevc10".to_string()].into();
        assert!(!target_of(&tv, &failed, None).hevc, "Main 10 failed");
        let main_only = said(&["h264", "hevc"]);
        assert!(!target_of(&main_only, &none, None).hevc);
        assert_eq!(target_of(&BTreeMap::new(), &none, None), Target::default());
    }

    #[test]
    fn maybe_counts_only_when_media_source_agrees() {
        assert!(answer_means_yes("probably", None));
        assert!(!answer_means_yes("maybe", None));
        assert!(answer_means_yes("maybe", Some(true)));
        assert!(!answer_means_yes("", Some(true)));
    }
}
