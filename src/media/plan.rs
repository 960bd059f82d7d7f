//! The remux plan: from what ffprobe saw, per stream, what the MP4 gets.
//! Pure logic, so every rule is a unit test.

use std::path::Path;

use super::{Probe, Stream};

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
    /// HEVC is tagged `hvc1`, which Apple and TV browsers require.
    pub tag_hvc1: bool,
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
const IMAGE_SUBS: &[&str] = &["hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub"];
/// Audio MP4 can carry beside the AAC track.
const KEEPABLE_AUDIO: &[&str] = &["ac3", "eac3"];

pub fn plan(probe: &Probe) -> Result<Plan, NeedsTranscode> {
    let video = probe
        .video()
        .ok_or_else(|| NeedsTranscode("there is no video stream to put in an MP4".into()))?;
    let tag_hvc1 = match video.codec.as_str() {
        "h264" => false,
        "hevc" => true,
        other => {
            return Err(NeedsTranscode(format!(
                "its video is {}, which TV browsers can't play from an MP4; only H.264 and HEVC are copied, and a Pi can't re-encode video",
                pretty_codec(other)
            )))
        }
    };
    let mut notes = Vec::new();
    let audio = probe
        .streams
        .iter()
        .filter(|s| s.kind == "audio")
        .flat_map(|s| audio_tracks(s, &mut notes))
        .collect();
    let subtitles = subtitle_tracks(probe, &mut notes);
    Ok(Plan {
        video: video.index,
        video_codec: video.codec.clone(),
        tag_hvc1,
        audio,
        subtitles,
        notes,
    })
}

/// AAC and MP3 are copied; anything else becomes AAC first, with the
/// original kept as a second track where MP4 allows it.
fn audio_tracks(s: &Stream, notes: &mut Vec<String>) -> Vec<AudioTrack> {
    let track = |action| AudioTrack {
        input: s.index,
        codec: s.codec.clone(),
        action,
    };
    match s.codec.as_str() {
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
/// image subtitles are skipped, and the plan says so.
fn subtitle_tracks(probe: &Probe, notes: &mut Vec<String>) -> Vec<SubtitleTrack> {
    let mut subtitles: Vec<SubtitleTrack> = Vec::new();
    for s in probe.streams.iter().filter(|s| s.kind == "subtitle") {
        if !TEXT_SUBS.contains(&s.codec.as_str()) {
            let why = if IMAGE_SUBS.contains(&s.codec.as_str()) {
                "image subtitles can't become WebVTT text"
            } else {
                "this subtitle format isn't supported"
            };
            notes.push(format!(
                "subtitle stream {} ({}) skipped: {why}",
                s.index, s.codec
            ));
            continue;
        }
        let base = s.language.clone();
        let taken = |sfx: &Option<String>| subtitles.iter().any(|t| &t.suffix == sfx);
        let mut suffix = base.clone();
        let mut n = 2;
        while taken(&suffix) {
            suffix = Some(match &base {
                Some(l) => format!("{l}.{n}"),
                None => n.to_string(),
            });
            n += 1;
        }
        subtitles.push(SubtitleTrack {
            input: s.index,
            codec: s.codec.clone(),
            suffix,
        });
    }
    subtitles
}

fn pretty_codec(c: &str) -> String {
    match c {
        "mpeg2video" => "MPEG-2".into(),
        "mpeg4" => "MPEG-4 Part 2 (DivX/Xvid)".into(),
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

impl Plan {
    /// One line per stream, for the job page.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![format!(
            "video stream {} ({}): copied{}",
            self.video,
            self.video_codec,
            if self.tag_hvc1 { ", tagged hvc1" } else { "" }
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
            streams.push(Stream {
                index: 0,
                attached_pic: false,
                ..v.clone()
            });
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
        }
    }

    /// `name.<suffix>.vtt` beside the output `name.mp4`.
    pub fn subtitle_name(output: &Path, suffix: &Option<String>) -> String {
        let stem = output
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("subtitles");
        match suffix {
            Some(s) => format!("{stem}.{s}.vtt"),
            None => format!("{stem}.vtt"),
        }
    }

    /// ffmpeg's arguments after the input: the MP4 to `mp4_out`, then each
    /// subtitle to its own WebVTT file (paths given in plan order).
    pub fn output_args(&self, mp4_out: &Path, subtitle_outs: &[std::path::PathBuf]) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "-map".into(),
            format!("0:{}", self.video),
            "-c:v".into(),
            "copy".into(),
        ];
        if self.tag_hvc1 {
            a.extend(["-tag:v".into(), "hvc1".into()]);
        }
        for (i, t) in self.audio.iter().enumerate() {
            a.extend(["-map".into(), format!("0:{}", t.input)]);
            match t.action {
                AudioAction::Copy => a.extend([format!("-c:a:{i}"), "copy".into()]),
                AudioAction::Aac(b) => a.extend([
                    format!("-c:a:{i}"),
                    "aac".into(),
                    format!("-b:a:{i}"),
                    b.to_string(),
                ]),
            }
            a.extend([
                format!("-disposition:a:{i}"),
                if i == 0 { "default" } else { "0" }.into(),
            ]);
        }
        a.extend([
            "-map_metadata".into(),
            "0".into(),
            "-map_chapters".into(),
            "0".into(),
            "-movflags".into(),
            "+faststart".into(),
            "-f".into(),
            "mp4".into(),
            mp4_out.to_string_lossy().into_owned(),
        ]);
        for (t, out) in self.subtitles.iter().zip(subtitle_outs) {
            a.extend([
                "-map".into(),
                format!("0:{}", t.input),
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
            attached_pic: false,
            channels: Some(2),
            duration: None,
        }
    }

    fn probe(streams: Vec<Stream>) -> Probe {
        Probe {
            duration: Some(10.0),
            format_name: "matroska,webm".into(),
            streams,
        }
    }

    #[test]
    fn h264_aac_is_copied() {
        let p = plan(&probe(vec![
            stream(0, "video", "h264", None),
            stream(1, "audio", "aac", None),
        ]))
        .unwrap();
        assert!(!p.tag_hvc1);
        assert_eq!(
            p.audio,
            vec![AudioTrack {
                input: 1,
                codec: "aac".into(),
                action: AudioAction::Copy
            }]
        );
    }

    #[test]
    fn ac3_becomes_aac_first_and_stays_second() {
        let p = plan(&probe(vec![
            stream(0, "video", "h264", None),
            stream(1, "audio", "ac3", None),
        ]))
        .unwrap();
        assert_eq!(p.audio[0].action, AudioAction::Aac(128_000));
        assert_eq!(p.audio[1].action, AudioAction::Copy);
        let args = p.output_args(Path::new("/o.mp4"), &[]).join(" ");
        assert!(
            args.contains(
                "-map 0:1 -c:a:0 aac -b:a:0 128000 -disposition:a:0 default -map 0:1 -c:a:1 copy"
            ),
            "{args}"
        );
        assert!(args.contains("-movflags +faststart"));
    }

    #[test]
    fn dts_and_opus_become_aac_only_with_a_note() {
        let p = plan(&probe(vec![
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
    fn hevc_is_tagged() {
        let p = plan(&probe(vec![stream(0, "video", "hevc", None)])).unwrap();
        assert!(p.tag_hvc1);
        assert!(p
            .output_args(Path::new("/o.mp4"), &[])
            .join(" ")
            .contains("-tag:v hvc1"));
    }

    #[test]
    fn mpeg2_and_vc1_need_a_transcode() {
        for c in ["mpeg2video", "vc1", "mpeg4"] {
            let e = plan(&probe(vec![stream(0, "video", c, None)])).unwrap_err();
            assert!(e.to_string().starts_with("needs transcode"), "{e}");
        }
        assert!(plan(&probe(vec![stream(0, "audio", "aac", None)])).is_err());
    }

    #[test]
    fn subtitles_text_to_vtt_images_skipped() {
        let p = plan(&probe(vec![
            stream(0, "video", "h264", None),
            stream(1, "subtitle", "subrip", Some("eng")),
            stream(2, "subtitle", "ass", Some("eng")),
            stream(3, "subtitle", "subrip", None),
            stream(4, "subtitle", "hdmv_pgs_subtitle", Some("fre")),
        ]))
        .unwrap();
        let sfx: Vec<_> = p.subtitles.iter().map(|s| s.suffix.clone()).collect();
        assert_eq!(sfx, vec![Some("eng".into()), Some("eng.2".into()), None]);
        assert!(p.notes[0].contains("image subtitles"));
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
        assert_eq!(plan(&p).unwrap().output_duration(&p), Some(5.02));
        // Streams that don't say: the container's.
        let p = probe(vec![stream(0, "video", "h264", None)]);
        assert_eq!(plan(&p).unwrap().output_duration(&p), Some(10.0));
    }
}
