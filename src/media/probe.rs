use std::path::Path;
use std::process::Stdio;

use serde::{Deserialize, Serialize};

use super::Tools;

/// What ffprobe says about a file, as much as pimedia uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    pub duration: Option<f64>,
    pub format_name: String,
    pub streams: Vec<Stream>,
    /// For MP4 and MOV files: whether the index (`moov`) comes before the
    /// media, so a player can start before it has the end of the file.
    #[serde(default)]
    pub moov_first: Option<bool>,
    /// The container's own title tag, as the file says it.
    #[serde(default)]
    pub title: Option<String>,
    /// When it was recorded (the `creation_time` tag, ISO 8601).
    #[serde(default)]
    pub created: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stream {
    pub index: u32,
    pub kind: String,
    pub codec: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub language: Option<String>,
    /// The track's title ("Commentary"), as the file says it.
    #[serde(default)]
    pub title: Option<String>,
    pub attached_pic: bool,
    /// Flagged the default track of its kind (an MKV's `FlagDefault`).
    #[serde(default)]
    pub default: bool,
    /// Flagged forced: subtitles of only what is not in the film's own
    /// language (a sign, a foreign line).
    #[serde(default)]
    pub forced: bool,
    pub channels: Option<u32>,
    /// Seconds, when the container says (MKV in a `DURATION` tag). A
    /// file's duration counts every stream, subtitles too.
    #[serde(default)]
    pub duration: Option<f64>,
    /// What decides whether a TV can play the stream as it is.
    #[serde(default, flatten)]
    pub format: Format,
}

/// A stream's coding details, as ffprobe names them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Format {
    /// `High`, `High 10`, `Main 10`, `Constrained Baseline`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// H.264: 41 for level 4.1; HEVC: 30 × the level (123 for 4.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<i32>,
    /// `yuv420p`, `yuv420p10le`, `yuv444p`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pix_fmt: Option<String>,
    /// `bt709`, `smpte2084` (PQ), `arib-std-b67` (HLG), …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_transfer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_primaries: Option<String>,
    /// `progressive`, `tt`, `bb`, `tb`, `bt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_order: Option<String>,
    /// Frames per second (the average, else the container's rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<f64>,
    /// Degrees the picture is turned when shown (the display matrix), e.g.
    /// 90 or -90 for a portrait phone clip.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rotation: i32,
    /// The container's tag for the codec (`hvc1`, `hev1`, `avc1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec_tag: Option<String>,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// The facts the library shows and caches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Meta {
    pub duration: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub codecs: Vec<String>,
    /// The container's title tag (see [`Probe::title`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// When it was recorded (see [`Probe::created`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("ffprobe could not be started: {0}")]
    Spawn(std::io::Error),
    #[error("ffprobe is not available")]
    Missing,
    #[error("{0}")]
    Unreadable(String),
}

#[derive(Deserialize)]
struct RawOutput {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawFormat {
    duration: Option<String>,
    #[serde(default)]
    format_name: String,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
}

#[derive(Deserialize)]
struct RawStream {
    index: u32,
    #[serde(default)]
    codec_type: String,
    #[serde(default)]
    codec_name: String,
    width: Option<u32>,
    height: Option<u32>,
    channels: Option<u32>,
    duration: Option<String>,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
    #[serde(default)]
    disposition: std::collections::HashMap<String, i64>,
    profile: Option<String>,
    level: Option<i32>,
    pix_fmt: Option<String>,
    color_transfer: Option<String>,
    color_primaries: Option<String>,
    field_order: Option<String>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    codec_tag_string: Option<String>,
    #[serde(default)]
    side_data_list: Vec<RawSideData>,
}

#[derive(Deserialize)]
struct RawSideData {
    rotation: Option<f64>,
}

/// `30000/1001` -> 29.97; `0/0` -> None.
fn rate(r: &str) -> Option<f64> {
    let (n, d) = r.split_once('/').unwrap_or((r, "1"));
    let (n, d) = (n.parse::<f64>().ok()?, d.parse::<f64>().ok()?);
    (n > 0.0 && d > 0.0).then(|| n / d)
}

impl RawStream {
    fn format(&self) -> Format {
        let known = |v: &Option<String>| v.clone().filter(|s| !s.is_empty() && s != "unknown");
        let rotation = self
            .side_data_list
            .iter()
            .find_map(|d| d.rotation)
            .map(|r| r.round() as i32)
            .or_else(|| self.tags.get("rotate")?.parse().ok())
            .unwrap_or(0);
        Format {
            profile: known(&self.profile),
            level: self.level.filter(|l| *l > 0),
            pix_fmt: known(&self.pix_fmt),
            color_transfer: known(&self.color_transfer),
            color_primaries: known(&self.color_primaries),
            field_order: known(&self.field_order),
            frame_rate: self
                .avg_frame_rate
                .as_deref()
                .and_then(rate)
                .or_else(|| self.r_frame_rate.as_deref().and_then(rate)),
            rotation,
            codec_tag: known(&self.codec_tag_string).filter(|t| !t.starts_with('[')),
        }
    }
}

/// Runs ffprobe on one file. Blocking: call it from `spawn_blocking`.
pub fn probe(tools: &Tools, file: &Path) -> Result<Probe, ProbeError> {
    let mut cmd = tools.ffprobe_command().ok_or(ProbeError::Missing)?;
    let out = cmd
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .map_err(ProbeError::Spawn)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last_line = stderr.lines().last().unwrap_or("").trim();
    // ffprobe starts its message with the path, which may be a temp name.
    let prefix = format!("{}: ", file.display());
    let last_line = last_line
        .strip_prefix(&prefix)
        .unwrap_or(last_line)
        .to_string();
    if !out.status.success() {
        return Err(ProbeError::Unreadable(if last_line.is_empty() {
            format!("ffprobe exited with {}", out.status)
        } else {
            last_line
        }));
    }
    let raw: RawOutput = serde_json::from_slice(&out.stdout)
        .map_err(|e| ProbeError::Unreadable(format!("unexpected ffprobe output: {e}")))?;
    let mut probe = Probe::from_raw(raw);
    if probe.streams.is_empty() {
        return Err(ProbeError::Unreadable("it holds no audio or video".into()));
    }
    if probe.is_mp4_family() {
        probe.moov_first = super::mp4::summarize(file)
            .ok()
            .flatten()
            .map(|s| s.faststart);
    }
    if let Some(v) = probe
        .streams
        .iter_mut()
        .find(|s| s.kind == "video" && !s.attached_pic)
    {
        if v.format.field_order.is_none() && often_interlaced(&v.codec, &probe.format_name) {
            v.format.field_order = watch_fields(tools, file, v.index);
        }
    }
    Ok(probe)
}

/// Where the file's clock starts (seconds): a conversion starts its
/// output there, so a stream taken out of it is timed from there too.
pub fn start_time(tools: &Tools, file: &Path) -> Result<f64, ProbeError> {
    let mut cmd = tools.ffprobe_command().ok_or(ProbeError::Missing)?;
    let out = cmd
        .args(["-v", "error", "-show_entries", "format=start_time"])
        .args(["-of", "default=noprint_wrappers=1:nokey=1"])
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .map_err(ProbeError::Spawn)?;
    if !out.status.success() {
        return Err(ProbeError::Unreadable(format!(
            "ffprobe exited with {}",
            out.status
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0))
}

/// Codecs and containers whose video is usually interlaced, for which
/// ffprobe may not say (DV always says `unknown`).
fn often_interlaced(codec: &str, format: &str) -> bool {
    match codec {
        "dvvideo" | "mpeg2video" | "vc1" => true,
        "h264" => format.split(',').any(|f| f == "mpegts"),
        _ => false,
    }
}

/// Frames ffmpeg's `idet` looks at, at most: a few seconds.
const IDET_FRAMES: &str = "300";

/// The field order `idet` sees in the first frames of stream `index`
/// (`tt`, `bb` or `progressive`), when ffprobe did not say. It runs once
/// per version of the file: the answer is cached with the probe.
fn watch_fields(tools: &Tools, file: &Path, index: u32) -> Option<String> {
    let mut cmd = tools.ffmpeg_command(super::launch::Priority::Background)?;
    let out = cmd
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(file)
        .args([
            "-map",
            &format!("0:{index}"),
            "-vf",
            "idet",
            "-frames:v",
            IDET_FRAMES,
        ])
        .args(["-an", "-f", "null", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .ok()?;
    idet_verdict(&String::from_utf8_lossy(&out.stderr))
}

/// `tt`, `bb` or `progressive` from idet's "Multi frame detection" line.
fn idet_verdict(log: &str) -> Option<String> {
    let line = log.lines().find(|l| l.contains("Multi frame detection"))?;
    let count = |key: &str| -> u64 {
        line.split(key)
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let (tff, bff, progressive) = (count("TFF:"), count("BFF:"), count("Progressive:"));
    let verdict = if tff + bff <= progressive {
        "progressive"
    } else if tff >= bff {
        "tt"
    } else {
        "bb"
    };
    (tff + bff + progressive > 0).then(|| verdict.to_string())
}

impl Probe {
    fn from_raw(raw: RawOutput) -> Probe {
        let (duration, format_name, tags) = match raw.format {
            Some(f) => (
                f.duration.and_then(|d| d.parse::<f64>().ok()),
                f.format_name,
                f.tags,
            ),
            None => (None, String::new(), Default::default()),
        };
        // Tags as the file says them: only plain text of a sane length.
        let tag = |k: &str| {
            tags.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty() && v.chars().count() <= 200)
                .map(|v| v.chars().filter(|c| !c.is_control()).collect::<String>())
        };
        // When it was recorded, in whichever tag its container keeps it:
        // MP4 and MOV (`creation_time`, Apple's own), AVI (`ICRD`, which
        // ffprobe calls `date`), Matroska (`DATE_RECORDED`), ASF.
        let created = [
            "creation_time",
            "com.apple.quicktime.creationdate",
            "date_recorded",
            "date",
            "wm/encodingtime",
        ]
        .iter()
        .find_map(|k| tag(k));
        let title = tag("title");
        let streams = raw
            .streams
            .into_iter()
            .map(|s| Stream {
                format: s.format(),
                index: s.index,
                kind: s.codec_type,
                codec: s.codec_name,
                width: s.width,
                height: s.height,
                language: s
                    .tags
                    .get("language")
                    .filter(|l| !l.is_empty() && l.as_str() != "und")
                    .cloned(),
                title: s
                    .tags
                    .get("title")
                    .filter(|t| !t.trim().is_empty())
                    .cloned(),
                attached_pic: s.disposition.get("attached_pic") == Some(&1),
                default: s.disposition.get("default") == Some(&1),
                forced: s.disposition.get("forced") == Some(&1),
                channels: s.channels,
                duration: s
                    .duration
                    .and_then(|d| d.parse::<f64>().ok())
                    .or_else(|| super::ffmpeg::parse_time(s.tags.get("DURATION")?)),
            })
            .filter(|s| !s.kind.is_empty())
            .collect();
        Probe {
            duration,
            format_name,
            streams,
            moov_first: None,
            title,
            created,
        }
    }

    /// MP4, MOV, 3GP: one family of containers to ffprobe.
    pub fn is_mp4_family(&self) -> bool {
        self.format_name
            .split(',')
            .any(|f| f == "mp4" || f == "mov")
    }

    /// The first real video stream (cover art does not count).
    pub fn video(&self) -> Option<&Stream> {
        self.streams
            .iter()
            .find(|s| s.kind == "video" && !s.attached_pic)
    }

    /// Its audio tracks in file order (what `-map 0:a:N` counts).
    pub fn audio_tracks(&self) -> impl Iterator<Item = &Stream> {
        self.streams.iter().filter(|s| s.kind == "audio")
    }

    pub fn meta(&self) -> Meta {
        let video = self.video();
        let mut codecs: Vec<String> = Vec::new();
        for s in &self.streams {
            let shown = (s.kind == "video" && !s.attached_pic) || s.kind == "audio";
            if shown && !codecs.contains(&s.codec) {
                codecs.push(s.codec.clone());
            }
        }
        Meta {
            duration: self.duration,
            width: video.and_then(|v| v.width),
            height: video.and_then(|v| v.height),
            codecs,
            title: self.title.clone(),
            created: self.created.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idet_says_which_field_comes_first() {
        let line = |t: u32, b: u32, p: u32| {
            format!("[Parsed_idet_0 @ 0x1] Multi frame detection: TFF: {t} BFF: {b} Progressive: {p} Undetermined: 3")
        };
        assert_eq!(idet_verdict(&line(0, 48, 1)).as_deref(), Some("bb"));
        assert_eq!(idet_verdict(&line(60, 0, 2)).as_deref(), Some("tt"));
        assert_eq!(
            idet_verdict(&line(2, 1, 90)).as_deref(),
            Some("progressive")
        );
        assert_eq!(idet_verdict(&line(0, 0, 0)), None);
        assert_eq!(idet_verdict("no such line"), None);
        assert!(often_interlaced("dvvideo", "dv"));
        assert!(often_interlaced("h264", "mpegts"));
        assert!(!often_interlaced("h264", "matroska,webm"));
    }

    #[test]
    fn parses_ffprobe_json() {
        let json = r#"{"streams":[
            {"index":0,"codec_type":"video","codec_name":"h264","width":1280,"height":720},
            {"index":1,"codec_type":"audio","codec_name":"ac3","tags":{"language":"eng"}},
            {"index":2,"codec_type":"video","codec_name":"mjpeg","width":300,"height":300,"disposition":{"attached_pic":1}},
            {"index":3,"codec_type":"subtitle","codec_name":"subrip","tags":{"language":"und"}}],
            "format":{"duration":"5.013000","format_name":"matroska,webm"}}"#;
        let p = Probe::from_raw(serde_json::from_str(json).unwrap());
        let m = p.meta();
        assert_eq!(m.duration, Some(5.013));
        assert_eq!((m.width, m.height), (Some(1280), Some(720)));
        assert_eq!(m.codecs, vec!["h264", "ac3"]);
        assert_eq!(p.streams[1].language.as_deref(), Some("eng"));
        assert_eq!(p.streams[3].language, None);
    }

    #[test]
    fn reads_what_decides_playability() {
        let json = r#"{"streams":[
            {"index":0,"codec_type":"video","codec_name":"hevc","width":1920,"height":1080,
             "profile":"Main 10","level":150,"pix_fmt":"yuv420p10le","color_transfer":"arib-std-b67",
             "color_primaries":"bt2020","field_order":"progressive","avg_frame_rate":"30000/1001",
             "codec_tag_string":"hvc1","side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]},
            {"index":1,"codec_type":"video","codec_name":"mpeg2video","width":720,"height":576,
             "avg_frame_rate":"0/0","r_frame_rate":"25/1","codec_tag_string":"[0][0][0][0]","tags":{"rotate":"180"}}],
            "format":{"duration":"1.0","format_name":"mov,mp4,m4a,3gp,3g2,mj2"}}"#;
        let p = Probe::from_raw(serde_json::from_str(json).unwrap());
        let f = &p.streams[0].format;
        assert_eq!(f.profile.as_deref(), Some("Main 10"));
        assert_eq!(f.pix_fmt.as_deref(), Some("yuv420p10le"));
        assert_eq!(f.color_transfer.as_deref(), Some("arib-std-b67"));
        assert_eq!(f.rotation, -90);
        assert_eq!(f.codec_tag.as_deref(), Some("hvc1"));
        assert!((f.frame_rate.unwrap() - 29.97).abs() < 0.01);
        let g = &p.streams[1].format;
        assert_eq!(
            (g.rotation, g.frame_rate, g.codec_tag.as_deref()),
            (180, Some(25.0), None)
        );
        assert!(p.is_mp4_family());
        // What the cache holds reads back the same.
        let back: Probe = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back.streams[0].format, *f);
    }
}
