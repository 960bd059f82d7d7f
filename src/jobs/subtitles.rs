//! A `subtitles` job: a video's picture subtitle tracks (Blu-ray, DVD,
//! DVB) read into WebVTT text beside its MP4, `name.<lang>.vtt`, found
//! and shown like any text track.
//!
//! One ffmpeg run takes every unread track whose language tesseract can
//! read out of the source (a 30 GB film is read once, at idle priority;
//! how each kind is taken out and decoded is `media::pictures`), and one
//! tesseract per track reads its pictures (`media::ocr`). Each file says
//! which stream it was read from, so a track is read once: neither a
//! restart, a probe cache hit nor the job's next look reads it again. A
//! track whose language model is missing waits, not fails, and holds back
//! no other: the job reads the rest, then waits, naming the package.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::convert::{failed, Ended};
use super::{Job, Jobs};
use crate::fsutil::{blocking, TempFile};
use crate::media::ffmpeg::Control;
use crate::media::launch::Priority;
use crate::media::pictures::PictureKind;
use crate::media::{self, ocr, pgs, PictureTrack, Plan, Probe};

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
            crate::media::made::subtitles_suffix(&n, stem).is_some()
        })
        .filter_map(|e| ocr::origin_of(&e.path()).map(|o| o.stream))
        .collect()
}

/// The unread tracks, split by whether tesseract can read their
/// language now.
#[derive(Debug, PartialEq)]
struct Split {
    /// Each track to read now, with the model that reads it.
    now: Vec<(PictureTrack, &'static str)>,
    /// Each track that waits, with what it waits for.
    later: Vec<(PictureTrack, Needs)>,
    /// Why the later ones wait: the command that installs what is missing.
    why: Option<String>,
}

/// What a track waits for before it can be read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Needs {
    Tesseract,
    /// The model of its language.
    Model(&'static str),
}

/// Which of `tracks` can be read with the `installed` models (`Err`:
/// tesseract itself is missing, and why), and which wait: one missing
/// language pack holds back its own track only.
fn split(tracks: Vec<PictureTrack>, installed: Result<&[String], String>) -> Split {
    let installed = match installed {
        Ok(models) => models,
        Err(why) => {
            let later = tracks.into_iter().map(|t| (t, Needs::Tesseract)).collect();
            return Split {
                now: Vec::new(),
                later,
                why: Some(why),
            };
        }
    };
    let (now, later): (Vec<_>, Vec<_>) = tracks
        .into_iter()
        .map(|t| {
            let model = ocr::model_for(t.language.as_deref());
            (t, model)
        })
        .partition(|(_, model)| installed.iter().any(|m| m == model));
    let (mut models, mut names) = (Vec::new(), Vec::new());
    for (t, model) in &later {
        let model = *model;
        if models.iter().any(|m| m == model) {
            continue;
        }
        models.push(model.to_string());
        let name = t.language.as_deref().and_then(crate::format::language_name);
        names.push(name.unwrap_or(model).to_string());
    }
    let why = (!models.is_empty()).then(|| ocr::OcrError::NoModel { models, names }.to_string());
    let later = later
        .into_iter()
        .map(|(t, m)| (t, Needs::Model(m)))
        .collect();
    Split { now, later, why }
}

impl Split {
    /// The job's plan: what it does with each track.
    fn plan(&self) -> Vec<String> {
        let mut all: Vec<(&PictureTrack, Option<Needs>)> = self
            .now
            .iter()
            .map(|(t, _)| (t, None))
            .chain(self.later.iter().map(|(t, m)| (t, Some(*m))))
            .collect();
        all.sort_by_key(|(t, _)| t.input);
        all.into_iter().map(|(t, m)| plan_line(t, m)).collect()
    }
}

/// One track on its way: where ffmpeg puts it, and how to read that.
struct Taken {
    track: PictureTrack,
    kind: PictureKind,
    model: &'static str,
    file: TempFile,
}

pub(super) async fn run(jobs: &Arc<Jobs>, job: &Job, control: Arc<Control>) -> Ended {
    match steps(jobs, job, control).await {
        Ok(rel) => Ended::Done(rel),
        Err(ended) => ended,
    }
}

/// Reads every track whose language can be read now; the job then ends
/// done, or waits for the language packs of the others.
async fn steps(jobs: &Arc<Jobs>, job: &Job, control: Arc<Control>) -> Result<String, Ended> {
    let src = super::convert::Source::locate(jobs, job).await?;
    let probe = super::convert::probe(jobs, job, &src.path).await?;
    let output = src.dir.join(&src.output_name);
    let (o, p) = (output.clone(), probe.clone());
    let tracks = blocking(move || unread(&o, &p)).await.unwrap_or_default();
    if tracks.is_empty() {
        return Ok(job.source.clone());
    }
    let tools = jobs.tools.clone();
    let installed = blocking(move || ocr::models(&tools))
        .await
        .unwrap_or_else(|| Err(ocr::OcrError::Failed("it stopped unexpectedly".into())));
    let split = split(tracks, installed.as_deref().map_err(|e| e.to_string()));
    jobs.set_plan(job.id, split.plan());
    if split.now.is_empty() {
        return Err(Ended::Missing(split.why.unwrap_or_default()));
    }
    let made = read_now(jobs, job, &src, &probe, split.now, control).await?;
    if let Some(why) = split.why {
        return Err(Ended::Missing(why));
    }
    let first = made.first().cloned().unwrap_or_default();
    Ok(match job.source.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/{first}"),
        None => first,
    })
}

/// Takes `tracks` out of the source, reads them and writes their WebVTT
/// files beside it: the names of the files made.
async fn read_now(
    jobs: &Arc<Jobs>,
    job: &Job,
    src: &super::convert::Source,
    probe: &Probe,
    tracks: Vec<(PictureTrack, &'static str)>,
    control: Arc<Control>,
) -> Result<Vec<String>, Ended> {
    // The video's frame: DVB is drawn on it, and a cue at its top is placed there.
    let screen = probe
        .video()
        .and_then(|v| Some((v.width?, v.height?)))
        .unwrap_or((720, 576));
    let taken = take_out(jobs, job, &src.path, probe, screen, tracks, &control).await?;
    let start = {
        let (t, s) = (jobs.tools.clone(), src.path.clone());
        blocking(move || media::start_time(&t, &s).unwrap_or(0.0))
            .await
            .unwrap_or(0.0)
    };
    let stem = Path::new(&src.output_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("subtitles")
        .to_string();
    let (jobs2, id, dir) = (jobs.clone(), job.id, src.dir.clone());
    blocking(move || {
        let r = ReadAll {
            taken,
            start,
            screen,
            dir: &dir,
            stem: &stem,
        };
        read_all(&jobs2, id, r, &control)
    })
    .await
    .unwrap_or_else(|| Err(failed("reading the subtitles stopped unexpectedly")))
}

/// What the job does with a track, for its page: "subtitle stream 3
/// (Blu-ray pictures, English, forced): read by OCR into WebVTT", or
/// "…: waits for tesseract-ocr-hun" when it waits for something.
fn plan_line(t: &PictureTrack, waits_for: Option<Needs>) -> String {
    let kind = PictureKind::of(&t.codec).map_or("pictures", PictureKind::name);
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
    let what = match waits_for {
        Some(Needs::Tesseract) => "waits for tesseract".to_string(),
        Some(Needs::Model(model)) => format!("waits for {}", ocr::package_for(model)),
        None => "read by OCR into WebVTT".to_string(),
    };
    format!(
        "subtitle stream {} ({kind}, {lang}{forced}): {what}",
        t.input
    )
}

/// Every track out of the source in one ffmpeg run, each to a hidden
/// temp file beside it, timed as in the source (`-copyts`).
async fn take_out(
    jobs: &Arc<Jobs>,
    job: &Job,
    src: &Path,
    probe: &Probe,
    screen: (u32, u32),
    tracks: Vec<(PictureTrack, &'static str)>,
    control: &Arc<Control>,
) -> Result<Vec<Taken>, Ended> {
    let mut args: Vec<String> = Vec::new();
    let mut taken = Vec::new();
    for (track, model) in tracks {
        let Some(kind) = PictureKind::of(&track.codec) else {
            continue;
        };
        let file = TempFile::new(crate::fsutil::temp_path_for(src, "ocr"));
        args.extend(["-map".into(), format!("0:{}", track.input)]);
        args.extend(kind.take_out_args(screen));
        args.push(file.path().to_string_lossy().into_owned());
        taken.push(Taken {
            track,
            kind,
            model,
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
        t.kind
            .each_cue(&bytes, r.screen, &mut add)
            .map_err(|e| failed(format!("subtitle stream {}: {e}", t.track.input)))?;
        written.map_err(|e| failed(format!("the pictures could not be written: {e}")))?;
        let forced = t.track.forced || (forced && !pages.cues().is_empty());
        tracks.push((pages, forced));
    }
    let total: usize = tracks.iter().map(|(p, _)| p.len()).sum();
    let mut before = 0usize;
    jobs.set_pictures(id, 0, total);
    let mut made = Vec::new();
    for (t, (pages, forced)) in r.taken.iter().zip(&tracks) {
        let read = ocr::read(&jobs.tools, pages, t.model, control, |n| {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn track(input: u32, codec: &str, language: Option<&str>) -> PictureTrack {
        PictureTrack {
            input,
            codec: codec.into(),
            language: language.map(String::from),
            forced: false,
            suffix: language.map(String::from),
        }
    }

    fn models(names: &[&str]) -> Vec<String> {
        names.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn a_missing_language_pack_holds_back_its_own_track_only() {
        let (eng, hun) = (
            track(2, "dvd_subtitle", Some("eng")),
            track(3, "dvd_subtitle", Some("hun")),
        );
        let installed = models(&["eng", "osd"]);
        let s = split(vec![eng.clone(), hun.clone()], Ok(&installed));
        assert_eq!(s.now, vec![(eng, "eng")]);
        assert_eq!(s.later, vec![(hun, Needs::Model("hun"))]);
        assert_eq!(
            s.why.as_deref(),
            Some("the OCR model for Magyar is not installed: sudo apt install tesseract-ocr-hun")
        );
        assert_eq!(
            s.plan(),
            [
                "subtitle stream 2 (DVD pictures, English): read by OCR into WebVTT",
                "subtitle stream 3 (DVD pictures, Magyar): waits for tesseract-ocr-hun",
            ]
        );
    }

    #[test]
    fn every_missing_pack_is_named_once_and_all_present_means_no_wait() {
        let tracks = vec![
            track(2, "hdmv_pgs_subtitle", Some("hun")),
            track(3, "hdmv_pgs_subtitle", Some("pol")),
            track(4, "hdmv_pgs_subtitle", Some("hun")),
            // No language: read with English.
            track(5, "hdmv_pgs_subtitle", None),
        ];
        let s = split(tracks.clone(), Ok(&models(&["eng"])));
        assert_eq!(s.now.len(), 1);
        assert_eq!(s.now[0].1, "eng");
        assert_eq!(s.later.len(), 3);
        assert_eq!(
            s.why.as_deref(),
            Some("the OCR models for Magyar and Polski are not installed: sudo apt install tesseract-ocr-hun tesseract-ocr-pol")
        );
        let all = split(tracks, Ok(&models(&["eng", "hun", "pol"])));
        assert_eq!((all.now.len(), all.later.len(), all.why), (4, 0, None));
    }

    #[test]
    fn without_tesseract_every_track_waits_and_says_so() {
        let why = ocr::OcrError::NoTesseract.to_string();
        let s = split(
            vec![track(2, "dvb_subtitle", Some("eng"))],
            Err(why.clone()),
        );
        assert!(s.now.is_empty());
        assert_eq!(s.why, Some(why));
        assert_eq!(
            s.plan(),
            ["subtitle stream 2 (DVB pictures, English): waits for tesseract"]
        );
    }

    #[test]
    fn a_tracks_file_is_named_after_the_video_and_never_written_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = track(2, "dvd_subtitle", Some("eng"));
        let vtt = |stream| {
            format!("WEBVTT\n\nNOTE pimedia read this from picture subtitles (stream {stream})\n")
        };
        assert_eq!(
            place(dir.path(), "film", &t, vtt(2).as_bytes()).ok(),
            Some("film.eng.vtt".to_string())
        );
        // One made by hand of that name stays as it was.
        t.input = 3;
        assert_eq!(
            place(dir.path(), "film", &t, vtt(3).as_bytes()).ok(),
            Some("film.eng.2.vtt".to_string())
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("film.eng.vtt")).unwrap(),
            vtt(2)
        );
        // Both count as read: the next look reads neither again.
        std::fs::write(dir.path().join("film.fre.vtt"), "WEBVTT\n").unwrap();
        let read = read_from(&dir.path().join("film.mp4"));
        assert_eq!(read, HashSet::from([2, 3]));
        // No temp file is left.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }
}
