//! Jobs as they are saved in the state dir (`jobs.json`, through
//! [`crate::store::Store`]): written atomically before a job changes state
//! goes on, so a kill -9 or a power cut loses no state change.

use serde::{Deserialize, Serialize};

use crate::media::versions::{NotNeeded, Version};
use crate::media::{Conversion, Encoder};

/// What a job makes, with what that needs and nothing else: a version
/// job without its version is not a value that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    /// The TV version, streams copied.
    Remux,
    /// The TV version, encoded again; who needs it ("Living-room LG"),
    /// as decided when it was queued (or again, while it is live).
    Transcode { made_for: Option<String> },
    /// A smaller version of a TV version.
    Version(Version),
    /// A video's picture subtitles read into text.
    Subtitles,
}

impl JobKind {
    /// The sort of work, as lanes, the API and `jobs.json` name it.
    pub fn conversion(&self) -> Conversion {
        match self {
            JobKind::Remux => Conversion::Remux,
            JobKind::Transcode { .. } => Conversion::Transcode,
            JobKind::Version(_) => Conversion::Version,
            JobKind::Subtitles => Conversion::Subtitles,
        }
    }

    pub fn name(&self) -> &'static str {
        self.conversion().name()
    }

    /// Whether it makes the video the TVs play (the rest wait for these).
    pub fn makes_tv_version(&self) -> bool {
        self.conversion().makes_tv_version()
    }

    /// The version a version job makes.
    pub fn version(&self) -> Option<Version> {
        match self {
            JobKind::Version(v) => Some(*v),
            _ => None,
        }
    }

    /// Who a transcode is for.
    pub fn made_for(&self) -> Option<&str> {
        match self {
            JobKind::Transcode { made_for } => made_for.as_deref(),
            _ => None,
        }
    }

    /// Whether two jobs of a file make the same thing (one live at a time).
    pub fn same_output(&self, other: &JobKind) -> bool {
        match (self, other) {
            (JobKind::Version(a), JobKind::Version(b)) => a == b,
            (a, b) => (a.makes_tv_version() && b.makes_tv_version()) || a == b,
        }
    }
}

/// "remux", "version 720p": as the log and the jobs page say it.
impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.version() {
            Some(v) => write!(f, "{} {}", self.name(), v.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// Where a job stands, with what that state needs and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Due now.
    Queued,
    /// Queued, but not before `until` (Unix seconds).
    Waiting {
        until: u64,
        why: Wait,
    },
    Running,
    Done,
    /// Nothing to make, and nothing wrong (a version that would be no
    /// smaller than the TV version): not a failure.
    NotNeeded(NotNeeded),
    /// Its video must be encoded again, and transcoding is off.
    NeedsTranscode,
    Failed,
    Cancelled,
}

/// Why a queued job waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// A transient failure, tried again after a back-off.
    Retry,
    /// The disk is too full; looked at again every few seconds.
    NoSpace,
    /// Something it needs is not installed (an OCR language pack); looked
    /// for again now and then.
    Missing,
}

/// The names pages, the API and `jobs.json` give the states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Name {
    Queued,
    Running,
    Done,
    NotNeeded,
    Failed,
    Cancelled,
}

impl State {
    /// One of each name (for the page's filters and a test).
    pub const ALL: [State; 6] = [
        State::Queued,
        State::Running,
        State::Done,
        State::NotNeeded(NotNeeded::NoSound),
        State::Failed,
        State::Cancelled,
    ];

    /// Waiting or running: the file has a job under way.
    pub fn is_live(self) -> bool {
        matches!(self, State::Queued | State::Waiting { .. } | State::Running)
    }

    /// Not started yet (due or waiting).
    pub fn is_queued(self) -> bool {
        matches!(self, State::Queued | State::Waiting { .. })
    }

    /// Ended without a playable version.
    pub fn is_failed(self) -> bool {
        matches!(self, State::Failed | State::NeedsTranscode)
    }

    fn saved_name(self) -> Name {
        match self {
            State::Queued | State::Waiting { .. } => Name::Queued,
            State::Running => Name::Running,
            State::Done => Name::Done,
            State::NotNeeded(_) => Name::NotNeeded,
            State::Failed | State::NeedsTranscode => Name::Failed,
            State::Cancelled => Name::Cancelled,
        }
    }

    /// The name pages, the API and `jobs.json` use (a waiting job is
    /// `queued`, a "needs transcode" one `failed` with `needs_transcode`).
    pub fn name(self) -> &'static str {
        match self.saved_name() {
            Name::Queued => "queued",
            Name::Running => "running",
            Name::Done => "done",
            Name::NotNeeded => "not_needed",
            Name::Failed => "failed",
            Name::Cancelled => "cancelled",
        }
    }
}

/// A job, with its state as data; saved and shown as [`Flat`] so
/// `jobs.json` and `/api/jobs` keep the fields they always had.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "Flat", into = "Flat")]
pub struct Job {
    pub id: u64,
    /// What it makes, with what that needs.
    pub kind: JobKind,
    /// The encoder a transcode uses (after a hardware failure, libx264).
    pub encoder: Option<Encoder>,
    /// Why a running transcode is stopped for now ("the Pi is at 82 °C").
    /// Not saved: it is a fact about the moment.
    pub paused: Option<String>,
    /// The file to convert, relative to the media dir.
    pub source: String,
    /// The MP4 written, once done.
    pub output: Option<String>,
    pub state: State,
    /// 0 to 100, of the probed duration.
    pub progress: f64,
    /// A subtitles job's pictures read so far, of all it has.
    pub pictures: Option<[u64; 2]>,
    pub speed: Option<f32>,
    pub eta_secs: Option<u64>,
    /// What went wrong, or why it waits, in a sentence for a person.
    pub error: Option<String>,
    /// The last lines of ffmpeg's output, for a failed job.
    pub log: Vec<String>,
    /// What happens to each stream.
    pub plan: Vec<String>,
    pub attempts: u32,
    pub created: u64,
    pub finished: Option<u64>,
    /// The browser that started it, for its "ready to play" notice.
    pub owner: Option<String>,
    pub dismissed: bool,
    /// The PC (a PeerTube runner, by its name) transcoding it now; `None`
    /// on the Pi.
    pub runner: Option<String>,
    /// Times a runner reported failing it since it was queued.
    pub runner_failures: u32,
    /// What became of the file that its page says ("it ends at 6:02 of
    /// the 10:00 its header says: the file seems cut off").
    pub note: Option<String>,
}

/// A job as `jobs.json` and `/api/jobs` have always said it: a state name
/// with `needs_transcode` and `not_before` beside it (and, since the
/// states became data, `waiting` for why a queued job waits).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Flat {
    id: u64,
    #[serde(default)]
    kind: Conversion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<Version>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encoder: Option<Encoder>,
    #[serde(skip)]
    paused: Option<String>,
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    made_for: Option<String>,
    source: String,
    output: Option<String>,
    state: Name,
    progress: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pictures: Option<[u64; 2]>,
    speed: Option<f32>,
    eta_secs: Option<u64>,
    error: Option<String>,
    #[serde(default)]
    needs_transcode: bool,
    #[serde(default)]
    log: Vec<String>,
    #[serde(default)]
    plan: Vec<String>,
    #[serde(default)]
    attempts: u32,
    #[serde(default)]
    not_before: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    waiting: Option<Wait>,
    /// Why a `not_needed` job made nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_needed: Option<NotNeeded>,
    created: u64,
    finished: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[serde(default)]
    dismissed: bool,
    #[serde(default)]
    runner: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    runner_failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl TryFrom<Flat> for Job {
    type Error = String;

    fn try_from(f: Flat) -> Result<Job, String> {
        let kind = match (f.kind, f.version) {
            (Conversion::Remux, _) => JobKind::Remux,
            (Conversion::Transcode, _) => JobKind::Transcode {
                made_for: f.made_for,
            },
            (Conversion::Version, Some(v)) => JobKind::Version(v),
            (Conversion::Version, None) => {
                return Err(format!(
                    "job {} is a version job that names no version",
                    f.id
                ))
            }
            (Conversion::Subtitles, _) => JobKind::Subtitles,
        };
        let state = match f.state {
            Name::Queued if f.not_before > 0 => State::Waiting {
                until: f.not_before,
                // Before `waiting` was saved: a disk wait gave its attempt
                // back, a retry had used one.
                why: f.waiting.unwrap_or(if f.attempts > 0 {
                    Wait::Retry
                } else {
                    Wait::NoSpace
                }),
            },
            Name::Queued => State::Queued,
            Name::Running => State::Running,
            Name::Done => State::Done,
            // Hand-edited without its reason: the page still says why.
            Name::NotNeeded => f.not_needed.map_or(State::Failed, State::NotNeeded),
            Name::Failed if f.needs_transcode => State::NeedsTranscode,
            Name::Failed => State::Failed,
            Name::Cancelled => State::Cancelled,
        };
        Ok(Job {
            id: f.id,
            kind,
            encoder: f.encoder,
            paused: f.paused,
            source: f.source,
            output: f.output,
            state,
            progress: f.progress,
            pictures: f.pictures,
            speed: f.speed,
            eta_secs: f.eta_secs,
            error: f.error,
            log: f.log,
            plan: f.plan,
            attempts: f.attempts,
            created: f.created,
            finished: f.finished,
            owner: f.owner,
            dismissed: f.dismissed,
            runner: f.runner,
            runner_failures: f.runner_failures,
            note: f.note,
        })
    }
}

impl From<Job> for Flat {
    fn from(j: Job) -> Flat {
        let (not_before, waiting) = match j.state {
            State::Waiting { until, why } => (until, Some(why)),
            _ => (0, None),
        };
        let not_needed = match j.state {
            State::NotNeeded(why) => Some(why),
            _ => None,
        };
        Flat {
            id: j.id,
            kind: j.kind.conversion(),
            version: j.kind.version(),
            encoder: j.encoder,
            paused: j.paused,
            made_for: j.kind.made_for().map(str::to_string),
            source: j.source,
            output: j.output,
            state: j.state.saved_name(),
            progress: j.progress,
            pictures: j.pictures,
            speed: j.speed,
            eta_secs: j.eta_secs,
            error: j.error,
            needs_transcode: j.state == State::NeedsTranscode,
            log: j.log,
            plan: j.plan,
            attempts: j.attempts,
            not_before,
            waiting,
            not_needed,
            created: j.created,
            finished: j.finished,
            owner: j.owner,
            dismissed: j.dismissed,
            runner: j.runner,
            runner_failures: j.runner_failures,
            note: j.note,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Saved {
    pub next_id: u64,
    #[serde(deserialize_with = "valid_jobs")]
    pub jobs: Vec<Job>,
}

/// The jobs that make sense; one that does not (a hand edit) is left out
/// and said in the log, never the whole queue lost with it.
fn valid_jobs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Job>, D::Error> {
    let flat: Vec<Flat> = Vec::deserialize(d)?;
    Ok(flat
        .into_iter()
        .filter_map(|f| {
            Job::try_from(f)
                .map_err(|why| tracing::warn!("jobs.json: {why}; left out"))
                .ok()
        })
        .collect())
}

/// Finished jobs kept as history.
const HISTORY: usize = 500;

/// Drops the oldest finished jobs past the history limit.
pub fn trim_history(jobs: &mut Vec<Job>) {
    let finished = jobs.iter().filter(|j| !j.state.is_live()).count();
    if finished <= HISTORY {
        return;
    }
    let mut drop = finished - HISTORY;
    jobs.retain(|j| {
        if drop > 0 && !j.state.is_live() {
            drop -= 1;
            false
        } else {
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_are_what_serde_writes() {
        for s in State::ALL {
            assert_eq!(
                serde_json::to_string(&s.saved_name()).unwrap(),
                format!("\"{}\"", s.name())
            );
        }
    }
}
