//! Jobs follow their files: a rename or move takes a file's jobs along,
//! the trash takes them out and a restore puts them back, and a file
//! being converted is not moved at all.

use super::{shows, Job, Jobs, State};
use crate::media::Conversion;

impl Jobs {
    /// Whether any of these files is being converted right now.
    pub fn running_for(&self, paths: &[String]) -> bool {
        let s = self.saved.get();
        s.jobs.iter().any(|j| {
            j.state == State::Running
                && (paths.contains(&j.source)
                    || j.output.as_ref().is_some_and(|o| paths.contains(o)))
        })
    }

    /// Renamed files keep their jobs (`from` -> `to`, each a file or a
    /// folder ending in `/`).
    pub async fn moved(&self, moves: &[(String, String)]) {
        {
            let mut s = self.saved.edit();
            for j in s.jobs.iter_mut() {
                if let Some(to) = crate::paths::renamed(&j.source, moves) {
                    j.source = to;
                }
                if let Some(to) = j
                    .output
                    .as_deref()
                    .and_then(|o| crate::paths::renamed(o, moves))
                {
                    j.output = Some(to);
                }
            }
        }
        self.save().await;
    }

    /// The jobs of these files, as they are now.
    pub fn snapshot_for(&self, paths: &[String]) -> Vec<Job> {
        let s = self.saved.get();
        s.jobs
            .iter()
            .filter(|j| {
                paths.contains(&j.source) || j.output.as_ref().is_some_and(|o| paths.contains(o))
            })
            .cloned()
            .collect()
    }

    /// Takes out the jobs of these files (they go to the trash; none runs).
    pub async fn take_for(&self, paths: &[String]) -> Vec<Job> {
        let taken = {
            let mut s = self.saved.edit();
            let (taken, kept) = std::mem::take(&mut s.jobs)
                .into_iter()
                .partition(|j: &Job| {
                    paths.contains(&j.source)
                        || j.output.as_ref().is_some_and(|o| paths.contains(o))
                });
            s.jobs = kept;
            taken
        };
        self.save().await;
        taken
    }

    /// Puts jobs back (their files came back from the trash, and the
    /// library holds them again), and their sources show as before.
    pub async fn put_back(&self, jobs: Vec<Job>) {
        let lanes: Vec<Conversion> = jobs
            .iter()
            .filter(|j| j.state.is_queued())
            .map(|j| j.kind.conversion())
            .collect();
        shows::show_newest(&self.library, &jobs);
        {
            let mut s = self.saved.edit();
            s.jobs.extend(jobs);
            s.jobs.sort_by_key(|j| j.id);
        }
        self.save().await;
        for lane in lanes {
            self.wake(lane);
        }
        self.offer_news();
    }
}
