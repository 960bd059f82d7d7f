//! A `subtitles` job: a video's picture subtitle tracks (Blu-ray, DVD,
//! DVB) read into WebVTT text beside its MP4, `name.<lang>.vtt`, found
//! and shown like any text track.
//!
//! One ffmpeg run takes every unread track out of the source (a 30 GB
//! film is read once, at idle priority): PGS as it is (`.sup`), VobSub as
//! the program stream it came in, DVB turned into VobSub by ffmpeg's own
//! decoder and encoder. The pictures are decoded here (`media::pgs`,
//! `media::vobsub`) and read by one tesseract per track (`media::ocr`).
//! Each file says which stream it was read from, so a track is read once:
//! neither a restart nor a probe cache hit reads it again. A language
//! whose model is missing makes the job wait, not fail.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::convert::{failed, Ended};
use super::{Job, Jobs};
use crate::fsutil::{blocking, TempFile};
use crate::media::ffmpeg::Control;
use crate::media::launch::Priority;
use crate::media::{self, ocr, pgs, vobsub, PictureTrack, Plan, Probe};

/// The picture tracks of `probe` no WebVTT file beside `output` (the
/// video's MP4, made or to be made) was read from yet. Blocking.
pub fn unread(output: &Path, probe: &Probe) -> Vec<PictureTrack> {
    let tracks = media::picture_tracks(probe);
    if tracks.is_empty() {
        return tracks;
    }
    let made = read_from(output);
    tracks
        .into_iter()
        .filter(|t| !made.contains(&t.input))
        .collect()
}

/// The streams the WebVTT files beside `output` were read from.
fn read_from(output: &Path) -> HashSet<u32> {
    let (Some(dir), Some(stem)) = (output.parent(), output.file_stem().and_then(|s| s.to_str()))
    else {
        return HashSet::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return HashSet::new();
    };
    entries
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with(stem) && n.ends_with(".vtt")
        })
        .filter_map(|e| ocr::origin_of(&e.path()).map(|o| o.stream))
        .collect()
}

/// One track on its way: where ffmpeg puts it, and how to read that.
struct Taken {
    track: PictureTrack,
    file: TempFile,
}

pub(super) async fn run(jobs: &Arc<Jobs>, job: &Job, control: Arc<Control>) -> Ended {
    match steps(jobs, job, control).await {
        Ok(rel) => Ended::Done(rel),
        Err(ended) => ended,
    }
}

async fn steps(jobs: &Arc<Jobs>, job: &Job, control: Arc<Control>) -> Result<String, Ended> {
    let src = super::convert::Source::locate(jobs, job).await?;
    let probe = super::convert::probe(jobs, job, &src.path).await?;
    let output = src.dir.join(&src.output_name);
    let o = output.clone();
    let p = probe.clone();
    let tracks = blocking(move || unread(&o, &p)).await.unwrap_or_default();
    if tracks.is_empty() {
        return Ok(job.source.clone());
    }
    jobs.set_plan(job.id, tracks.iter().map(plan_line).collect());
    // Every model first: a missing one makes the job wait, with the
    // command that installs it.
    let tools = jobs.tools.clone();
    let models: Vec<&'static str> = tracks
        .iter()
        .map(|t| ocr::model_for(t.language.as_deref()))
        .collect();
    let wanted: Vec<(String, Option<String>)> = tracks
        .iter()
        .zip(&models)
        .map(|(t, m)| (m.to_string(), t.language.clone()))
        .collect();
    let t = tools.clone();
    let missing = blocking(move || missing_model(&t, &wanted))
        .await
        .unwrap_or(None);
    if let Some(why) = missing {
        return Err(Ended::Missing(why));
    }
    // The video's frame: DVB is drawn on it, and a cue at its top is placed there.
    let screen = probe
        .video()
        .and_then(|v| Some((v.width?, v.height?)))
        .unwrap_or((720, 576));
    let taken = take_out(jobs, job, &src.path, &probe, screen, &tracks, &control).await?;
    let start = {
        let (t, s) = (tools.clone(), src.path.clone());
        blocking(move || media::start_time(&t, &s).unwrap_or(0.0))
            .await
            .unwrap_or(0.0)
    };
    let (jobs2, id, dir, stem) = (
        jobs.clone(),
        job.id,
        src.dir.clone(),
        output
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("subtitles")
            .to_string(),
    );
    let made = blocking(move || {
        read_all(
            &jobs2,
            id,
            ReadAll {
                taken,
                models,
                start,
                screen,
                dir: &dir,
                stem: &stem,
            },
            &control,
        )
    })
    .await
    .unwrap_or_else(|| Err(failed("reading the subtitles stopped unexpectedly")))?;
    let first = made.first().cloned().unwrap_or_default();
    let rel = match job.source.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/{first}"),
        None => first,
    };
    Ok(rel)
}

/// What the job does with a track, for its page: "subtitle stream 3
/// (Blu-ray pictures, English, forced): read by OCR into WebVTT".
fn plan_line(t: &PictureTrack) -> String {
    let kind = match t.codec.as_str() {
        "hdmv_pgs_subtitle" => "Blu-ray pictures",
        "dvd_subtitle" => "DVD pictures",
        _ => "DVB pictures",
    };
    let lang = t
        .language
        .as_deref()
        .map(|l| {
            crate::format::language_name(l)
                .map(str::to_string)
                .unwrap_or_else(|| "its language unknown".into())
        })
        .unwrap_or_else(|| "no language given".into());
    let forced = if t.forced { ", forced" } else { "" };
    format!(
        "subtitle stream {} ({kind}, {lang}{forced}): read by OCR into WebVTT",
        t.input
    )
}

/// The sentence for the first model not installed, if one is not.
fn missing_model(tools: &media::Tools, wanted: &[(String, Option<String>)]) -> Option<String> {
    for (model, lang) in wanted {
        match ocr::has_model(tools, model) {
            Ok(true) => continue,
            Ok(false) => {
                let name = lang
                    .as_deref()
                    .and_then(crate::format::language_name)
                    .unwrap_or(model.as_str())
                    .to_string();
                return Some(
                    ocr::OcrError::NoModel {
                        model: model.clone(),
                        name,
                    }
                    .to_string(),
                );
            }
            Err(e) => return Some(e.to_string()),
        }
    }
    None
}

/// Every track out of the source in one ffmpeg run, each to a hidden
/// temp file beside it, timed as in the source (`-copyts`).
async fn take_out(
    jobs: &Arc<Jobs>,
    job: &Job,
    src: &Path,
    probe: &Probe,
    (w, h): (u32, u32),
    tracks: &[PictureTrack],
    control: &Arc<Control>,
) -> Result<Vec<Taken>, Ended> {
    let mut args: Vec<String> = Vec::new();
    let mut taken = Vec::new();
    for t in tracks {
        let file = TempFile::new(crate::fsutil::temp_path_for(src, "ocr"));
        args.extend(["-map".into(), format!("0:{}", t.input)]);
        let how: &[&str] = match t.codec.as_str() {
            "hdmv_pgs_subtitle" => &["-c:s", "copy", "-f", "sup"],
            "dvd_subtitle" => &["-c:s", "copy"],
            _ => &["-c:s", "dvdsub"],
        };
        args.extend(how.iter().map(|s| s.to_string()));
        if t.codec == "dvb_subtitle" {
            // DVB's own frame is 720x576 unless it says otherwise.
            args.extend(["-s:s".into(), format!("{}x{}", w.max(720), h.max(576))]);
        }
        if t.codec != "hdmv_pgs_subtitle" {
            args.extend(["-muxpreload", "0", "-muxdelay", "0", "-f", "vob"].map(String::from));
        }
        args.push(file.path().to_string_lossy().into_owned());
        taken.push(Taken {
            track: t.clone(),
            file,
        });
    }
    let run = super::convert::Ffmpeg {
        input_args: vec!["-copyts".to_string()],
        input: src.to_path_buf(),
        args,
        duration: probe.duration,
        priority: Priority::Lowest,
    };
    super::convert::run_ffmpeg(jobs, job.id, run, control.clone()).await?;
    Ok(taken)
}

/// What [`read_all`] reads and where it writes.
struct ReadAll<'a> {
    taken: Vec<Taken>,
    models: Vec<&'static str>,
    /// Where the source's clock starts: the MP4 starts there.
    start: f64,
    screen: (u32, u32),
    dir: &'a Path,
    stem: &'a str,
}

/// Decodes each track, its pictures prepared and written as they come,
/// reads them and puts its WebVTT file in place; the names of the files
/// made. Blocking.
fn read_all(jobs: &Jobs, id: u64, r: ReadAll<'_>, control: &Control) -> Result<Vec<String>, Ended> {
    let mut tracks = Vec::new();
    for t in &r.taken {
        let bytes = std::fs::read(t.file.path())
            .map_err(|e| failed(format!("the subtitles taken out could not be read: {e}")))?;
        let mut pages = ocr::Pages::new(r.dir);
        let mut written = Ok(());
        let mut forced = true;
        // Timed from where the MP4's clock starts.
        let mut add = |mut c: pgs::Cue| {
            c.start -= r.start;
            c.end = c.end.map(|e| e - r.start);
            forced &= c.forced;
            if written.is_ok() {
                written = pages.add(&c);
            }
        };
        match t.track.codec.as_str() {
            "hdmv_pgs_subtitle" => pgs::each_cue(&bytes, &mut add).map_err(|e| e.to_string()),
            _ => vobsub::each_cue(&bytes, r.screen, &mut add).map_err(|e| e.to_string()),
        }
        .map_err(|e| failed(format!("subtitle stream {}: {e}", t.track.input)))?;
        written.map_err(|e| failed(format!("the pictures could not be written: {e}")))?;
        let forced = t.track.forced || (forced && !pages.cues().is_empty());
        tracks.push((pages, forced));
    }
    let total: usize = tracks.iter().map(|(p, _)| p.len()).sum();
    let mut before = 0usize;
    jobs.set_pictures(id, 0, total);
    let mut made = Vec::new();
    for ((t, (pages, forced)), model) in r.taken.iter().zip(&tracks).zip(&r.models) {
        let read = ocr::read(&jobs.tools, pages, model, control, |n| {
            jobs.set_pictures(id, before + n.min(pages.len()), total)
        });
        let texts = match read {
            Ok(t) => t,
            Err(ocr::OcrError::Cancelled) => return Err(Ended::Cancelled),
            Err(e) => return Err(failed(e.to_string())),
        };
        before += pages.len();
        let from = ocr::Origin {
            stream: t.track.input,
            forced: *forced,
        };
        let vtt = ocr::webvtt(pages.cues(), &texts, from);
        made.push(place(r.dir, r.stem, &t.track, vtt.as_bytes())?);
    }
    Ok(made)
}

/// Writes a track's WebVTT file under its name, or the first free one
/// after it (`eng.2`): never over a file already there.
fn place(dir: &Path, stem: &str, track: &PictureTrack, vtt: &[u8]) -> Result<String, Ended> {
    let io = |e: std::io::Error| failed(format!("the WebVTT file could not be written: {e}"));
    let name_for = |n: u32| {
        let suffix = match (&track.suffix, n) {
            (s, 0) => s.clone(),
            (Some(s), n) => Some(format!("{s}.{}", n + 1)),
            (None, n) => Some((n + 1).to_string()),
        };
        Plan::subtitle_name(&PathBuf::from(format!("{stem}.mp4")), &suffix)
    };
    let tmp = TempFile::new(crate::fsutil::temp_path_for(&dir.join(name_for(0)), "ocr"));
    std::fs::write(tmp.path(), vtt).map_err(io)?;
    crate::fsutil::sync_file(tmp.path()).map_err(io)?;
    for n in 0..100 {
        let name = name_for(n);
        let target = dir.join(&name);
        if target.symlink_metadata().is_ok() {
            continue;
        }
        std::fs::rename(tmp.path(), &target).map_err(io)?;
        let _ = tmp.keep();
        crate::fsutil::sync_dir(dir).map_err(io)?;
        return Ok(name);
    }
    Err(failed(
        "a hundred WebVTT files of that name are already there",
    ))
}
