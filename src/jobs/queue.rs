//! The persistent queue itself, as plain data: which job a lane takes
//! next, what a run's end makes of a job (done, a retry after a back-off,
//! a wait for disk space, failed), cancel, retry, drop, and what survives
//! a restart. No locks, no files, no ffmpeg: `Jobs` holds it in a
//! [`crate::store::Store`] and calls these under that one lock.

use super::convert::Ended;
use super::store::{trim_history, Job, JobKind, Saved, State, Wait};
use crate::error::{Error, Result};
use crate::media::versions::Version;
use crate::media::Conversion;

/// Attempts for a job that keeps failing for transient reasons.
pub const MAX_ATTEMPTS: u32 = 3;
/// Wait before the second attempt; each later one waits 4 times longer.
const RETRY_BACKOFF_SECS: u64 = 2;
/// A job waiting for disk space looks again this often.
const DISK_WAIT_SECS: u64 = 10;
/// Seconds between looks for something a job needs that is not installed
/// (each look starts tesseract and writes the queue: not every few
/// seconds for as long as a pack stays missing, on an SD card).
const MISSING_WAIT_SECS: u64 = 60;
/// A job a runner fails this often fails (as PeerTube does).
pub const RUNNER_FAILURES: u32 = 5;
/// A runner's message is kept to this many characters (its ffmpeg's whole
/// stderr, otherwise).
const MESSAGE_CHARS: usize = 400;

/// `s`, cut to at most `n` characters, with an ellipsis when cut.
fn truncate(s: &str, n: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// What a worker should do next.
#[derive(Debug)]
pub enum Claim {
    Job(Box<Job>),
    /// Nothing due; a retry is due in this many seconds.
    WaitSecs(u64),
    Idle,
}

/// What a new job is: its file, its lane, who to tell and who it is for.
pub struct NewJob<'a> {
    pub source: &'a str,
    pub kind: JobKind,
    pub owner: Option<String>,
    /// The encoder a transcode will use, when already known.
    pub encoder: Option<crate::media::Encoder>,
}

impl Saved {
    /// After a restart: a job that was running runs again.
    pub fn recover(&mut self) -> Vec<&Job> {
        let mut again = Vec::new();
        for j in self.jobs.iter_mut() {
            if j.state == State::Running {
                j.state = State::Queued;
                j.progress = 0.0;
                j.runner = None;
                again.push(j.id);
            }
        }
        self.jobs.iter().filter(|j| again.contains(&j.id)).collect()
    }

    /// Adds a queued job, unless the file has a live one of the same
    /// sort (a TV version, the same smaller version, its subtitles). Its id.
    pub fn add(&mut self, new: NewJob<'_>, at: u64) -> Option<u64> {
        let same = |j: &Job| j.source == new.source && j.kind.same_output(&new.kind);
        if self.jobs.iter().any(|j| same(j) && j.state.is_live()) {
            return None;
        }
        self.next_id += 1;
        let id = self.next_id;
        self.jobs.push(Job {
            id,
            kind: new.kind,
            encoder: new.encoder,
            paused: None,
            source: new.source.to_string(),
            output: None,
            state: State::Queued,
            progress: 0.0,
            pictures: None,
            speed: None,
            eta_secs: None,
            error: None,
            log: Vec::new(),
            plan: Vec::new(),
            attempts: 0,
            created: at,
            finished: None,
            owner: new.owner,
            dismissed: false,
            runner: None,
            runner_failures: 0,
            note: None,
        });
        trim_history(&mut self.jobs);
        Some(id)
    }

    /// The lane's oldest due queued job, now running (one more attempt);
    /// or when the next one (a retry waiting out its back-off) is due.
    #[cfg(test)]
    pub fn claim(&mut self, lane: Conversion, at: u64) -> Claim {
        self.claim_where(lane, at, |_| true)
    }

    /// As `claim`, of the jobs `may_take` allows (the Pi leaves to a
    /// runner what a runner can take).
    pub fn claim_where(
        &mut self,
        lane: Conversion,
        at: u64,
        may_take: impl Fn(&Job) -> bool,
    ) -> Claim {
        let mut next_due: Option<u64> = None;
        let queued = self
            .jobs
            .iter_mut()
            .filter(|j| j.state.is_queued() && j.kind.conversion() == lane && may_take(j));
        for j in queued {
            match j.state {
                State::Waiting { until, .. } if until > at => {
                    next_due = Some(next_due.map_or(until, |d| d.min(until)));
                }
                _ => {
                    j.state = State::Running;
                    j.attempts += 1;
                    j.progress = 0.0;
                    j.runner = None;
                    return Claim::Job(Box::new(j.clone()));
                }
            }
        }
        match next_due {
            Some(due) => Claim::WaitSecs(due - at),
            None => Claim::Idle,
        }
    }

    /// Whether any TV version waits or is being made (versions wait
    /// behind them all).
    pub fn tv_pending(&self) -> bool {
        self.jobs
            .iter()
            .any(|j| j.kind.makes_tv_version() && j.state.is_live())
    }

    /// Every other due version job of `source`, now running: one ffmpeg
    /// run makes them with the one claimed.
    pub fn claim_versions_of(
        &mut self,
        source: &str,
        at: u64,
        may_take: impl Fn(&Job) -> bool,
    ) -> Vec<(Job, Version)> {
        let mut claimed = Vec::new();
        for j in self.jobs.iter_mut().filter(|j| may_take(j)) {
            let due = match j.state {
                State::Queued => true,
                State::Waiting { until, .. } => until <= at,
                _ => false,
            };
            let JobKind::Version(version) = j.kind else {
                continue;
            };
            if due && j.source == source {
                j.state = State::Running;
                j.attempts += 1;
                j.progress = 0.0;
                j.runner = None;
                claimed.push((j.clone(), version));
            }
        }
        claimed
    }

    /// What a run's end makes of job `id`; the job as it is now.
    pub fn finish(&mut self, id: u64, ended: Ended, shutting_down: bool, at: u64) -> Option<Job> {
        let j = self.jobs.iter_mut().find(|j| j.id == id)?;
        record(j, ended, shutting_down, at);
        Some(j.clone())
    }

    /// Cancels a job that is still queued, or that a runner has (its
    /// later result is refused); one running on the Pi is left to its
    /// worker (which stops ffmpeg). The job as it is now.
    pub fn cancel_queued(&mut self, id: u64, at: u64) -> Option<Job> {
        let j = self.jobs.iter_mut().find(|j| j.id == id)?;
        if j.state.is_queued() || (j.state == State::Running && j.runner.is_some()) {
            j.state = State::Cancelled;
            j.runner = None;
            j.finished = Some(at);
        }
        Some(j.clone())
    }

    /// Hands a due queued transcode to the runner `name`: it runs there
    /// (an attempt, as on the Pi). `None` when it is no longer queued.
    pub fn hand_to_runner(&mut self, id: u64, name: &str, at: u64) -> Option<Job> {
        let j = self.jobs.iter_mut().find(|j| j.id == id)?;
        let due = match j.state {
            State::Queued => true,
            State::Waiting { until, .. } => until <= at,
            _ => false,
        };
        if !due || j.kind == JobKind::Remux {
            return None;
        }
        j.state = State::Running;
        j.attempts += 1;
        j.progress = 0.0;
        j.runner = Some(name.to_string());
        j.error = None;
        Some(j.clone())
    }

    /// A runner gave job `id` back: queued again at once, with the attempt
    /// given back (it stopped, or went quiet); or, with `failed`, one more
    /// runner failure, and after [`RUNNER_FAILURES`] the job fails with
    /// the runner's message. The job as it is now, if a runner had it.
    pub fn runner_gave_back(&mut self, id: u64, failed: Option<&str>, at: u64) -> Option<Job> {
        let j = self
            .jobs
            .iter_mut()
            .find(|j| j.id == id && j.state == State::Running && j.runner.is_some())?;
        let runner = j.runner.take().unwrap_or_default();
        j.progress = 0.0;
        j.speed = None;
        j.eta_secs = None;
        j.attempts = j.attempts.saturating_sub(1);
        j.state = State::Queued;
        if let Some(message) = failed {
            j.runner_failures += 1;
            let message = truncate(message, MESSAGE_CHARS);
            if j.runner_failures >= RUNNER_FAILURES {
                j.state = State::Failed;
                j.error = Some(format!(
                    "the PC {runner} failed it {} times; the last time it said: {message}",
                    j.runner_failures
                ));
                j.finished = Some(at);
            } else {
                j.error = Some(format!("the PC {runner} failed it: {message}"));
            }
        }
        Some(j.clone())
    }

    /// Queues a failed or cancelled job again, with fresh attempts.
    pub fn retry(&mut self, id: u64) -> Result<Job> {
        let j = self
            .jobs
            .iter_mut()
            .find(|j| j.id == id)
            .ok_or(Error::NotFound)?;
        if !matches!(
            j.state,
            State::Failed | State::NeedsTranscode | State::Cancelled
        ) {
            return Err(Error::Conflict(format!(
                "Job {id} is not failed or cancelled, so there is nothing to retry."
            )));
        }
        j.state = State::Queued;
        j.attempts = 0;
        j.runner_failures = 0;
        j.runner = None;
        j.note = None;
        j.error = None;
        j.log.clear();
        j.progress = 0.0;
        j.finished = None;
        Ok(j.clone())
    }

    /// Takes out a job that is still queued (no longer needed).
    pub fn drop_queued(&mut self, id: u64) -> Option<Job> {
        let i = self
            .jobs
            .iter()
            .position(|j| j.id == id && j.state.is_queued())?;
        Some(self.jobs.remove(i))
    }
}

/// Queued again until `until`, saying why, with the attempt given back.
fn wait_without_attempt(j: &mut Job, why: String, until: u64, wait: Wait) {
    tracing::warn!("job {} waits: {why}", j.id);
    j.state = State::Waiting { until, why: wait };
    j.attempts = j.attempts.saturating_sub(1);
    j.progress = 0.0;
    j.error = Some(why);
}

/// A job's new state from how its run ended: done, queued again (a
/// shutdown, or a transient failure with attempts left, after a backoff),
/// waiting for disk space (not an attempt), cancelled or failed.
fn record(j: &mut Job, result: Ended, shutting_down: bool, at: u64) {
    // A done job keeps the name of the PC that made it.
    if !matches!(result, Ended::Done(_)) {
        j.runner = None;
    }
    j.speed = None;
    j.eta_secs = None;
    j.paused = None;
    match result {
        Ended::Done(output) => {
            j.state = State::Done;
            j.progress = 100.0;
            j.output = Some(output);
            j.error = None;
        }
        Ended::Cancelled if shutting_down => {
            j.state = State::Queued;
            j.attempts = j.attempts.saturating_sub(1);
            j.progress = 0.0;
        }
        Ended::GiveBack => {
            j.state = State::Queued;
            j.attempts = j.attempts.saturating_sub(1);
            j.progress = 0.0;
        }
        Ended::Cancelled => j.state = State::Cancelled,
        Ended::NotNeeded(why) => {
            j.state = State::NotNeeded(why);
            // The sentence for /api/jobs' readers, who know `error`.
            j.error = Some(why.to_string());
            j.log = Vec::new();
        }
        Ended::NoSpace(room) => {
            // Not an attempt: nothing is wrong with the file.
            wait_without_attempt(j, room.sentence(), at + DISK_WAIT_SECS, Wait::NoSpace);
        }
        Ended::Missing(why) => {
            // Nor this: the job runs once what it needs is installed.
            wait_without_attempt(j, why, at + MISSING_WAIT_SECS, Wait::Missing);
        }
        Ended::Failed {
            reason,
            transient,
            log,
            needs_transcode,
        } => {
            j.error = Some(reason);
            j.log = log;
            if needs_transcode {
                j.state = State::NeedsTranscode;
            } else if transient && j.attempts < MAX_ATTEMPTS {
                let wait = RETRY_BACKOFF_SECS * 4u64.pow(j.attempts.saturating_sub(1));
                tracing::warn!(
                    "job {} failed ({}); retrying in {wait} s",
                    j.id,
                    j.error.as_deref().unwrap_or("")
                );
                j.state = State::Waiting {
                    until: at + wait,
                    why: Wait::Retry,
                };
            } else {
                j.state = State::Failed;
            }
        }
    }
    if !j.state.is_live() {
        j.finished = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::convert::Room;

    const T: u64 = 1_000_000;

    fn new(source: &str, kind: Conversion) -> NewJob<'_> {
        let kind = match kind {
            Conversion::Transcode => JobKind::Transcode { made_for: None },
            _ => JobKind::Remux,
        };
        NewJob {
            source,
            kind,
            owner: None,
            encoder: None,
        }
    }

    fn transient() -> Ended {
        Ended::Failed {
            reason: "ffmpeg was killed by signal 9".into(),
            transient: true,
            log: vec!["last line".into()],
            needs_transcode: false,
        }
    }

    fn claimed(q: &mut Saved, lane: Conversion, at: u64) -> Job {
        match q.claim(lane, at) {
            Claim::Job(j) => *j,
            other => panic!("nothing claimed: {other:?}"),
        }
    }

    #[test]
    fn each_lane_claims_its_own_jobs_oldest_first_and_one_live_job_per_file() {
        let mut q = Saved::default();
        let a = q.add(new("a.mkv", Conversion::Remux), T).unwrap();
        let b = q.add(new("b.mkv", Conversion::Transcode), T).unwrap();
        let c = q.add(new("c.mkv", Conversion::Remux), T).unwrap();
        assert_eq!(
            q.add(new("a.mkv", Conversion::Transcode), T),
            None,
            "a.mkv has one"
        );
        assert_eq!(claimed(&mut q, Conversion::Remux, T).id, a);
        assert_eq!(claimed(&mut q, Conversion::Remux, T).id, c);
        assert!(matches!(q.claim(Conversion::Remux, T), Claim::Idle));
        let t = claimed(&mut q, Conversion::Transcode, T);
        assert_eq!((t.id, t.state, t.attempts), (b, State::Running, 1));
    }

    #[test]
    fn a_transient_failure_is_retried_with_back_off_then_fails() {
        let mut q = Saved::default();
        let id = q.add(new("a.mkv", Conversion::Remux), T).unwrap();
        claimed(&mut q, Conversion::Remux, T);
        let j = q.finish(id, transient(), false, T).unwrap();
        let retry_at = |until| State::Waiting {
            until,
            why: Wait::Retry,
        };
        assert_eq!(j.state, retry_at(T + 2));
        assert!(matches!(
            q.claim(Conversion::Remux, T + 1),
            Claim::WaitSecs(1)
        ));
        claimed(&mut q, Conversion::Remux, T + 2);
        let j = q.finish(id, transient(), false, T + 2).unwrap();
        assert_eq!(j.state, retry_at(T + 2 + 8), "4 times longer");
        claimed(&mut q, Conversion::Remux, T + 10);
        let j = q.finish(id, transient(), false, T + 10).unwrap();
        assert_eq!((j.state, j.attempts), (State::Failed, MAX_ATTEMPTS));
        assert_eq!(j.finished, Some(T + 10));
        assert_eq!(j.log, ["last line"]);
        // A bad file fails at once.
        let bad = q.add(new("b.mkv", Conversion::Remux), T).unwrap();
        claimed(&mut q, Conversion::Remux, T);
        let reason = "ffmpeg failed (exit status 1): Invalid data found".to_string();
        let j = q
            .finish(
                bad,
                Ended::Failed {
                    reason: reason.clone(),
                    transient: false,
                    log: Vec::new(),
                    needs_transcode: false,
                },
                false,
                T,
            )
            .unwrap();
        assert_eq!((j.state, j.error), (State::Failed, Some(reason)));
    }

    #[test]
    fn waiting_for_disk_space_uses_no_attempt() {
        let mut q = Saved::default();
        let id = q.add(new("a.mkv", Conversion::Remux), T).unwrap();
        for round in 0..5 {
            claimed(&mut q, Conversion::Remux, T + round * 10);
            let j = q
                .finish(id, Ended::NoSpace(Room::FilledUp), false, T + round * 10)
                .unwrap();
            let until = T + round * 10 + 10;
            let wait = State::Waiting {
                until,
                why: Wait::NoSpace,
            };
            assert_eq!((j.state, j.attempts), (wait, 0));
            assert!(j.error.unwrap().contains("disk filled up"));
        }
        claimed(&mut q, Conversion::Remux, T + 50);
        let j = q
            .finish(id, Ended::Done("a.mp4".into()), false, T + 60)
            .unwrap();
        assert_eq!(
            (j.state, j.error, j.output),
            (State::Done, None, Some("a.mp4".into()))
        );
    }

    #[test]
    fn a_shutdown_puts_a_running_job_back_without_counting_it() {
        let mut q = Saved::default();
        let id = q.add(new("a.mkv", Conversion::Remux), T).unwrap();
        claimed(&mut q, Conversion::Remux, T);
        let j = q.finish(id, Ended::Cancelled, true, T).unwrap();
        assert_eq!((j.state, j.attempts, j.finished), (State::Queued, 0, None));
        // Killed instead: it was running when the queue was saved.
        claimed(&mut q, Conversion::Remux, T);
        let saved = serde_json::to_vec(&q).unwrap();
        let mut after: Saved = serde_json::from_slice(&saved).unwrap();
        let again: Vec<u64> = after.recover().iter().map(|j| j.id).collect();
        assert_eq!(again, [id]);
        assert_eq!(claimed(&mut after, Conversion::Remux, T).attempts, 2);
    }

    #[test]
    fn cancel_retry_and_drop() {
        let mut q = Saved::default();
        let id = q.add(new("a.mkv", Conversion::Remux), T).unwrap();
        assert!(q.retry(id).is_err(), "a queued job has nothing to retry");
        let j = q.cancel_queued(id, T).unwrap();
        assert_eq!((j.state, j.finished), (State::Cancelled, Some(T)));
        assert!(matches!(q.claim(Conversion::Remux, T), Claim::Idle));
        let j = q.retry(id).unwrap();
        assert_eq!((j.state, j.attempts, j.finished), (State::Queued, 0, None));
        assert!(q.retry(404).is_err());
        // A running job is cancelled by its worker, not here.
        claimed(&mut q, Conversion::Remux, T);
        assert_eq!(q.cancel_queued(id, T).unwrap().state, State::Running);
        assert!(q.drop_queued(id).is_none(), "only a queued job is dropped");
        let other = q.add(new("b.mkv", Conversion::Transcode), T).unwrap();
        assert_eq!(q.drop_queued(other).unwrap().source, "b.mkv");
        assert_eq!(q.jobs.len(), 1);
    }

    /// `jobs.json` as the release before this one wrote it (a done remux,
    /// a "needs transcode", a running transcode for a TV, a wait for disk
    /// space, a retry, a cancel) loads, recovers, and is written back with
    /// the same fields.
    #[test]
    fn the_queue_of_the_last_release_loads() {
        let text = include_str!("../../tests/fixtures/jobs-0.1.0.json");
        let mut q: Saved = serde_json::from_str(text).unwrap();
        assert_eq!(q.jobs.len(), 6);
        let again: Vec<u64> = q.recover().iter().map(|j| j.id).collect();
        assert_eq!(again, [3], "the running transcode runs again");
        let by_id = |q: &Saved, id: u64| q.jobs.iter().find(|j| j.id == id).unwrap().clone();
        let t = by_id(&q, 3);
        assert_eq!(t.state, State::Queued);
        assert_eq!(
            t.kind,
            JobKind::Transcode {
                made_for: Some("LG webOS TV".into())
            }
        );
        assert_eq!(t.encoder, Some(crate::media::Encoder::X264));
        assert_eq!(by_id(&q, 1).state, State::NeedsTranscode);
        let waiting = by_id(&q, 4);
        let no_space = State::Waiting {
            until: 1796118000,
            why: Wait::NoSpace,
        };
        assert_eq!(waiting.state, no_space, "a disk wait gave its attempt back");
        assert!(waiting.error.unwrap().contains("too full"));
        let retry = State::Waiting {
            until: 1796117930,
            why: Wait::Retry,
        };
        assert_eq!(by_id(&q, 5).state, retry);
        assert_eq!(by_id(&q, 2).output.as_deref(), Some("a.mp4"));
        assert!(by_id(&q, 6).dismissed);
        // Due jobs run in order; the disk wait and the back-off keep theirs.
        assert_eq!(claimed(&mut q, Conversion::Transcode, 1796117930).id, 3);
        assert_eq!(claimed(&mut q, Conversion::Remux, 1796117930).id, 5);
        assert!(matches!(
            q.claim(Conversion::Remux, 1796117930),
            Claim::WaitSecs(70)
        ));
        // Written back, every field it had is still there, with the
        // same values where nothing happened to the job.
        let old: serde_json::Value = serde_json::from_str(text).unwrap();
        let new = serde_json::to_value(&q).unwrap();
        for i in [0, 1, 5] {
            let mut n = new["jobs"][i].clone();
            // Added since: which PC a job is on (none, on the Pi).
            assert_eq!(
                n.as_object_mut().unwrap().remove("runner"),
                Some(serde_json::Value::Null)
            );
            assert_eq!(old["jobs"][i], n, "job {}", i + 1);
        }
        for (o, n) in old["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(new["jobs"].as_array().unwrap())
        {
            for key in o.as_object().unwrap().keys() {
                assert!(n.get(key).is_some(), "job {}: {key} is kept", o["id"]);
            }
        }
        assert_eq!(new["next_id"], 6);
    }
}
