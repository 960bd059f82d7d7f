//! What a version is made from and what it must be when it is checked:
//! media facts, read off ffprobe, for the job that makes one (on the Pi or
//! completed from a PC's picture).

use super::{Output, Picture};
use crate::media::Probe;

/// The picture a version is made from: the video as shown, its frame
/// rate, and its bitrate (its `size` over its length).
pub fn picture(probe: &Probe, size: u64) -> Option<Picture> {
    let v = probe.video()?;
    let (width, height) = crate::media::shown_size(v)?;
    Some(Picture {
        width,
        height,
        fps: v.format.frame_rate,
        bitrate: probe
            .duration
            .filter(|d| *d > 0.0)
            .map(|d| (size as f64 * 8.0 / d) as u64),
    })
}

/// What a version must be: the picture its spec says, H.264 at level 4.1
/// or under, 8-bit 4:2:0, AAC stereo, the video's length.
pub fn check(output: &Output, probe: &Probe, duration: Option<f64>) -> Result<(), String> {
    if let (Some(want), Some(got)) = (duration, probe.duration) {
        if (want - got).abs() > crate::media::DURATION_SLACK {
            return Err(format!("it lasts {got:.1} s of the video's {want:.1} s"));
        }
    }
    let audio = probe.audio_tracks().next();
    match output {
        Output::Audio(_) => {
            let a = audio.ok_or("it has no sound")?;
            if a.codec != "aac" {
                return Err(format!("its sound is {}, not AAC", a.codec));
            }
        }
        Output::Video(spec, _) => {
            let v = probe.video().ok_or("it has no picture")?;
            if v.codec != "h264" {
                return Err(format!("its picture is {}, not H.264", v.codec));
            }
            let shown = crate::media::shown_size(v);
            if shown != Some((spec.width, spec.height)) {
                return Err(format!(
                    "its picture is {shown:?}, not {}x{}",
                    spec.width, spec.height
                ));
            }
            if v.format.level.is_some_and(|l| l > 41) {
                return Err(format!("its level is {:?}, above 4.1", v.format.level));
            }
            if v.format.pix_fmt.as_deref().is_some_and(|f| f != "yuv420p") {
                return Err(format!("its pixels are {:?}", v.format.pix_fmt));
            }
            if let Some(a) = audio {
                if a.codec != "aac" || a.channels.is_some_and(|c| c > 2) {
                    return Err(format!("its sound is {} {:?}", a.codec, a.channels));
                }
            }
        }
    }
    Ok(())
}
