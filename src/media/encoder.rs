//! The H.264 encoders a transcode can use, best first, their options, and
//! the one-frame trial that tells whether one works on this machine (which
//! one the queue uses is decided in `jobs/encoder.rs`).

use std::process::Stdio;

use serde::{Deserialize, Serialize};

use super::launch::Priority;
use super::Tools;

/// How the video is encoded again: H.264 High, 8-bit 4:2:0, within the
/// target's size and level, SDR, a keyframe every 2 s.
#[derive(Debug, Clone, PartialEq)]
pub struct Encode {
    /// The output picture, as shown (ffmpeg turns a rotated source upright
    /// before the filters, so portrait stays portrait). `None`: as the source.
    pub size: Option<(u32, u32)>,
    /// The source's HDR transfer (`smpte2084`, `arib-std-b67`), tone-mapped to SDR BT.709.
    pub tonemap: Option<String>,
    /// Interlaced source (MPEG-2, broadcast, DV): deinterlaced.
    pub deinterlace: bool,
    /// ... into one frame per field (motion as the camera saw it), where
    /// the level allows that rate.
    pub fields: bool,
    /// A lower frame rate, when the source's is above what the level allows.
    pub fps: Option<f64>,
    /// Frames between keyframes (about 2 s).
    pub gop: u32,
    /// 41 for 4.1.
    pub level: u32,
    /// Why the video can't be copied.
    pub why: String,
}

impl Encode {
    /// The filters, in order: deinterlace, scale, tone-map, 8-bit 4:2:0.
    pub fn filters(&self) -> String {
        let mut f: Vec<String> = Vec::new();
        if self.fields {
            f.push("yadif=1".into());
        } else if self.deinterlace {
            f.push("yadif".into());
        }
        if let Some(fps) = self.fps {
            f.push(format!("fps={fps}"));
        }
        if let Some((w, h)) = self.size {
            f.push(format!("scale={w}:{h}"));
        }
        if let Some(transfer) = &self.tonemap {
            // Linear light, tone-mapped (Hable keeps highlights), then
            // BT.709: the zscale/tonemap chain from ffmpeg's own docs.
            f.push(format!(
                "zscale=tin={transfer}:pin=bt2020:min=bt2020nc:t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv"
            ));
        }
        f.push("format=yuv420p".into());
        f.join(",")
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoder {
    /// The Raspberry Pi 4's hardware encoder (`/dev/video11`), up to 1080p30.
    #[serde(rename = "h264_v4l2m2m")]
    V4l2m2m,
    /// Intel and AMD graphics (`/dev/dri/renderD128`).
    #[serde(rename = "h264_vaapi")]
    Vaapi,
    /// Software: everywhere, the slowest.
    #[default]
    #[serde(rename = "libx264")]
    X264,
}

/// Where VAAPI's device is on every Linux with one GPU.
const VAAPI_DEVICE: &str = "/dev/dri/renderD128";

impl Encoder {
    pub const BEST_FIRST: [Encoder; 3] = [Encoder::V4l2m2m, Encoder::Vaapi, Encoder::X264];

    pub fn name(self) -> &'static str {
        match self {
            Encoder::V4l2m2m => "h264_v4l2m2m",
            Encoder::Vaapi => "h264_vaapi",
            Encoder::X264 => "libx264",
        }
    }

    pub fn parse(s: &str) -> Option<Encoder> {
        Encoder::BEST_FIRST
            .into_iter()
            .find(|e| e.name() == s.trim())
    }

    pub fn is_hardware(self) -> bool {
        self != Encoder::X264
    }

    /// Options before the input.
    pub fn input_args(self) -> Vec<String> {
        match self {
            Encoder::Vaapi => vec!["-vaapi_device".into(), VAAPI_DEVICE.into()],
            _ => Vec::new(),
        }
    }

    /// The video's filters and encoder options. libx264 is set by quality
    /// (CRF 21, capped so a stream fits home Wi-Fi); the hardware encoders
    /// take a bitrate or a fixed quantizer, which is what they offer.
    pub fn output_args(self, e: &Encode) -> Vec<String> {
        let filters = e.filters();
        let uhd = e.level > 41;
        let mut a: Vec<String> = Vec::new();
        let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
        match self {
            Encoder::X264 => {
                let level = format!("{}.{}", e.level / 10, e.level % 10);
                push(&["-vf", &filters, "-c:v", "libx264", "-preset", "veryfast"]);
                push(&["-crf", "21", "-profile:v", "high", "-level:v", &level]);
                push(&["-maxrate", if uhd { "30M" } else { "10M" }]);
                push(&["-bufsize", if uhd { "60M" } else { "20M" }]);
            }
            Encoder::V4l2m2m => {
                push(&["-vf", &filters, "-c:v", "h264_v4l2m2m"]);
                push(&["-b:v", if uhd { "20M" } else { "8M" }]);
                push(&["-profile:v", "100", "-level:v", &e.level.to_string()]);
            }
            Encoder::Vaapi => {
                let filters = format!("{filters},format=nv12,hwupload");
                push(&["-vf", &filters, "-c:v", "h264_vaapi", "-qp", "22"]);
                push(&["-profile:v", "100", "-level:v", &e.level.to_string()]);
            }
        }
        push(&["-g", &e.gop.to_string(), "-pix_fmt", "yuv420p"]);
        if e.tonemap.is_some() {
            push(&["-color_primaries", "bt709", "-color_trc", "bt709"]);
            push(&["-colorspace", "bt709"]);
        }
        a
    }

    /// Encodes one generated frame, as a job would; `Err` says why not.
    /// Blocking.
    pub fn trial(self, tools: &Tools) -> Result<(), String> {
        let Some(mut cmd) = tools.ffmpeg_command(Priority::Background) else {
            return Err(tools.ffmpeg_unavailable());
        };
        let e = Encode {
            size: None,
            tonemap: None,
            deinterlace: false,
            fields: false,
            fps: None,
            gop: 50,
            level: 41,
            why: String::new(),
        };
        cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error"])
            .args(self.input_args())
            .args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"])
            .args(["-frames:v", "1"])
            .args(self.output_args(&e))
            .args(["-f", "null", "-"])
            .stdin(Stdio::null());
        let out = cmd.output().map_err(|e| e.to_string())?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        Err(last.unwrap_or("it printed nothing").trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for e in Encoder::BEST_FIRST {
            assert_eq!(Encoder::parse(e.name()), Some(e));
            assert_eq!(
                serde_json::to_string(&e).unwrap(),
                format!("\"{}\"", e.name())
            );
        }
        assert_eq!(Encoder::parse("nvenc"), None);
    }
}
