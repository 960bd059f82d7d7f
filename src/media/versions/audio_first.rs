//! An MP4 with another of its audio tracks first. Browsers other than
//! Safari play only an MP4's first audio track, so a viewer's language
//! choice plays `name.mp4.audio-2`: a remux made on demand (seconds: every
//! stream is copied), kept beside its video as a companion that moves and
//! goes to the trash with it. Not a video extension, so never listed.

use std::path::{Path, PathBuf};

use crate::fsutil::{sync_dir, sync_file, temp_path_for, TempFile};
use crate::media::ffmpeg::{self, Control, Outcome, Run};
use crate::media::launch::Priority;
use crate::media::Tools;

/// The companion's name: the video's file name, then `.audio-<track>`
/// (the track's place among the video's audio tracks, 0 first).
pub fn name_for(video_name: &str, track: usize) -> String {
    format!("{video_name}.audio-{track}")
}

/// Whether `name` is such a companion, and of which video and track.
pub(super) fn parse(name: &str) -> Option<(&str, usize)> {
    let (video, n) = name.rsplit_once(".audio-")?;
    let track = n
        .parse()
        .ok()
        .filter(|_| n.bytes().all(|b| b.is_ascii_digit()))?;
    (!video.is_empty()).then_some((video, track))
}

/// Why a version was not made.
#[derive(Debug)]
pub enum NotMade {
    /// The disk would keep less than its reserve: it needs about this
    /// many bytes (a copy of the video).
    NoRoom { need: u64 },
    /// ffmpeg or the disk failed, in a sentence.
    Failed(String),
}

/// One remux at a time: two requests for one version (a player's range
/// requests) make it once, and a Pi's disk does one copy at a time.
static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The version of `video` (which has `tracks` audio tracks) with audio
/// track `track` first, made now unless it is there, and only while the
/// disk keeps `reserve` bytes free beside it. Blocking.
pub fn make(
    tools: &Tools,
    video: &Path,
    track: usize,
    tracks: usize,
    reserve: u64,
) -> Result<PathBuf, NotMade> {
    let failed = |why: &str| NotMade::Failed(why.to_string());
    if track == 0 || track >= tracks {
        return Err(NotMade::Failed(format!(
            "it has no audio track {track} to put first"
        )));
    }
    let name = video
        .file_name()
        .map(|n| name_for(&n.to_string_lossy(), track))
        .ok_or_else(|| failed("the video has no file name"))?;
    let target = video.with_file_name(name);
    let _one = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    // Made after the video was last written, or the video changed since.
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if target.is_file() && modified(&target) >= modified(video) {
        return Ok(target);
    }
    let need = std::fs::metadata(video).map(|m| m.len()).unwrap_or(0);
    let dir = video.parent().unwrap_or(Path::new("."));
    if crate::fsutil::free_space(dir).is_some_and(|free| free < need.saturating_add(reserve)) {
        return Err(NotMade::NoRoom { need });
    }
    let tmp = TempFile::new(temp_path_for(&target, "audio"));
    let mut args: Vec<String> = vec!["-map".into(), "0:v?".into()];
    let order = std::iter::once(track).chain((0..tracks).filter(|t| *t != track));
    for t in order {
        args.extend(["-map".into(), format!("0:a:{t}")]);
    }
    args.extend(
        ["-c", "copy", "-map_metadata", "0", "-disposition:a", "0"]
            .iter()
            .map(|s| s.to_string()),
    );
    args.extend(["-disposition:a:0".into(), "default".into()]);
    args.extend([
        "-movflags".into(),
        "+faststart".into(),
        "-f".into(),
        "mp4".into(),
    ]);
    args.push(tmp.path().to_string_lossy().into_owned());
    let run = Run {
        input_args: &[],
        input: video,
        output_args: &args,
        duration: None,
        priority: Priority::Background,
    };
    match ffmpeg::run(tools, run, &Control::default(), |_| {}) {
        Outcome::Done => {}
        Outcome::NoSpace { .. } => return Err(NotMade::NoRoom { need }),
        Outcome::Failed { why, .. } => return Err(NotMade::Failed(why.sentence())),
        Outcome::Cancelled => return Err(failed("it was stopped")),
    }
    let io = |e: std::io::Error| NotMade::Failed(e.to_string());
    sync_file(tmp.path()).map_err(io)?;
    std::fs::rename(tmp.path(), &target).map_err(io)?;
    tmp.keep();
    let _ = sync_dir(target.parent().unwrap_or(Path::new(".")));
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companion_names() {
        assert_eq!(name_for("film.mp4", 2), "film.mp4.audio-2");
        assert_eq!(parse("film.mp4.audio-2"), Some(("film.mp4", 2)));
        assert_eq!(parse("a.b.mp4.audio-10"), Some(("a.b.mp4", 10)));
        for not in [
            "film.mp4",
            "film.mp4.audio-",
            "film.mp4.audio-x",
            ".audio-1",
            "f.audio-+1",
        ] {
            assert_eq!(parse(not), None, "{not}");
        }
    }
}
