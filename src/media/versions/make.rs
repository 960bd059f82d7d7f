//! The one ffmpeg run that makes every version of a video that is due:
//! the video is decoded once and `split` into each size, each encoded to
//! its own MP4 (H.264 High 4.1, AAC stereo, the WebVTT files beside the
//! video inside as `mov_text`, faststart); the sound-only version copies
//! the first audio track (AAC already, in a TV version) into an M4A with
//! the title and the poster as its cover. Pure: the arguments only.

use std::path::{Path, PathBuf};

use super::{Spec, Version};
use crate::media::Encoder;

/// What the run reads beside the video (its input 0).
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// WebVTT files beside the video, with their language codes.
    pub subtitles: &'a [(PathBuf, Option<String>)],
    pub poster: Option<&'a Path>,
    /// The first audio track's codec, when there is sound.
    pub audio_codec: Option<&'a str>,
    /// The title people read, for the M4A's tag.
    pub title: &'a str,
    pub encoder: Encoder,
}

/// One file the run writes.
#[derive(Debug, Clone)]
pub enum Output {
    Video(Spec, PathBuf),
    Audio(PathBuf),
}

impl Output {
    pub fn version(&self) -> Version {
        match self {
            Output::Video(s, _) => s.version,
            Output::Audio(_) => Version::Audio,
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Output::Video(_, p) | Output::Audio(p) => p,
        }
    }
}

fn push(a: &mut Vec<String>, items: &[&str]) {
    a.extend(items.iter().map(|s| s.to_string()));
}

/// `(before the video's -i, after it)`: the extra inputs, the filter
/// graph and each output's options and path.
pub fn args(input: &Input<'_>, outputs: &[Output]) -> (Vec<String>, Vec<String>) {
    let before = input.encoder.input_args();
    let mut a: Vec<String> = Vec::new();
    for (vtt, _) in input.subtitles {
        push(&mut a, &["-i"]);
        a.push(vtt.to_string_lossy().into_owned());
    }
    let poster_input = input.subtitles.len() + 1;
    let wants_cover = outputs.iter().any(|o| matches!(o, Output::Audio(_)));
    let poster = input.poster.filter(|_| wants_cover);
    if let Some(p) = poster {
        push(&mut a, &["-i"]);
        a.push(p.to_string_lossy().into_owned());
    }
    let specs: Vec<&Spec> = outputs
        .iter()
        .filter_map(|o| match o {
            Output::Video(s, _) => Some(s),
            Output::Audio(_) => None,
        })
        .collect();
    if !specs.is_empty() {
        a.push("-filter_complex".into());
        a.push(graph(&specs, input.encoder));
    }
    let mut n = 0;
    for o in outputs {
        match o {
            Output::Video(spec, path) => {
                video_output(&mut a, input, spec, n);
                a.push(path.to_string_lossy().into_owned());
                n += 1;
            }
            Output::Audio(path) => {
                push(&mut a, &["-map", "0:a:0"]);
                if poster.is_some() {
                    let cover = format!("{poster_input}:v:0");
                    push(&mut a, &["-map", &cover, "-c:v", "mjpeg"]);
                    push(&mut a, &["-disposition:v:0", "attached_pic"]);
                }
                match input.audio_codec {
                    Some("aac") => push(&mut a, &["-c:a", "copy"]),
                    _ => push(&mut a, &["-c:a", "aac", "-ac", "2", "-b:a", "160k"]),
                }
                push(&mut a, &["-map_metadata", "-1", "-map_chapters", "-1"]);
                let title = format!("title={}", input.title);
                push(&mut a, &["-metadata", &title]);
                push(&mut a, &["-movflags", "+faststart", "-f", "ipod"]);
                a.push(path.to_string_lossy().into_owned());
            }
        }
    }
    (before, a)
}

/// Arguments after `-i <a runner's picture>` that complete it as a
/// version made here would be: the picture copied, the TV version `tv`'s
/// first audio as AAC stereo, the WebVTT files inside as `mov_text`.
pub fn complete_args(input: &Input<'_>, spec: &Spec, tv: &Path, out: &Path) -> Vec<String> {
    let mut a: Vec<String> = vec!["-i".into(), tv.to_string_lossy().into_owned()];
    for (vtt, _) in input.subtitles {
        push(&mut a, &["-i"]);
        a.push(vtt.to_string_lossy().into_owned());
    }
    push(&mut a, &["-map", "0:v:0"]);
    if input.audio_codec.is_some() {
        push(&mut a, &["-map", "1:a:0"]);
    }
    for i in 0..input.subtitles.len() {
        let sub = format!("{}:0", i + 2);
        push(&mut a, &["-map", &sub]);
    }
    let ab = spec.audio_bitrate.to_string();
    push(
        &mut a,
        &["-c:v", "copy", "-c:a", "aac", "-ac", "2", "-b:a", &ab],
    );
    subtitle_options(&mut a, input);
    push(&mut a, &["-map_metadata", "1", "-map_chapters", "-1"]);
    push(&mut a, &["-movflags", "+faststart", "-f", "mp4"]);
    a.push(out.to_string_lossy().into_owned());
    a
}

/// The filter graph: the picture scaled down in a cascade, largest
/// first (`[0:v:0]scale=1280:720,…,split=2[v0][n0];[n0]scale=854:480…[v1]`),
/// so each smaller size is scaled from the one before it, not from the
/// full picture again; `[v<i>]` is `specs[i]`'s picture.
fn graph(specs: &[&Spec], encoder: Encoder) -> String {
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(specs[i].width * specs[i].height));
    let mut g = String::new();
    let mut input = "[0:v:0]".to_string();
    for (k, &i) in order.iter().enumerate() {
        let s = specs[i];
        let mut f: Vec<String> = Vec::new();
        if let Some(fps) = s.fps {
            f.push(format!("fps={fps}"));
        }
        f.push(format!("scale={}:{}", s.width, s.height));
        f.push("setsar=1".into());
        f.push("format=yuv420p".into());
        let last = k + 1 == order.len();
        let out = match (encoder == Encoder::Vaapi, last) {
            (false, true) => format!("[v{i}]"),
            (false, false) => format!(",split=2[v{i}][n{k}]"),
            (true, true) => format!(",format=nv12,hwupload[v{i}]"),
            (true, false) => {
                format!(",split=2[t{k}][n{k}];[t{k}]format=nv12,hwupload[v{i}]")
            }
        };
        g.push_str(&input);
        g.push_str(&f.join(","));
        g.push_str(&out);
        if !last {
            g.push(';');
        }
        input = format!("[n{k}]");
    }
    g
}

fn video_output(a: &mut Vec<String>, input: &Input<'_>, spec: &Spec, n: usize) {
    let label = format!("[v{n}]");
    push(a, &["-map", &label]);
    if input.audio_codec.is_some() {
        push(a, &["-map", "0:a:0"]);
    }
    for i in 0..input.subtitles.len() {
        let sub = format!("{}:0", i + 1);
        push(a, &["-map", &sub]);
    }
    let (b, max, buf) = (
        spec.video_bitrate.to_string(),
        (spec.video_bitrate * 3 / 2).to_string(),
        (spec.video_bitrate * 2).to_string(),
    );
    match input.encoder {
        Encoder::X264 => {
            push(a, &["-c:v", "libx264", "-preset", "veryfast"]);
            push(a, &["-profile:v", "high", "-level:v", "4.1"]);
            push(a, &["-b:v", &b, "-maxrate", &max, "-bufsize", &buf]);
        }
        Encoder::V4l2m2m => {
            push(a, &["-c:v", "h264_v4l2m2m", "-b:v", &b]);
            push(a, &["-profile:v", "100", "-level:v", "41"]);
        }
        Encoder::Vaapi => {
            push(a, &["-c:v", "h264_vaapi", "-b:v", &b, "-maxrate", &max]);
            push(a, &["-profile:v", "100", "-level:v", "41"]);
        }
    }
    push(a, &["-g", &spec.gop.to_string()]);
    if input.encoder != Encoder::Vaapi {
        push(a, &["-pix_fmt", "yuv420p"]);
    }
    let ab = spec.audio_bitrate.to_string();
    push(a, &["-c:a", "aac", "-ac", "2", "-b:a", &ab]);
    subtitle_options(a, input);
    push(
        a,
        &[
            "-map_chapters",
            "-1",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
        ],
    );
}

/// The subtitles as `mov_text`, each tagged with its language.
fn subtitle_options(a: &mut Vec<String>, input: &Input<'_>) {
    if input.subtitles.is_empty() {
        return;
    }
    push(a, &["-c:s", "mov_text"]);
    for (i, (_, lang)) in input.subtitles.iter().enumerate() {
        // Only a code the table knows: a tag is the file's word.
        let code = lang
            .as_deref()
            .and_then(crate::format::iso639_2)
            .unwrap_or("und");
        let key = format!("-metadata:s:s:{i}");
        let value = format!("language={code}");
        push(a, &[&key, &value]);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{spec, Picture};
    use super::*;

    #[test]
    fn one_decode_writes_every_version_due() {
        let pic = Picture {
            width: 1920,
            height: 1080,
            fps: Some(25.0),
            bitrate: Some(10_000_000),
        };
        let subs = vec![(PathBuf::from("/m/Film.en.vtt"), Some("en".to_string()))];
        let input = Input {
            subtitles: &subs,
            poster: Some(Path::new("/state/thumbs/1.jpg")),
            audio_codec: Some("aac"),
            title: "Film (1999)",
            encoder: Encoder::X264,
        };
        let outputs = [
            Output::Video(spec(Version::P720, pic).unwrap(), "/m/.a".into()),
            Output::Video(spec(Version::P480, pic).unwrap(), "/m/.b".into()),
            Output::Audio("/m/.c".into()),
        ];
        let (before, after) = args(&input, &outputs);
        assert!(before.is_empty());
        let line = after.join(" ");
        assert!(
            line.contains("[0:v:0]scale=1280:720,setsar=1,format=yuv420p,split=2[v0][n0];[n0]scale=854:480,setsar=1,format=yuv420p[v1]"),
            "{line}"
        );
        // The poster is the third input, the subtitles' after the video.
        assert!(line.starts_with("-i /m/Film.en.vtt -i /state/thumbs/1.jpg"));
        assert!(line.contains("-map [v1] -map 0:a:0 -map 1:0"));
        assert!(line.contains("-c:s mov_text -metadata:s:s:0 language=eng"));
        assert!(line
            .contains("-map 0:a:0 -map 2:v:0 -c:v mjpeg -disposition:v:0 attached_pic -c:a copy"));
        assert!(line.contains("title=Film (1999)"));
        assert_eq!(after.iter().filter(|a| *a == "+faststart").count(), 3);
        assert_eq!(after.last().map(String::as_str), Some("/m/.c"));
    }
}
