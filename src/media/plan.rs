//! The conversion plan: from what ffprobe saw and what the TVs play, per
//! stream, what the MP4 gets: copied where it can be, converted where it
//! must be. Pure logic, so every rule is a unit test.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::encoder::{Encode, Encoder};
use super::target::{is_hdr, pretty_codec, shown_size, Target};
use super::{Probe, Stream};

/// A job's kind: a remux copies the video; a transcode encodes it again,
/// which on a Pi takes about as long as the video lasts, so it has a lane
/// of its own; a version (a smaller copy of a playable video) is made in
/// that lane too, after every transcode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conversion {
    #[default]
    Remux,
    Transcode,
    Version,
    /// Reads a video's picture subtitles into WebVTT text (OCR).
    Subtitles,
}

impl Conversion {
    pub fn name(self) -> &'static str {
        match self {
            Conversion::Remux => "remux",
            Conversion::Transcode => "transcode",
            Conversion::Version => "version",
            Conversion::Subtitles => "subtitles",
        }
    }

    /// The lane whose workers run it: remuxes, or the long work.
    pub fn lane(self) -> Conversion {
        match self {
            Conversion::Remux => Conversion::Remux,
            Conversion::Transcode | Conversion::Version | Conversion::Subtitles => {
                Conversion::Transcode
            }
        }
    }

    /// Whether it makes the video the TVs play (the rest wait for these).
    pub fn makes_tv_version(self) -> bool {
        matches!(self, Conversion::Remux | Conversion::Transcode)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum VideoAction {
    /// HEVC is tagged `hvc1`, which Apple and TV browsers require.
    Copy {
        tag_hvc1: bool,
    },
    Encode(Encode),
}

#[derive(Debug, Clone, PartialEq)]
pub enum AudioAction {
    Copy,
    /// Encode to AAC at this bitrate (bits/s).
    Aac(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AudioTrack {
    pub input: u32,
    pub codec: String,
    pub action: AudioAction,
    /// Its title, kept as the MP4 keeps one (the track's handler name).
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubtitleTrack {
    pub input: u32,
    pub codec: String,
    /// `name.<suffix>.vtt`: the language, numbered when it repeats.
    pub suffix: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub video: u32,
    pub video_codec: String,
    pub video_action: VideoAction,
    /// Output order: the first is always AAC or MP3.
    pub audio: Vec<AudioTrack>,
    pub subtitles: Vec<SubtitleTrack>,
    /// What was left out and why, for the job page.
    pub notes: Vec<String>,
}

/// Why a file can't be made playable by a remux alone.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("needs transcode: {0}")]
pub struct NeedsTranscode(pub String);

const TEXT_SUBS: &[&str] = &["subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"];
/// Audio MP4 can carry beside the AAC track.
const KEEPABLE_AUDIO: &[&str] = &["ac3", "eac3"];

/// What the MP4 gets for the TVs in `target`. With `transcode` off, video
/// they can't play is an error ("needs transcode") rather than encoded.
pub fn plan(probe: &Probe, target: &Target, transcode: bool) -> Result<Plan, NeedsTranscode> {
    let video = probe
        .video()
        .ok_or_else(|| NeedsTranscode("there is no video stream to put in an MP4".into()))?;
    let video_action = match target.video_problem(video) {
        None if matches!(video.codec.as_str(), "h264" | "hevc") => VideoAction::Copy {
            tag_hvc1: video.codec == "hevc",
        },
        None => VideoAction::Copy { tag_hvc1: false },
        Some(why) if transcode => VideoAction::Encode(encode_for(video, target, why)),
        Some(why) => {
            return Err(NeedsTranscode(format!(
                "{why}, and transcoding is off (--transcode off)"
            )))
        }
    };
    let mut notes = Vec::new();
    let audio = audio_in_order(probe)
        .into_iter()
        .flat_map(|s| audio_tracks(s, &mut notes))
        .collect();
    let subtitles = subtitle_tracks(probe, &mut notes);
    Ok(Plan {
        video: video.index,
        video_codec: video.codec.clone(),
        video_action,
        audio,
        subtitles,
        notes,
    })
}

/// Level limits (H.264 Table A-1): frame size and rate in macroblocks.
fn level_limits(level: u32) -> (u64, u64) {
    match level {
        51 => (36_864, 983_040),
        _ => (8_192, 245_760),
    }
}

/// The encode that brings `v` within `target`: smaller if it must be,
/// upright, SDR, progressive, at a rate the level allows.
fn encode_for(v: &Stream, target: &Target, why: String) -> Encode {
    let level = if target.uhd { 51 } else { 41 };
    let (max_long, max_short) = target.max_size();
    let size = shown_size(v).map(|(w, h)| {
        let scale = (max_long as f64 / w.max(h) as f64)
            .min(max_short as f64 / w.min(h) as f64)
            .min(1.0);
        let even = |n: u32| ((n as f64 * scale / 2.0).round() as u32).max(1) * 2;
        (even(w), even(h))
    });
    let (max_frame, max_rate) = level_limits(level);
    let macroblocks = size
        .map(|(w, h)| (w.div_ceil(16) as u64 * h.div_ceil(16) as u64).min(max_frame))
        .unwrap_or(max_frame);
    let source_fps = v.format.frame_rate.filter(|f| f.is_finite() && *f > 0.0);
    let mut fps = source_fps.unwrap_or(25.0);
    let interlaced = super::target::is_interlaced(v);
    let fields = interlaced && macroblocks as f64 * fps * 2.0 <= max_rate as f64;
    if fields {
        fps *= 2.0;
    }
    while macroblocks as f64 * fps > max_rate as f64 && fps > 24.0 {
        fps /= 2.0;
    }
    let fps_changed = source_fps.is_some_and(|s| (s - fps).abs() > 0.01);
    Encode {
        size: size.filter(|s| Some(*s) != shown_size(v)),
        tonemap: is_hdr(v).then(|| v.format.color_transfer.clone().unwrap_or_default()),
        deinterlace: interlaced,
        fields,
        fps: fps_changed.then_some(fps),
        gop: (fps * 2.0).round().max(1.0) as u32,
        level,
        why,
    }
}

/// The source's audio streams in the order the MP4 gets them: the first
/// one flagged default (the film's own language, where a commentary or a
/// dub comes first in the file), then the others in their order. (MKV
/// flags every track default when it says nothing, which keeps the order.)
fn audio_in_order(probe: &Probe) -> Vec<&Stream> {
    let mut audio: Vec<&Stream> = probe.streams.iter().filter(|s| s.kind == "audio").collect();
    if let Some(i) = audio.iter().position(|s| s.default) {
        let first = audio.remove(i);
        audio.insert(0, first);
    }
    audio
}

/// The channel layouts AAC signals with a standard configuration (1, 2
/// and 6): what an encode is brought to, so no TV meets a layout written
/// inside the stream (5.1(side) from AC-3), nor 7.1, which TVs and
/// browsers don't decode (downmixed to 5.1).
pub const AAC_LAYOUTS: &str = "aformat=channel_layouts=mono|stereo|5.1";

/// AAC and MP3 are copied (AAC of more than 6 channels is encoded again
/// as 5.1); anything else becomes AAC first, with the original kept as a
/// second track where MP4 allows it.
fn audio_tracks(s: &Stream, notes: &mut Vec<String>) -> Vec<AudioTrack> {
    let track = |action| AudioTrack {
        input: s.index,
        codec: s.codec.clone(),
        action,
        title: s.title.clone(),
    };
    let many = s.channels.is_some_and(|c| c > 6);
    match s.codec.as_str() {
        "aac" if many => {
            notes.push(format!(
                "audio stream {} (AAC, {} channels) was mixed down to 5.1, which TVs decode",
                s.index,
                s.channels.unwrap_or(0)
            ));
            vec![track(AudioAction::Aac(64_000 * 6))]
        }
        "aac" | "mp3" => vec![track(AudioAction::Copy)],
        other => {
            let channels = s.channels.unwrap_or(2).clamp(1, 6);
            let mut tracks = vec![track(AudioAction::Aac(64_000 * channels.max(2)))];
            if KEEPABLE_AUDIO.contains(&other) {
                tracks.push(track(AudioAction::Copy));
            } else {
                notes.push(format!(
                    "audio stream {} ({}) was converted to AAC; MP4 can't keep the original",
                    s.index,
                    pretty_codec(other)
                ));
            }
            tracks
        }
    }
}

/// Text subtitles become WebVTT files, one suffix each (`en`, `en.2`);
/// picture subtitles are left to a `subtitles` job (OCR), and the plan
/// says so.
fn subtitle_tracks(probe: &Probe, notes: &mut Vec<String>) -> Vec<SubtitleTrack> {
    let mut subtitles: Vec<SubtitleTrack> = Vec::new();
    for s in probe.streams.iter().filter(|s| s.kind == "subtitle") {
        if !TEXT_SUBS.contains(&s.codec.as_str()) {
            let why = if super::pictures::PictureKind::of(&s.codec).is_some() {
                "picture subtitles are read into WebVTT text by a subtitles job"
            } else {
                "this subtitle format isn't supported"
            };
            notes.push(format!(
                "subtitle stream {} ({}) skipped: {why}",
                s.index, s.codec
            ));
            continue;
        }
        let taken: Vec<Option<String>> = subtitles.iter().map(|t| t.suffix.clone()).collect();
        subtitles.push(SubtitleTrack {
            input: s.index,
            codec: s.codec.clone(),
            suffix: free_suffix(s, false, &taken),
        });
    }
    subtitles
}

/// A track's suffix: its language (made safe for a file name in the one
/// place that does it), `.forced` for a forced track, numbered when
/// `taken` has it (`en.2`).
fn free_suffix(s: &Stream, forced: bool, taken: &[Option<String>]) -> Option<String> {
    let lang = s
        .language
        .as_deref()
        .map(|l| super::tags::name_part(l, "sub", s.index));
    let base = match (lang, forced) {
        (Some(l), true) => Some(format!("{l}.forced")),
        (None, true) => Some("forced".to_string()),
        (lang, false) => lang,
    };
    let mut suffix = base.clone();
    let mut n = 2;
    while taken.contains(&suffix) {
        suffix = Some(match &base {
            Some(l) => format!("{l}.{n}"),
            None => n.to_string(),
        });
        n += 1;
    }
    suffix
}

/// A picture subtitle track (Blu-ray, DVD or DVB), read by OCR into
/// `name.<suffix>.vtt`.
#[derive(Debug, Clone, PartialEq)]
pub struct PictureTrack {
    pub input: u32,
    pub codec: String,
    pub language: Option<String>,
    /// Only the lines not in the film's own language (signs, a foreign
    /// scene): a track of its own, named `.forced`.
    pub forced: bool,
    pub suffix: Option<String>,
}

/// The picture subtitle tracks of a file, named after its text tracks
/// (which keep the names they always had).
pub fn picture_tracks(probe: &Probe) -> Vec<PictureTrack> {
    let mut taken: Vec<Option<String>> = subtitle_tracks(probe, &mut Vec::new())
        .into_iter()
        .map(|t| t.suffix)
        .collect();
    let mut out = Vec::new();
    for s in probe.streams.iter().filter(|s| s.kind == "subtitle") {
        if super::pictures::PictureKind::of(&s.codec).is_none() {
            continue;
        }
        let forced = s.forced
            || s.title
                .as_deref()
                .is_some_and(|t| t.to_lowercase().contains("forced"));
        let suffix = free_suffix(s, forced, &taken);
        taken.push(suffix.clone());
        out.push(PictureTrack {
            input: s.index,
            codec: s.codec.clone(),
            language: s.language.clone(),
            forced,
            suffix,
        });
    }
    out
}

impl Plan {
    /// A remux when the video is copied, else a transcode.
    pub fn conversion(&self) -> Conversion {
        match self.video_action {
            VideoAction::Copy { .. } => Conversion::Remux,
            VideoAction::Encode(_) => Conversion::Transcode,
        }
    }

    /// One line per stream, for the job page.
    pub fn describe(&self, encoder: Encoder) -> Vec<String> {
        let video = match &self.video_action {
            VideoAction::Copy { tag_hvc1 } => {
                format!("copied{}", if *tag_hvc1 { ", tagged hvc1" } else { "" })
            }
            VideoAction::Encode(e) => {
                let mut s = format!(
                    "encoded to H.264 High {}.{} with {}",
                    e.level / 10,
                    e.level % 10,
                    encoder.name()
                );
                if let Some((w, h)) = e.size {
                    s.push_str(&format!(", scaled to {w}×{h}"));
                }
                if e.tonemap.is_some() {
                    s.push_str(", HDR tone-mapped to SDR");
                }
                if e.deinterlace {
                    s.push_str(", deinterlaced");
                }
                if let Some(fps) = e.fps {
                    s.push_str(&format!(", {fps:.0} frames/s"));
                }
                format!("{s} ({})", e.why)
            }
        };
        let mut out = vec![format!(
            "video stream {} ({}): {video}",
            self.video, self.video_codec
        )];
        for (i, a) in self.audio.iter().enumerate() {
            out.push(match a.action {
                AudioAction::Copy => format!(
                    "audio track {} from stream {} ({}): copied",
                    i + 1,
                    a.input,
                    a.codec
                ),
                AudioAction::Aac(b) => format!(
                    "audio track {} from stream {} ({}): encoded to AAC {} kb/s",
                    i + 1,
                    a.input,
                    a.codec,
                    b / 1000
                ),
            });
        }
        for s in &self.subtitles {
            out.push(format!(
                "subtitle stream {} ({}): WebVTT file .{}vtt",
                s.input,
                s.codec,
                s.suffix
                    .as_ref()
                    .map(|x| format!("{x}."))
                    .unwrap_or_default()
            ));
        }
        out.extend(self.notes.iter().cloned());
        out
    }

    /// What the MP4 holds, from the source's streams and the plan, so the
    /// library needs no second ffprobe run.
    /// How long the MP4 should be: the longest of the streams that go
    /// into it (not the container's duration, which counts subtitles that
    /// end after the video), or the container's when streams don't say.
    pub fn output_duration(&self, source: &Probe) -> Option<f64> {
        let mapped = std::iter::once(self.video).chain(self.audio.iter().map(|a| a.input));
        mapped
            .filter_map(|i| source.streams.iter().find(|s| s.index == i)?.duration)
            .reduce(f64::max)
            .or(source.duration)
    }

    pub fn output_probe(&self, source: &Probe, duration: f64) -> Probe {
        let by_index = |i: u32| source.streams.iter().find(|s| s.index == i);
        let mut streams = Vec::new();
        if let Some(v) = by_index(self.video) {
            let mut out = Stream {
                index: 0,
                attached_pic: false,
                ..v.clone()
            };
            if let VideoAction::Encode(e) = &self.video_action {
                let (w, h) = e.size.or_else(|| shown_size(v)).unwrap_or((0, 0));
                out.codec = "h264".into();
                out.width = Some(w).filter(|w| *w > 0);
                out.height = Some(h).filter(|h| *h > 0);
                out.format = super::probe::Format {
                    profile: Some("High".into()),
                    level: Some(e.level as i32),
                    pix_fmt: Some("yuv420p".into()),
                    frame_rate: e.fps.or(v.format.frame_rate),
                    ..Default::default()
                };
            }
            streams.push(out);
        }
        for a in &self.audio {
            if let Some(s) = by_index(a.input) {
                let codec = match a.action {
                    AudioAction::Copy => s.codec.clone(),
                    AudioAction::Aac(_) => "aac".into(),
                };
                streams.push(Stream {
                    index: streams.len() as u32,
                    codec,
                    ..s.clone()
                });
            }
        }
        Probe {
            duration: Some(duration),
            format_name: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            streams,
            moov_first: Some(true),
            title: source.title.clone(),
            created: source.created.clone(),
        }
    }

    /// Whether the MP4 and its WebVTT files keep every stream of the
    /// source without loss: the video copied, each audio stream copied
    /// (an AAC version beside it is extra), each subtitle stream written
    /// out. Only then may `--delete-originals` remove the source. (Cover
    /// pictures, fonts and data streams are not counted.)
    pub fn keeps_every_stream(&self, source: &Probe) -> bool {
        let copied = |i: u32| {
            self.audio
                .iter()
                .any(|a| a.input == i && a.action == AudioAction::Copy)
        };
        matches!(self.video_action, VideoAction::Copy { .. })
            && source.streams.iter().all(|s| match s.kind.as_str() {
                "video" if s.attached_pic => true,
                "video" => s.index == self.video,
                "audio" => copied(s.index),
                "subtitle" => self.subtitles.iter().any(|t| t.input == s.index),
                _ => true,
            })
    }

    /// What the MP4 must hold when ffprobe reads it back: the video's
    /// codec, then each audio track's, in order.
    pub fn promised_codecs(&self, source: &Probe) -> Vec<String> {
        let codec_of = |i: u32| {
            source
                .streams
                .iter()
                .find(|s| s.index == i)
                .map(|s| s.codec.clone())
                .unwrap_or_default()
        };
        let video = match &self.video_action {
            VideoAction::Copy { .. } => codec_of(self.video),
            VideoAction::Encode(_) => "h264".into(),
        };
        std::iter::once(video)
            .chain(self.audio.iter().map(|a| match a.action {
                AudioAction::Copy => codec_of(a.input),
                AudioAction::Aac(_) => "aac".into(),
            }))
            .collect()
    }

    /// `name.<suffix>.vtt` beside the output `name.mp4`.
    pub fn subtitle_name(output: &Path, suffix: &Option<String>) -> String {
        let stem = output
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("subtitles");
        super::made::subtitles(stem, suffix.as_deref())
    }

    /// ffmpeg's options before the input (a hardware device).
    pub fn input_args(&self, encoder: Encoder) -> Vec<String> {
        match self.video_action {
            VideoAction::Encode(_) => encoder.input_args(),
            VideoAction::Copy { .. } => Vec::new(),
        }
    }

    /// ffmpeg's arguments after the input: the MP4 to `mp4_out`, then each
    /// subtitle to its own WebVTT file (paths given in plan order).
    pub fn output_args(
        &self,
        mp4_out: &Path,
        subtitle_outs: &[std::path::PathBuf],
        encoder: Encoder,
    ) -> Vec<String> {
        let mut a: Vec<String> = vec!["-map".into(), format!("0:{}", self.video)];
        match &self.video_action {
            VideoAction::Copy { tag_hvc1 } => {
                a.extend(["-c:v".into(), "copy".into()]);
                if *tag_hvc1 {
                    a.extend(["-tag:v".into(), "hvc1".into()]);
                }
            }
            VideoAction::Encode(e) => a.extend(encoder.output_args(e)),
        }
        a.extend(self.rest_args(0, mp4_out, subtitle_outs));
        a
    }

    /// The arguments that complete a runner's video (input 0, copied) with
    /// the source's (input 1) audio and subtitles as this plan has them.
    pub fn combine_args(
        &self,
        mp4_out: &Path,
        subtitle_outs: &[std::path::PathBuf],
    ) -> Vec<String> {
        let mut a: Vec<String> = ["-map", "0:v:0", "-c:v", "copy"].map(String::from).into();
        a.extend(self.rest_args(1, mp4_out, subtitle_outs));
        a
    }

    /// Audio, metadata, the MP4 and its subtitle files, from input `from`.
    fn rest_args(
        &self,
        from: u32,
        mp4_out: &Path,
        subtitle_outs: &[std::path::PathBuf],
    ) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        for (i, t) in self.audio.iter().enumerate() {
            a.extend(["-map".into(), format!("{from}:{}", t.input)]);
            match t.action {
                AudioAction::Copy => a.extend([format!("-c:a:{i}"), "copy".into()]),
                AudioAction::Aac(b) => a.extend([
                    format!("-c:a:{i}"),
                    "aac".into(),
                    format!("-b:a:{i}"),
                    b.to_string(),
                    format!("-filter:a:{i}"),
                    AAC_LAYOUTS.into(),
                ]),
            }
            a.extend([
                format!("-disposition:a:{i}"),
                if i == 0 { "default" } else { "0" }.into(),
            ]);
            if let Some(title) = &t.title {
                // MP4 names a track by its handler; ffmpeg passes it as is.
                a.extend([
                    format!("-metadata:s:a:{i}"),
                    format!("handler_name={title}"),
                ]);
            }
        }
        a.extend([
            "-map_metadata".into(),
            from.to_string(),
            "-map_chapters".into(),
            from.to_string(),
            "-movflags".into(),
            "+faststart".into(),
            "-f".into(),
            "mp4".into(),
            mp4_out.to_string_lossy().into_owned(),
        ]);
        for (t, out) in self.subtitles.iter().zip(subtitle_outs) {
            a.extend([
                "-map".into(),
                format!("{from}:{}", t.input),
                "-c:s".into(),
                "webvtt".into(),
                "-f".into(),
                "webvtt".into(),
                out.to_string_lossy().into_owned(),
            ]);
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(index: u32, kind: &str, codec: &str, lang: Option<&str>) -> Stream {
        Stream {
            index,
            kind: kind.into(),
            codec: codec.into(),
            width: None,
            height: None,
            language: lang.map(str::to_string),
            title: None,
            attached_pic: false,
            default: false,
            forced: false,
            channels: Some(2),
            duration: None,
            format: Default::default(),
        }
    }

    fn baseline(p: &Probe) -> Result<Plan, NeedsTranscode> {
        plan(p, &Target::default(), true)
    }

    fn probe(streams: Vec<Stream>) -> Probe {
        Probe {
            duration: Some(10.0),
            format_name: "matroska,webm".into(),
            streams,
            moov_first: None,
            title: None,
            created: None,
        }
    }

    #[test]
    fn only_a_plan_that_copies_every_stream_keeps_every_stream() {
        let copy = probe(vec![
            stream(0, "video", "h264", None),
            stream(1, "audio", "ac3", Some("eng")),
            stream(2, "subtitle", "subrip", Some("eng")),
        ]);
        let p = baseline(&copy).unwrap();
        assert!(p.keeps_every_stream(&copy), "{p:?}");
        assert_eq!(p.promised_codecs(&copy), ["h264", "aac", "ac3"]);
        // DTS can only become AAC; a picture subtitle is skipped; HEVC for
        // an H.264 TV is transcoded: each loses something.
        for lossy in [
            vec![
                stream(0, "video", "h264", None),
                stream(1, "audio", "dts", None),
            ],
            vec![
                stream(0, "video", "h264", None),
                stream(1, "audio", "aac", None),
                stream(2, "subtitle", "hdmv_pgs_subtitle", None),
            ],
            vec![
                stream(0, "video", "hevc", None),
                stream(1, "audio", "aac", None),
            ],
        ] {
            let pr = probe(lossy);
            let p = baseline(&pr).unwrap();
            assert!(!p.keeps_every_stream(&pr), "{pr:?}");
        }
    }

    #[test]
    fn h264_aac_is_copied() {
        let p = baseline(&probe(vec![
            stream(0, "video", "h264", None),
            stream(1, "audio", "aac", None),
        ]))
        .unwrap();
        assert_eq!(p.video_action, VideoAction::Copy { tag_hvc1: false });
        assert_eq!(p.conversion(), Conversion::Remux);
        assert_eq!(
            p.audio,
            vec![AudioTrack {
                input: 1,
                codec: "aac".into(),
                action: AudioAction::Copy,
                title: None,
            }]
        );
    }

    #[test]
    fn the_default_track_goes_first_and_more_than_six_channels_become_5_1() {
        let mut commentary = stream(1, "audio", "aac", Some("eng"));
        commentary.default = false;
        let mut film = stream(2, "audio", "ac3", Some("fra"));
        film.default = true;
        let mut wide = stream(3, "audio", "aac", Some("deu"));
        wide.channels = Some(8);
        let p = baseline(&probe(vec![
            stream(0, "video", "h264", None),
            commentary,
            film,
            wide,
        ]))
        .unwrap();
        let order: Vec<(u32, &AudioAction)> =
            p.audio.iter().map(|a| (a.input, &a.action)).collect();
        assert_eq!(
            order,
            [
                (2, &AudioAction::Aac(128_000)),
                (2, &AudioAction::Copy),
                (1, &AudioAction::Copy),
                (3, &AudioAction::Aac(384_000)),
            ]
        );
        assert!(p.notes.iter().any(|n| n.contains("mixed down to 5.1")));
        // Every track flagged default (MKV's default): the file's order.
        let mut a = stream(1, "audio", "aac", None);
        a.default = true;
        let mut b = stream(2, "audio", "aac", None);
        b.default = true;
        let p = baseline(&probe(vec![stream(0, "video", "h264", None), a, b])).unwrap();
        assert_eq!(p.audio[0].input, 1);
    }

    #[test]
    fn interlaced_video_is_deinterlaced_at_the_field_rate_the_level_allows() {
        // DV PAL: ffprobe knows no field order; 50 fields become 50 frames.
        let mut dv = stream(0, "video", "dvvideo", None);
        (dv.width, dv.height) = (Some(720), Some(576));
        dv.format.frame_rate = Some(25.0);
        let e = encode_of(dv);
        assert!(e.deinterlace && e.fields);
        assert!(e.filters().starts_with("yadif=1,fps=50"), "{}", e.filters());
        assert_eq!(e.gop, 100);
        // 1080i25 H.264 from a DVB recording: not remuxed; at 1080 lines
        // level 4.1 allows 25 frames, so one per frame.
        let mut tv = stream(0, "video", "h264", None);
        (tv.width, tv.height) = (Some(1920), Some(1080));
        tv.format.frame_rate = Some(25.0);
        tv.format.field_order = Some("tt".into());
        tv.format.profile = Some("High".into());
        tv.format.pix_fmt = Some("yuv420p".into());
        let p = baseline(&probe(vec![tv.clone(), stream(1, "audio", "aac", None)])).unwrap();
        let VideoAction::Encode(e) = &p.video_action else {
            panic!("interlaced H.264 is remuxed: {p:?}");
        };
        assert!(e.deinterlace && !e.fields && e.filters().starts_with("yadif,"));
        // A household whose TVs deinterlace: remuxed as it is.
        let tvs = Target::parse("h264,interlaced").unwrap();
        let p = plan(
            &probe(vec![tv, stream(1, "audio", "aac", None)]),
            &tvs,
            true,
        )
        .unwrap();
        assert!(matches!(p.video_action, VideoAction::Copy { .. }));
    }

    #[test]
    fn ac3_becomes_aac_first_and_stays_second() {
        let p = baseline(&probe(vec![
            stream(0, "video", "h264", None),
            stream(1, "audio", "ac3", None),
        ]))
        .unwrap();
        assert_eq!(p.audio[0].action, AudioAction::Aac(128_000));
        assert_eq!(p.audio[1].action, AudioAction::Copy);
        let args = p
            .output_args(Path::new("/o.mp4"), &[], Encoder::X264)
            .join(" ");
        assert!(
            args.contains(
                "-map 0:1 -c:a:0 aac -b:a:0 128000 -filter:a:0 aformat=channel_layouts=mono|stereo|5.1 -disposition:a:0 default -map 0:1 -c:a:1 copy"
            ),
            "{args}"
        );
        assert!(args.contains("-movflags +faststart"));
    }

    #[test]
    fn dts_and_opus_become_aac_only_with_a_note() {
        let p = baseline(&probe(vec![
            stream(0, "video", "h264", None),
            stream(1, "audio", "dts", None),
            stream(2, "audio", "opus", None),
        ]))
        .unwrap();
        assert_eq!(p.audio.len(), 2);
        assert!(p
            .audio
            .iter()
            .all(|a| matches!(a.action, AudioAction::Aac(_))));
        assert_eq!(p.notes.len(), 2);
    }

    #[test]
    fn hevc_is_tagged_for_hevc_tvs() {
        let hevc = probe(vec![stream(0, "video", "hevc", None)]);
        let p = plan(&hevc, &Target::parse("hevc").unwrap(), true).unwrap();
        assert_eq!(p.video_action, VideoAction::Copy { tag_hvc1: true });
        assert!(p
            .output_args(Path::new("/o.mp4"), &[], Encoder::X264)
            .join(" ")
            .contains("-tag:v hvc1"));
    }

    #[test]
    fn what_tvs_cant_play_is_transcoded_or_with_transcode_off_marked() {
        for c in ["mpeg2video", "vc1", "mpeg4", "hevc", "wmv3"] {
            let p = probe(vec![stream(0, "video", c, None)]);
            assert_eq!(baseline(&p).unwrap().conversion(), Conversion::Transcode);
            let e = plan(&p, &Target::default(), false).unwrap_err();
            assert!(e.to_string().starts_with("needs transcode"), "{e}");
            assert!(e.to_string().contains("--transcode off"), "{e}");
        }
        assert!(baseline(&probe(vec![stream(0, "audio", "aac", None)])).is_err());
    }

    fn encode_of(v: Stream) -> Encode {
        match baseline(&probe(vec![v])).unwrap().video_action {
            VideoAction::Encode(e) => e,
            other => panic!("copied: {other:?}"),
        }
    }

    #[test]
    fn a_4k_hdr_portrait_clip_becomes_1080p_sdr_portrait() {
        let mut v = stream(0, "video", "hevc", None);
        (v.width, v.height) = (Some(3840), Some(2160));
        v.format.rotation = 90;
        v.format.pix_fmt = Some("yuv420p10le".into());
        v.format.color_transfer = Some("arib-std-b67".into());
        v.format.frame_rate = Some(30.0);
        let e = encode_of(v);
        assert_eq!(e.size, Some((1080, 1920)));
        assert_eq!(e.gop, 60);
        assert_eq!(e.fps, None);
        let f = e.filters();
        assert!(
            f.starts_with("scale=1080:1920,zscale=tin=arib-std-b67"),
            "{f}"
        );
        assert!(f.contains("tonemap=tonemap=hable"), "{f}");
        assert!(f.ends_with("format=yuv420p"), "{f}");
        let args = Encoder::X264.output_args(&e).join(" ");
        assert!(
            args.contains("-c:v libx264 -preset veryfast -crf 21 -profile:v high -level:v 4.1"),
            "{args}"
        );
        assert!(args.contains("-color_trc bt709"), "{args}");
    }

    #[test]
    fn fast_1080p_halves_its_rate_interlaced_is_deinterlaced() {
        let mut v = stream(0, "video", "mpeg2video", None);
        (v.width, v.height) = (Some(1920), Some(1080));
        v.format.frame_rate = Some(59.94);
        v.format.field_order = Some("tt".into());
        let e = encode_of(v);
        assert_eq!(e.size, None);
        assert!((e.fps.unwrap() - 29.97).abs() < 0.01);
        assert!(e.deinterlace);
        assert!(
            e.filters().starts_with("yadif,fps=29.97"),
            "{}",
            e.filters()
        );
        // 720p60 fits level 4.1 as it is.
        let mut v = stream(0, "video", "mpeg2video", None);
        (v.width, v.height) = (Some(1280), Some(720));
        v.format.frame_rate = Some(60.0);
        assert_eq!(encode_of(v).fps, None);
    }

    #[test]
    fn hi10p_is_transcoded_and_its_audio_plan_stays() {
        let mut v = stream(0, "video", "h264", None);
        v.format.profile = Some("High 10".into());
        v.format.pix_fmt = Some("yuv420p10le".into());
        let p = baseline(&probe(vec![v, stream(1, "audio", "ac3", None)])).unwrap();
        assert_eq!(p.conversion(), Conversion::Transcode);
        assert_eq!(p.audio[0].action, AudioAction::Aac(128_000));
        let d = p.describe(Encoder::V4l2m2m).join("\n");
        assert!(
            d.contains("encoded to H.264 High 4.1 with h264_v4l2m2m"),
            "{d}"
        );
        assert!(d.contains("High 10"), "{d}");
    }

    #[test]
    fn subtitles_text_to_vtt_images_skipped() {
        let p = baseline(&probe(vec![
            stream(0, "video", "h264", None),
            stream(1, "subtitle", "subrip", Some("eng")),
            stream(2, "subtitle", "ass", Some("eng")),
            stream(3, "subtitle", "subrip", None),
            stream(4, "subtitle", "hdmv_pgs_subtitle", Some("fre")),
        ]))
        .unwrap();
        let sfx: Vec<_> = p.subtitles.iter().map(|s| s.suffix.clone()).collect();
        assert_eq!(sfx, vec![Some("eng".into()), Some("eng.2".into()), None]);
        assert!(p.notes[0].contains("picture subtitles"), "{:?}", p.notes);
        // The picture track is named after the text ones; a forced one
        // is a track of its own.
        let mut forced = stream(5, "subtitle", "dvd_subtitle", Some("eng"));
        forced.forced = true;
        let pictures = picture_tracks(&probe(vec![
            stream(0, "video", "h264", None),
            stream(1, "subtitle", "subrip", Some("eng")),
            stream(2, "subtitle", "hdmv_pgs_subtitle", Some("eng")),
            stream(3, "subtitle", "dvb_subtitle", Some("x/../../etc")),
            stream(4, "subtitle", "xsub", Some("eng")),
            forced,
        ]));
        let sfx: Vec<_> = pictures.iter().map(|t| t.suffix.as_deref()).collect();
        assert_eq!(sfx, [Some("eng.2"), Some("sub3"), Some("eng.forced")]);
        assert!(pictures[2].forced && !pictures[0].forced);
        assert_eq!(
            Plan::subtitle_name(Path::new("/a/film.mp4"), &Some("eng".into())),
            "film.eng.vtt"
        );
        assert_eq!(
            Plan::subtitle_name(Path::new("/a/film.mp4"), &None),
            "film.vtt"
        );
    }

    #[test]
    fn the_output_lasts_as_long_as_its_video_and_audio_not_the_subtitles() {
        let timed = |mut s: Stream, d: Option<f64>| {
            s.duration = d;
            s
        };
        let mut p = probe(vec![
            timed(stream(0, "video", "h264", None), Some(5.0)),
            timed(stream(1, "audio", "ac3", None), Some(5.02)),
            timed(stream(2, "subtitle", "subrip", None), Some(8.0)),
        ]);
        p.duration = Some(8.0);
        assert_eq!(baseline(&p).unwrap().output_duration(&p), Some(5.02));
        // Streams that don't say: the container's.
        let p = probe(vec![stream(0, "video", "h264", None)]);
        assert_eq!(baseline(&p).unwrap().output_duration(&p), Some(10.0));
    }
}
