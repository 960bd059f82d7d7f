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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stream {
    pub index: u32,
    pub kind: String,
    pub codec: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub language: Option<String>,
    pub attached_pic: bool,
    pub channels: Option<u32>,
    /// Seconds, when the container says (MKV in a `DURATION` tag). A
    /// file's duration counts every stream, subtitles too.
    #[serde(default)]
    pub duration: Option<f64>,
}

/// The facts the library shows and caches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Meta {
    pub duration: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub codecs: Vec<String>,
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
    let probe = Probe::from_raw(raw);
    if probe.streams.is_empty() {
        return Err(ProbeError::Unreadable("it holds no audio or video".into()));
    }
    Ok(probe)
}

impl Probe {
    fn from_raw(raw: RawOutput) -> Probe {
        let (duration, format_name) = match raw.format {
            Some(f) => (
                f.duration.and_then(|d| d.parse::<f64>().ok()),
                f.format_name,
            ),
            None => (None, String::new()),
        };
        let streams = raw
            .streams
            .into_iter()
            .map(|s| Stream {
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
                attached_pic: s.disposition.get("attached_pic") == Some(&1),
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
        }
    }

    /// The first real video stream (cover art does not count).
    pub fn video(&self) -> Option<&Stream> {
        self.streams
            .iter()
            .find(|s| s.kind == "video" && !s.attached_pic)
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
