//! PCs in the house that transcode for the Pi: the stock PeerTube runner
//! (`@peertube/peertube-runner`), registered with the token on `/helpers`.
//! This module is the server side of its protocol (see
//! `../shared/peertube-runner/PROTOCOL.md`): the registration token and
//! the registered runners (`runners.json`), the jobs handed to them (each
//! with its own token, in memory: a restart queues them again), the
//! watchdog that takes back a job whose PC went quiet, and who is
//! connected over socket.io (`socket.rs`). The queue's side is
//! `jobs/remote.rs`; the HTTP routes are `web/runners.rs`.

pub mod socket;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::fsutil::{now, TempFile};
use crate::jobs::{Jobs, Offer};
use crate::sync::Locked;

/// Why a runner's request is refused, as the protocol says it: the runner
/// reads `code` (it forgets a server that answers `unknown_runner_token`).
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// 404: no such registration token.
    UnknownRegistrationToken,
    /// 400: another runner has that name.
    NameTaken(String),
    /// 404: the runner was removed, or never registered.
    UnknownRunnerToken,
    /// 404: no such job (a restart forgets them).
    UnknownJob,
    /// 409: someone else took it first.
    NotPending,
    /// 400: not this runner's job any more, or the job token is wrong.
    NotProcessing,
    /// 400: a body the protocol does not send.
    Malformed(String),
}

impl Refusal {
    /// The HTTP status, PeerTube's error code and a sentence.
    pub fn parts(&self) -> (u16, &'static str, String) {
        match self {
            Refusal::UnknownRegistrationToken => (
                404,
                "unknown_registration_token",
                "This registration token is not the one on pimedia's Helpers page (it may have been replaced).".into(),
            ),
            Refusal::NameTaken(name) => (
                400,
                "runner_name_already_exists",
                format!("A runner named {name} is registered already: pick another name, or remove it on the Helpers page."),
            ),
            Refusal::UnknownRunnerToken => (
                404,
                "unknown_runner_token",
                "This runner is not registered here (it was removed on the Helpers page).".into(),
            ),
            Refusal::UnknownJob => (404, "unknown_runner_job", "There is no such job.".into()),
            Refusal::NotPending => (
                409,
                "runner_job_not_in_pending_state",
                "This job is no longer waiting: another runner took it, or it was cancelled.".into(),
            ),
            Refusal::NotProcessing => (
                400,
                "runner_job_not_in_processing_state",
                "This job is not being processed by this runner (it was cancelled, given to another, or its token is wrong).".into(),
            ),
            Refusal::Malformed(why) => (400, "bad_request", why.clone()),
        }
    }
}

pub type Answer<T> = std::result::Result<T, Refusal>;

/// A registered runner, as `runners.json` keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Runner {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    token: String,
    pub registered: u64,
    /// Unix seconds of its last request.
    pub last_contact: u64,
    /// Its version, when it says (runner 0.2 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    registration_token: String,
    next_id: u64,
    runners: Vec<Runner>,
}

/// A job a runner has: whose, its token, when it last said something.
#[derive(Debug, Clone)]
struct Handed {
    runner: u64,
    token: String,
    last_update: Instant,
    progress: Option<f64>,
}

/// A runner's job as `/api/runners` and the Helpers page show it.
#[derive(Debug, Clone, Serialize)]
pub struct RunnerView {
    pub id: u64,
    pub name: String,
    pub last_contact: u64,
    /// The source it is transcoding, if any.
    pub job: Option<String>,
    pub progress: Option<f64>,
    pub connected: bool,
}

/// What a runner is given when it accepts a job.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub uuid: String,
    pub token: String,
    pub offer: Offer,
}

pub struct Runners {
    saved: Arc<crate::store::Store<Saved>>,
    /// Job id -> the runner that has it.
    handed: Mutex<HashMap<u64, Handed>>,
    /// Runner id -> its open socket.io connections.
    connected: Mutex<HashMap<u64, usize>>,
    jobs: Arc<Jobs>,
    /// `--runner-stall`.
    stall: Duration,
}

/// A token of 128 random bits, with PeerTube's prefix for its kind.
fn token(prefix: &str) -> String {
    let id = crate::upload::random_id().unwrap_or_else(|_| {
        // getrandom does not fail on Linux; a token is still unguessable
        // enough from the clock and the pid only as a last resort.
        format!("{:x}{:x}", std::process::id(), now())
    });
    format!("{prefix}-{id}")
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The protocol's job id for job `id`: UUID-shaped, as runners expect.
pub fn job_uuid(id: u64) -> String {
    format!("00000000-0000-4000-8000-{id:012x}")
}

/// Job `id` from its UUID.
pub fn job_id(uuid: &str) -> Option<u64> {
    let hex = uuid.strip_prefix("00000000-0000-4000-8000-")?;
    if hex.len() != 12 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

impl Runners {
    /// Reads `runners.json` (a first start makes a registration token).
    /// Blocking.
    pub fn load(state_dir: &std::path::Path, jobs: Arc<Jobs>, stall: Duration) -> Runners {
        let saved = crate::store::Store::<Saved>::load(
            state_dir.join("runners.json"),
            "runners file",
            Duration::from_secs(2),
        );
        if saved.get().registration_token.is_empty() {
            saved.change(|s| s.registration_token = token("ptrrt"));
        }
        if stall < Duration::from_secs(60) {
            tracing::warn!(
                "--runner-stall {} s is shorter than the 60 s between a runner's updates: healthy jobs will be taken back from PCs",
                stall.as_secs()
            );
        }
        Runners {
            saved: Arc::new(saved),
            handed: Mutex::new(HashMap::new()),
            connected: Mutex::new(HashMap::new()),
            jobs,
            stall,
        }
    }

    pub fn registration_token(&self) -> String {
        self.saved.get().registration_token.clone()
    }

    /// A new registration token; the old one stops working (registered
    /// runners keep theirs).
    pub fn new_registration_token(&self) -> String {
        let t = token("ptrrt");
        self.saved.change(|s| s.registration_token = t.clone());
        tracing::info!("a new runner registration token was made; the old one no longer works");
        t
    }

    /// Every registered runner, with the job it is on.
    pub fn list(&self) -> Vec<RunnerView> {
        let runners = self.saved.get().runners.clone();
        let handed = self.handed.locked().clone();
        let connected = self.connected.locked().clone();
        runners
            .into_iter()
            .map(|r| {
                let on = handed.iter().find(|(_, h)| h.runner == r.id);
                let job = on.and_then(|(id, _)| self.jobs.get(*id));
                RunnerView {
                    id: r.id,
                    connected: connected.get(&r.id).is_some_and(|n| *n > 0),
                    name: r.name,
                    last_contact: r.last_contact,
                    progress: on.and_then(|(_, h)| h.progress),
                    job: job.map(|j| j.source),
                }
            })
            .collect()
    }

    /// `POST /api/v1/runners/register`.
    pub fn register(
        &self,
        registration_token: &str,
        name: &str,
        description: Option<String>,
        version: Option<String>,
    ) -> Answer<(u64, String)> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(Refusal::Malformed(
                "A runner's name is 1 to 100 characters, without control characters.".into(),
            ));
        }
        let mut s = self.saved.edit();
        if !same(registration_token, &s.registration_token) {
            return Err(Refusal::UnknownRegistrationToken);
        }
        if s.runners.iter().any(|r| r.name == name) {
            return Err(Refusal::NameTaken(name.to_string()));
        }
        s.next_id += 1;
        let (id, t) = (s.next_id, token("ptrt"));
        s.runners.push(Runner {
            id,
            name: name.to_string(),
            description,
            token: t.clone(),
            registered: now(),
            last_contact: now(),
            version,
        });
        tracing::info!("runner {name} registered (number {id})");
        Ok((id, t))
    }

    /// The runner with this token, now in contact.
    pub fn runner(&self, token: &str) -> Answer<Runner> {
        let mut s = self.saved.transient();
        // Every token is compared, in constant time each.
        let found = s.runners.iter_mut().fold(None, |found, r| {
            if same(token, &r.token) {
                Some(r)
            } else {
                found
            }
        });
        let r = found.ok_or(Refusal::UnknownRunnerToken)?;
        r.last_contact = now();
        Ok(r.clone())
    }

    /// `POST /api/v1/runners/unregister`, and `remove` from the page: its
    /// jobs go back to the queue.
    pub async fn unregister(&self, token: &str) -> Answer<()> {
        let r = self.runner(token)?;
        self.remove(r.id).await;
        Ok(())
    }

    /// Forgets runner `id`; a job it had is queued again. Whether it was
    /// registered.
    pub async fn remove(&self, id: u64) -> bool {
        let gone = {
            let mut s = self.saved.edit();
            let before = s.runners.len();
            s.runners.retain(|r| r.id != id);
            s.runners.len() < before
        };
        let jobs: Vec<u64> = {
            let mut handed = self.handed.locked();
            let ids: Vec<u64> = handed
                .iter()
                .filter(|(_, h)| h.runner == id)
                .map(|(j, _)| *j)
                .collect();
            for j in &ids {
                handed.remove(j);
            }
            ids
        };
        for j in jobs {
            self.jobs.runner_gave_back(j, None).await;
        }
        if gone {
            tracing::info!("runner {id} was removed");
            self.saved.save().await;
        }
        gone
    }

    /// `POST /api/v1/runners/jobs/request`: what it may take now.
    pub fn request(&self, token: &str) -> Answer<Vec<Offer>> {
        self.runner(token)?;
        Ok(self.jobs.offers())
    }

    /// `POST /api/v1/runners/jobs/{uuid}/accept`.
    pub async fn accept(&self, uuid: &str, token: &str) -> Answer<Accepted> {
        let runner = self.runner(token)?;
        let id = job_id(uuid).ok_or(Refusal::UnknownJob)?;
        self.jobs.get(id).ok_or(Refusal::UnknownJob)?;
        let offer = self
            .jobs
            .hand_to_runner(id, &runner.name)
            .await
            .ok_or(Refusal::NotPending)?;
        let job_token = token_for_job();
        self.handed.locked().insert(
            id,
            Handed {
                runner: runner.id,
                token: job_token.clone(),
                last_update: Instant::now(),
                progress: None,
            },
        );
        Ok(Accepted {
            uuid: uuid.to_string(),
            token: job_token,
            offer,
        })
    }

    /// The job a runner names with both tokens, if it has it now.
    fn check(&self, uuid: &str, runner_token: &str, job_token: &str) -> Answer<u64> {
        let runner = self.runner(runner_token)?;
        let id = job_id(uuid).ok_or(Refusal::UnknownJob)?;
        let job = self.jobs.get(id).ok_or(Refusal::UnknownJob)?;
        let handed = self.handed.locked();
        match handed.get(&id) {
            Some(h)
                if h.runner == runner.id
                    && same(job_token, &h.token)
                    && job.runner.as_deref() == Some(runner.name.as_str()) =>
            {
                Ok(id)
            }
            _ => Err(Refusal::NotProcessing),
        }
    }

    /// The source file a runner may download: only its own job's.
    pub fn input(&self, uuid: &str, runner_token: &str, job_token: &str) -> Answer<String> {
        let id = self.check(uuid, runner_token, job_token)?;
        self.touch(id, None);
        self.jobs
            .get(id)
            .map(|j| j.source)
            .ok_or(Refusal::UnknownJob)
    }

    fn touch(&self, id: u64, progress: Option<f64>) {
        if let Some(h) = self.handed.locked().get_mut(&id) {
            h.last_update = Instant::now();
            if progress.is_some() {
                h.progress = progress;
            }
        }
    }

    /// `POST …/update`: it is alive, and this far.
    pub fn update(
        &self,
        uuid: &str,
        runner_token: &str,
        job_token: &str,
        progress: Option<f64>,
    ) -> Answer<()> {
        let id = self.check(uuid, runner_token, job_token)?;
        self.touch(id, progress);
        if let Some(p) = progress {
            self.jobs.runner_progress(id, p);
        }
        Ok(())
    }

    /// Takes job `id` from the runner that had it.
    fn take_back(&self, id: u64) {
        self.handed.locked().remove(&id);
    }

    /// `POST …/error`: one failure more (after 5 the job fails).
    pub async fn error(
        &self,
        uuid: &str,
        runner_token: &str,
        job_token: &str,
        message: &str,
    ) -> Answer<()> {
        let id = self.check(uuid, runner_token, job_token)?;
        self.take_back(id);
        self.jobs.runner_gave_back(id, Some(message)).await;
        Ok(())
    }

    /// `POST …/abort`: back to the queue, no attempt counted.
    pub async fn abort(&self, uuid: &str, runner_token: &str, job_token: &str) -> Answer<()> {
        let id = self.check(uuid, runner_token, job_token)?;
        self.take_back(id);
        self.jobs.runner_gave_back(id, None).await;
        Ok(())
    }

    /// Checks the tokens of a `success` before its upload is read.
    pub fn may_send_result(&self, uuid: &str, runner_token: &str, job_token: &str) -> Answer<u64> {
        let id = self.check(uuid, runner_token, job_token)?;
        self.touch(id, None);
        Ok(id)
    }

    /// `POST …/success`, with the MP4 streamed to `video`: checked and
    /// completed on the Pi. A result that fails the checks counts as the
    /// runner's failure; the runner is told it was accepted either way
    /// (it has nothing to do again), and the job is offered again.
    pub async fn success(&self, id: u64, video: TempFile) {
        self.take_back(id);
        if let Err(why) = self.jobs.runner_finished(id, video).await {
            tracing::warn!("job {id}: the PC's result was refused: {why}");
        }
    }

    /// The queue the runners take from.
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// A socket.io connection of the runner with this token opened (`true`)
    /// or closed; the Pi's lane hears how many runners are connected.
    pub fn connected(&self, id: u64, open: bool) {
        let n = {
            let mut c = self.connected.locked();
            let e = c.entry(id).or_insert(0);
            if open {
                *e += 1;
            } else {
                *e = e.saturating_sub(1);
            }
            c.retain(|_, n| *n > 0);
            c.len()
        };
        self.jobs.set_runners_connected(n);
    }

    /// Takes back jobs whose runner said nothing for `--runner-stall`,
    /// until `stop`.
    pub async fn watchdog(self: Arc<Self>, stop: CancellationToken) {
        let every = (self.stall / 4).clamp(Duration::from_millis(250), Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let stalled: Vec<u64> = {
                let mut handed = self.handed.locked();
                let ids: Vec<u64> = handed
                    .iter()
                    .filter(|(_, h)| h.last_update.elapsed() > self.stall)
                    .map(|(id, _)| *id)
                    .collect();
                for id in &ids {
                    handed.remove(id);
                }
                ids
            };
            for id in stalled {
                tracing::warn!(
                    "job {id}: its PC said nothing for {} s; it goes back to the queue",
                    self.stall.as_secs()
                );
                self.jobs.runner_gave_back(id, None).await;
            }
        }
    }

    /// Writes `runners.json` behind, until `stop`.
    pub fn writer(&self, stop: CancellationToken) -> impl std::future::Future<Output = ()> {
        self.saved.clone().run(stop)
    }
}

fn token_for_job() -> String {
    token("ptrjt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_uuids_round_trip_and_refuse_others() {
        for id in [1, 42, 0xffff_ffff_ffff] {
            assert_eq!(job_id(&job_uuid(id)), Some(id));
        }
        assert_eq!(job_id("00000000-0000-4000-8000-00000000002"), None);
        assert_eq!(job_id("../../etc/passwd"), None);
    }

    #[tokio::test]
    async fn registration_tokens_and_runner_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = crate::jobs::testing::jobs(dir.path());
        let r = Runners::load(dir.path(), jobs, Duration::from_secs(120));
        let reg = r.registration_token();
        assert!(reg.starts_with("ptrrt-") && reg.len() > 30);
        assert_eq!(
            r.register("ptrrt-wrong", "pc", None, None),
            Err(Refusal::UnknownRegistrationToken)
        );
        let (id, t) = r.register(&reg, "pc", None, None).unwrap();
        assert!(t.starts_with("ptrt-"));
        assert_eq!(r.runner(&t).unwrap().id, id);
        assert!(matches!(
            r.register(&reg, "pc", None, None),
            Err(Refusal::NameTaken(_))
        ));
        let new = r.new_registration_token();
        assert_ne!(new, reg);
        assert_eq!(
            r.register(&reg, "other", None, None),
            Err(Refusal::UnknownRegistrationToken),
            "the old token stops working"
        );
        assert!(r.runner(&t).is_ok(), "registered runners keep theirs");
        assert!(r.remove(id).await);
        assert_eq!(r.runner(&t).unwrap_err(), Refusal::UnknownRunnerToken);
        assert_eq!(
            r.accept(&job_uuid(1), &t).await.unwrap_err(),
            Refusal::UnknownRunnerToken
        );
    }
}
