//! Which entry a source shows as in the library, decided from its job in
//! this one place and told to the library from here: the jobs' load, a
//! new transcode, a placed MP4, a job's end, files back from the trash.

use super::store::{Job, JobKind, State};
use crate::library::Library;

/// How a source shows while, or after, a job converts it.
#[derive(Debug, PartialEq)]
pub(super) enum Showing<'a> {
    /// As the MP4 made from it: the source itself is not listed.
    AsOutput(&'a str),
    /// As itself, with a poster: no MP4 came of it (failed, cancelled,
    /// needs a transcode), or a transcode is making one, which takes long.
    AsItself,
    /// Not yet decided: a remux takes seconds, and until it ends the
    /// source is listed as it was found, without a poster of its own.
    Unchanged,
}

impl Showing<'_> {
    pub(super) fn of(job: &Job) -> Showing<'_> {
        match (&job.state, &job.output) {
            (State::Done, Some(out)) => Showing::AsOutput(out),
            (State::Done, None)
            | (State::NotNeeded(_) | State::Failed | State::NeedsTranscode | State::Cancelled, _) => {
                Showing::AsItself
            }
            (State::Queued | State::Waiting { .. } | State::Running, _) => match job.kind {
                JobKind::Transcode { .. } => Showing::AsItself,
                JobKind::Remux | JobKind::Version(_) | JobKind::Subtitles => Showing::Unchanged,
            },
        }
    }
}

/// Tells the library how `source` shows now.
pub(super) fn tell(library: &Library, source: &str, showing: Showing<'_>) {
    match showing {
        Showing::AsOutput(out) => library.set_remuxed(source, out),
        Showing::AsItself => library.source_stays(source),
        Showing::Unchanged => {}
    }
}

/// Tells the library how the job's source shows, as the job stands. A
/// version's job changes nothing: its source is already an entry.
pub(super) fn show(library: &Library, job: &Job) {
    if job.kind.makes_tv_version() {
        tell(library, &job.source, Showing::of(job));
    }
}

/// Tells the library how each source shows, from its newest job.
pub(super) fn show_newest(library: &Library, jobs: &[Job]) {
    let mut newest: std::collections::HashMap<&str, &Job> = Default::default();
    for j in jobs.iter().filter(|j| j.kind.makes_tv_version()) {
        let n = newest.entry(j.source.as_str()).or_insert(j);
        if j.id > n.id {
            *n = j;
        }
    }
    for j in newest.into_values() {
        show(library, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::store::Wait;
    use crate::media::Conversion;

    fn job(kind: Conversion, state: State, output: Option<&str>) -> Job {
        let mut j: Job = serde_json::from_value(serde_json::json!({
            "id": 1, "source": "film.mkv", "state": "queued", "progress": 0.0,
            "created": 1
        }))
        .unwrap();
        j.kind = match kind {
            Conversion::Transcode => JobKind::Transcode { made_for: None },
            _ => JobKind::Remux,
        };
        j.state = state;
        j.output = output.map(String::from);
        j
    }

    #[test]
    fn a_source_shows_as_its_mp4_only_once_one_is_made() {
        use Conversion::{Remux, Transcode};
        let waiting = State::Waiting {
            until: 5,
            why: Wait::NoSpace,
        };
        let cases = [
            (
                Remux,
                State::Done,
                Some("film.mp4"),
                Showing::AsOutput("film.mp4"),
            ),
            (
                Transcode,
                State::Done,
                Some("film.mp4"),
                Showing::AsOutput("film.mp4"),
            ),
            (Remux, State::Done, None, Showing::AsItself),
            (Remux, State::Failed, None, Showing::AsItself),
            (Remux, State::NeedsTranscode, None, Showing::AsItself),
            (Transcode, State::Cancelled, None, Showing::AsItself),
            (Transcode, State::Queued, None, Showing::AsItself),
            (Transcode, State::Running, None, Showing::AsItself),
            (Remux, State::Queued, None, Showing::Unchanged),
            (Remux, waiting, None, Showing::Unchanged),
            (Remux, State::Running, None, Showing::Unchanged),
        ];
        for (kind, state, out, want) in cases {
            let j = job(kind, state, out);
            assert_eq!(Showing::of(&j), want, "{kind:?} {state:?} {out:?}");
        }
    }
}
