//! What a version of a video is: its picture size (the short side no more
//! lines than its name, the aspect kept, upright as shown), its frame rate
//! (at most 30 below 720p, and what H.264 level 4.1 allows), and its
//! bitrate from a ladder scaled by frame rate, never above the TV
//! version's; or why it is not made (it would not be smaller). Pure.

use super::{NotNeeded, Version};

/// The TV version's picture, as a version is made from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Picture {
    /// As shown (a portrait phone clip is taller than wide).
    pub width: u32,
    pub height: u32,
    pub fps: Option<f64>,
    /// Bits per second of the whole file, when known.
    pub bitrate: Option<u64>,
}

/// One video version as it is made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    pub version: Version,
    pub width: u32,
    pub height: u32,
    /// A lower frame rate, when the source's is too high.
    pub fps: Option<f64>,
    /// Frames between keyframes (about 2 s).
    pub gop: u32,
    /// Video bits per second.
    pub video_bitrate: u64,
    /// Sound bits per second (AAC stereo).
    pub audio_bitrate: u64,
}

impl Spec {
    /// Both streams, as `/api/videos` says a version's bitrate.
    pub fn bitrate(&self) -> u64 {
        self.video_bitrate + self.audio_bitrate
    }
}

/// Video bits per second at 30 frames a second.
fn ladder(version: Version) -> u64 {
    match version {
        Version::P1080 => 5_000_000,
        Version::P720 => 3_000_000,
        Version::P480 => 1_500_000,
        Version::P360 => 1_000_000,
        Version::Audio => 0,
    }
}

/// H.264 level 4.1: macroblocks a second.
const LEVEL_41_MBPS: f64 = 245_760.0;

fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32).max(1) * 2
}

/// The version `version` of `pic`, or why it is not needed.
pub fn spec(version: Version, pic: Picture) -> Result<Spec, NotNeeded> {
    let Some(lines) = version.lines() else {
        return Err(NotNeeded::NoPicture);
    };
    let short = pic.width.min(pic.height).max(1);
    let (width, height) = if short > lines {
        let k = lines as f64 / short as f64;
        let (w, h) = (pic.width as f64 * k, pic.height as f64 * k);
        // The short side exactly the name's lines; the long one even.
        if pic.width <= pic.height {
            (lines, even(h))
        } else {
            (even(w), lines)
        }
    } else {
        (pic.width, pic.height)
    };
    let source_fps = pic
        .fps
        .filter(|f| f.is_finite() && *f > 0.0)
        .unwrap_or(30.0);
    let mut fps = source_fps;
    let macroblocks = (width as f64 / 16.0).ceil() * (height as f64 / 16.0).ceil();
    while (lines < 720 && fps > 30.5) || macroblocks * fps > LEVEL_41_MBPS + 1.0 {
        fps /= 2.0;
    }
    let lowered = (fps < source_fps).then_some((fps * 1000.0).round() / 1000.0);
    // Twice the frames need about half again the bits, not twice.
    let scale = (fps / 30.0).powf(0.6).clamp(0.7, 1.6);
    let mut video_bitrate = (ladder(version) as f64 * scale) as u64;
    let audio_bitrate = if lines <= 360 { 96_000 } else { 128_000 };
    let smaller_picture = short > lines;
    if let Some(tv) = pic.bitrate.filter(|b| *b > 0) {
        let tv_video = tv.saturating_sub(audio_bitrate);
        if !smaller_picture && video_bitrate + audio_bitrate >= tv * 9 / 10 {
            return Err(NotNeeded::NotSmaller {
                version,
                lines: short,
                bitrate: tv,
            });
        }
        video_bitrate = video_bitrate.min(tv_video.max(200_000));
    }
    Ok(Spec {
        version,
        width,
        height,
        fps: lowered,
        gop: (fps * 2.0).round().max(1.0) as u32,
        video_bitrate,
        audio_bitrate,
    })
}

/// "3.2 Mb/s".
pub fn mbps(bits: u64) -> String {
    format!("{:.1} Mb/s", bits as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pic(width: u32, height: u32, fps: f64, bitrate: u64) -> Picture {
        Picture {
            width,
            height,
            fps: Some(fps),
            bitrate: Some(bitrate),
        }
    }

    #[test]
    fn a_ladder_of_versions_for_a_1080p_film() {
        let film = pic(1920, 1080, 24.0, 10_000_000);
        let cases = [
            (Version::P720, 1280, 720, None),
            (Version::P480, 854, 480, None),
            (Version::P360, 640, 360, None),
        ];
        for (v, w, h, fps) in cases {
            let s = spec(v, film).unwrap();
            assert_eq!((s.width, s.height, s.fps), (w, h, fps), "{v:?}");
            assert!(s.bitrate() < 10_000_000);
        }
        // About 3 Mb/s at 30 frames, a little less at 24.
        let s720 = spec(Version::P720, film).unwrap();
        assert!((2_300_000..3_000_000).contains(&s720.video_bitrate));
        assert_eq!(s720.gop, 48);
        // 1080p of 1080p at 10 Mb/s: the same picture, fewer bits.
        let s1080 = spec(Version::P1080, film).unwrap();
        assert_eq!((s1080.width, s1080.height), (1920, 1080));
    }

    #[test]
    fn portrait_phone_clips_keep_their_shape() {
        let s = spec(Version::P720, pic(1080, 1920, 30.0, 16_000_000)).unwrap();
        assert_eq!((s.width, s.height), (720, 1280));
    }

    #[test]
    fn frame_rates_below_720p_and_the_level() {
        let sixty = pic(1920, 1080, 59.94, 20_000_000);
        assert_eq!(spec(Version::P720, sixty).unwrap().fps, None);
        assert_eq!(spec(Version::P480, sixty).unwrap().fps, Some(29.97));
        // 1080p60 is past level 4.1.
        assert_eq!(spec(Version::P1080, sixty).unwrap().fps, Some(29.97));
        // 60 frames cost more bits than 30, not twice as many.
        let v60 = spec(Version::P720, sixty).unwrap().video_bitrate;
        assert!((4_000_000..5_000_000).contains(&v60), "{v60}");
    }

    #[test]
    fn never_above_the_tv_version_and_never_not_smaller() {
        // A 480p clip at 1 Mb/s: a 720p or 480p version would be no smaller.
        let small = pic(854, 480, 30.0, 1_000_000);
        let why = spec(Version::P720, small).unwrap_err().to_string();
        assert!(why.contains("480 lines") && why.contains("720p"), "{why}");
        assert!(spec(Version::P480, small).is_err());
        // A 360p version is a smaller picture: made, at no more bits.
        let s = spec(Version::P360, small).unwrap();
        assert!(s.video_bitrate <= 1_000_000);
        // Odd sizes stay even.
        let s = spec(Version::P360, pic(1440, 1080, 25.0, 8_000_000)).unwrap();
        assert_eq!((s.width, s.height), (480, 360));
        let s = spec(Version::P360, pic(1000, 999, 25.0, 8_000_000)).unwrap();
        assert_eq!((s.width % 2, s.height), (0, 360));
    }
}
