//! What the household's TVs play (`--tv-codecs`), and whether a probed
//! file plays on them as it is. Pure logic, so every rule is a unit test.

use serde::{Deserialize, Serialize};

use super::{Probe, Stream};

/// What every TV in the house plays. The baseline, which every TV browser
/// since about 2015 can count on: MP4 with its index first, H.264 High at
/// level 4.1 or below, 8-bit 4:2:0, at most 1920×1080, AAC or MP3 audio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// HEVC (8- and 10-bit) in MP4, tagged `hvc1`.
    pub hevc: bool,
    /// VP9 (in MP4 or WebM).
    pub vp9: bool,
    pub av1: bool,
    /// Pictures up to 4096×2160 and H.264 up to level 5.1.
    pub uhd: bool,
    /// The TVs deinterlace themselves (only ever from `--tv-codecs`):
    /// interlaced H.264 is remuxed, not transcoded.
    #[serde(default)]
    pub interlaced: bool,
}

/// The names `--tv-codecs` takes.
pub const TV_CODECS: &[&str] = &["h264", "hevc", "vp9", "av1", "4k", "interlaced"];

impl Target {
    /// `h264,hevc,4k` -> a target; H.264 is always in it.
    pub fn parse(list: &str) -> Result<Target, String> {
        let mut t = Target::default();
        for name in list
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match name.to_ascii_lowercase().as_str() {
                "h264" | "avc" => {}
                "hevc" | "h265" => t.hevc = true,
                "vp9" => t.vp9 = true,
                "av1" => t.av1 = true,
                "4k" | "uhd" => t.uhd = true,
                "interlaced" => t.interlaced = true,
                other => return Err(format!("'{other}' is not one of {}", TV_CODECS.join(", "))),
            }
        }
        Ok(t)
    }

    /// What both targets play (two TVs in one house).
    pub fn common(self, other: Target) -> Target {
        Target {
            hevc: self.hevc && other.hevc,
            vp9: self.vp9 && other.vp9,
            av1: self.av1 && other.av1,
            uhd: self.uhd && other.uhd,
            interlaced: self.interlaced && other.interlaced,
        }
    }

    /// The video codecs the TVs play.
    fn codecs(&self) -> Vec<&'static str> {
        let mut v = vec!["h264"];
        for (on, name) in [(self.hevc, "hevc"), (self.vp9, "vp9"), (self.av1, "av1")] {
            if on {
                v.push(name);
            }
        }
        v
    }

    /// The list as `--tv-codecs` takes it.
    pub fn names(&self) -> String {
        let mut v = self.codecs();
        if self.uhd {
            v.push("4k");
        }
        if self.interlaced {
            v.push("interlaced");
        }
        v.join(",")
    }

    /// The largest picture, as (long side, short side).
    pub fn max_size(&self) -> (u32, u32) {
        if self.uhd {
            (4096, 2160)
        } else {
            (1920, 1080)
        }
    }

    /// Why the TVs can't play this video stream as it is, if they can't.
    pub fn video_problem(&self, v: &Stream) -> Option<String> {
        let f = &v.format;
        let pix = f.pix_fmt.as_deref().unwrap_or("");
        match v.codec.as_str() {
            "h264" => {
                let profile = f.profile.as_deref().unwrap_or("");
                if !matches!(
                    profile,
                    "" | "Baseline" | "Constrained Baseline" | "Main" | "High"
                ) {
                    return Some(format!(
                        "its video is H.264 {profile}, which TVs don't decode"
                    ));
                }
                if !matches!(pix, "" | "yuv420p" | "yuvj420p") {
                    return Some(format!(
                        "its video is H.264 in {}, which TVs don't decode",
                        pretty_pix_fmt(pix)
                    ));
                }
                let max_level = if self.uhd { 51 } else { 41 };
                if let Some(level) = f.level.filter(|l| *l > max_level) {
                    return Some(format!(
                        "its video is H.264 level {}.{}, above the {}.{} TVs can count on",
                        level / 10,
                        level % 10,
                        max_level / 10,
                        max_level % 10
                    ));
                }
            }
            "hevc" if self.hevc => {
                if !matches!(pix, "" | "yuv420p" | "yuv420p10le") {
                    return Some(format!(
                        "its video is HEVC in {}, which TVs don't decode",
                        pretty_pix_fmt(pix)
                    ));
                }
            }
            "vp9" if self.vp9 => {}
            "av1" if self.av1 => {}
            other => {
                return Some(format!(
                    "its video is {}, which the TVs here don't play (they play {})",
                    pretty_codec(other),
                    self.codecs().join(", ")
                ))
            }
        }
        if is_interlaced(v) && !self.interlaced {
            return Some(
                "its video is interlaced, which TV browsers show with combed edges".into(),
            );
        }
        if is_hdr(v) && v.codec == "h264" {
            return Some("its video is HDR, which the TVs here would show washed out".into());
        }
        let (w, h) = shown_size(v)?;
        let (long, short) = self.max_size();
        if w.max(h) > long || w.min(h) > short {
            return Some(format!(
                "its picture is {w}×{h}, larger than the {long}×{short} the TVs here play"
            ));
        }
        None
    }

    /// Whether the TVs play the file exactly as it is, from its extension
    /// and what ffprobe said: the container, its index, every stream.
    pub fn plays_as_is(&self, extension: &str, probe: &Probe) -> bool {
        let ext = extension.to_ascii_lowercase();
        let video_ok = probe
            .video()
            .is_none_or(|v| self.video_problem(v).is_none());
        let first_audio = probe.streams.iter().find(|s| s.kind == "audio");
        let container_ok = match ext.as_str() {
            "mp4" | "m4v" => probe.is_mp4_family() && probe.moov_first != Some(false),
            "webm" => {
                probe
                    .video()
                    .is_none_or(|v| v.codec != "h264" && v.codec != "hevc")
                    && first_audio.is_none_or(|a| matches!(a.codec.as_str(), "opus" | "vorbis"))
            }
            _ => false,
        };
        // Apple's players and many TVs take HEVC in MP4 only tagged hvc1.
        let tag_ok = probe
            .video()
            .is_none_or(|v| v.codec != "hevc" || v.format.codec_tag.as_deref() == Some("hvc1"));
        // More than 5.1 is sound TVs and browsers don't decode.
        let audio_ok = ext == "webm"
            || first_audio.is_none_or(|a| {
                matches!(a.codec.as_str(), "aac" | "mp3") && a.channels.is_none_or(|c| c <= 6)
            });
        container_ok && video_ok && tag_ok && audio_ok
    }
}

/// Interlaced: fields that browsers would show combed. ffprobe says so for
/// MPEG-2 and H.264; for DV it says `unknown`, and DV from a camcorder tape
/// is interlaced (PAL bottom field first, NTSC too).
pub fn is_interlaced(v: &Stream) -> bool {
    match v.format.field_order.as_deref() {
        Some("tt" | "bb" | "tb" | "bt") => true,
        Some(_) => false,
        None => v.codec == "dvvideo",
    }
}

/// PQ (HDR10, Dolby Vision's base) or HLG.
pub fn is_hdr(v: &Stream) -> bool {
    matches!(
        v.format.color_transfer.as_deref(),
        Some("smpte2084" | "arib-std-b67")
    )
}

/// The picture's size as shown: a phone's portrait clip is stored
/// landscape with a 90° turn in its display matrix.
pub fn shown_size(v: &Stream) -> Option<(u32, u32)> {
    let (w, h) = (v.width?, v.height?);
    Some(if v.format.rotation.rem_euclid(180) == 90 {
        (h, w)
    } else {
        (w, h)
    })
}

fn pretty_pix_fmt(p: &str) -> String {
    let depth = if p.contains("10") {
        "10-bit"
    } else if p.contains("12") {
        "12-bit"
    } else {
        "8-bit"
    };
    let chroma = if p.contains("444") {
        "4:4:4"
    } else if p.contains("422") {
        "4:2:2"
    } else {
        "4:2:0"
    };
    format!("{depth} {chroma}")
}

/// A codec's name as people know it (`mpeg2video` is "MPEG-2").
pub(super) fn pretty_codec(c: &str) -> String {
    match c {
        "mpeg2video" => "MPEG-2".into(),
        "mpeg4" => "MPEG-4 Part 2 (DivX/Xvid)".into(),
        "hevc" => "HEVC (H.265)".into(),
        "h264" => "H.264".into(),
        "msmpeg4v3" | "msmpeg4v2" => "MS MPEG-4 (DivX 3)".into(),
        "vc1" => "VC-1".into(),
        "wmv3" | "wmv2" | "wmv1" => "Windows Media Video".into(),
        "vp8" => "VP8".into(),
        "vp9" => "VP9".into(),
        "av1" => "AV1".into(),
        "dts" => "DTS".into(),
        "truehd" => "TrueHD".into(),
        "flac" => "FLAC".into(),
        "vorbis" => "Vorbis".into(),
        "opus" => "Opus".into(),
        "ac3" => "AC-3".into(),
        "eac3" => "E-AC-3".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::probe::Format;

    pub fn video(codec: &str, profile: &str, pix: &str, w: u32, h: u32) -> Stream {
        Stream {
            index: 0,
            kind: "video".into(),
            codec: codec.into(),
            width: Some(w),
            height: Some(h),
            language: None,
            title: None,
            attached_pic: false,
            default: false,
            forced: false,
            channels: None,
            duration: None,
            format: Format {
                profile: Some(profile.into()),
                pix_fmt: Some(pix.into()),
                level: Some(40),
                ..Format::default()
            },
        }
    }

    #[test]
    fn parses_the_list() {
        assert_eq!(Target::parse("h264").unwrap(), Target::default());
        let t = Target::parse("h264, HEVC,4k").unwrap();
        assert!(t.hevc && t.uhd && !t.vp9);
        assert_eq!(t.names(), "h264,hevc,4k");
        assert!(Target::parse("h264,mpeg2").unwrap_err().contains("mpeg2"));
    }

    #[test]
    fn the_baseline_takes_8_bit_h264_high_up_to_1080p() {
        let t = Target::default();
        assert_eq!(
            t.video_problem(&video("h264", "High", "yuv420p", 1920, 1080)),
            None
        );
        let hi10 = t.video_problem(&video("h264", "High 10", "yuv420p10le", 1280, 720));
        assert!(hi10.unwrap().contains("High 10"));
        let rgb = t.video_problem(&video("h264", "High 4:4:4 Predictive", "yuv444p", 64, 64));
        assert!(rgb.is_some());
        let big = t.video_problem(&video("h264", "High", "yuv420p", 3840, 2160));
        assert!(big.unwrap().contains("3840×2160"));
        let mut level = video("h264", "High", "yuv420p", 1920, 1080);
        level.format.level = Some(42);
        assert!(t.video_problem(&level).unwrap().contains("4.2"));
        assert!(t
            .video_problem(&video("hevc", "Main", "yuv420p", 64, 64))
            .is_some());
        assert!(t
            .video_problem(&video("mpeg2video", "Main", "yuv420p", 64, 64))
            .is_some());
    }

    #[test]
    fn portrait_fits_turned() {
        let mut p = video("h264", "High", "yuv420p", 1920, 1080);
        p.format.rotation = -90;
        assert_eq!(shown_size(&p), Some((1080, 1920)));
        assert_eq!(Target::default().video_problem(&p), None);
    }

    #[test]
    fn hevc_and_4k_when_listed() {
        let t = Target::parse("hevc,4k").unwrap();
        assert_eq!(
            t.video_problem(&video("hevc", "Main 10", "yuv420p10le", 3840, 2160)),
            None
        );
        let t = Target::parse("hevc").unwrap();
        assert!(t
            .video_problem(&video("hevc", "Main", "yuv420p", 3840, 2160))
            .is_some());
    }

    #[test]
    fn only_mp4_with_its_index_first_and_aac_plays_as_is() {
        let t = Target::default();
        let mut audio = video("aac", "LC", "", 0, 0);
        audio.kind = "audio".into();
        audio.index = 1;
        let mut p = Probe {
            duration: Some(1.0),
            format_name: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            streams: vec![video("h264", "High", "yuv420p", 640, 360), audio],
            moov_first: Some(true),
            title: None,
            created: None,
        };
        assert!(t.plays_as_is("mp4", &p));
        assert!(!t.plays_as_is("mov", &p), "MOV is remuxed to MP4");
        p.moov_first = Some(false);
        assert!(!t.plays_as_is("mp4", &p), "index at the end");
        p.moov_first = Some(true);
        p.streams[1].codec = "ac3".into();
        assert!(!t.plays_as_is("mp4", &p), "AC-3 first");
    }
}
