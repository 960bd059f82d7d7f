//! Jobs as they are saved in the state dir (`jobs.json`, through
//! [`crate::store::Store`]): written atomically before a job changes state
//! goes on, so a kill -9 or a power cut loses no state change.

use serde::{Deserialize, Serialize};

use crate::media::Conversion;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Queued,
        State::Running,
        State::Done,
        State::Failed,
        State::Cancelled,
    ];

    pub fn is_live(self) -> bool {
        matches!(self, State::Queued | State::Running)
    }

    /// The name pages, the API and `jobs.json` use (serde's too; a test
    /// holds them equal).
    pub fn name(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Done => "done",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    /// A remux copies the video; a transcode encodes it again.
    #[serde(default)]
    pub kind: Conversion,
    /// The encoder a transcode uses (after a hardware failure, libx264).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
    /// Why a running transcode is stopped for now ("the Pi is at 82 °C").
    /// Not saved: it is a fact about the moment.
    #[serde(skip)]
    pub paused: Option<String>,
    /// Who a transcode is for ("Living-room LG"), when it was queued.
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    pub made_for: Option<String>,
    /// The file to remux, relative to the media dir.
    pub source: String,
    /// The MP4 written, once done.
    pub output: Option<String>,
    pub state: State,
    /// 0 to 100, of the probed duration.
    pub progress: f64,
    pub speed: Option<f32>,
    pub eta_secs: Option<u64>,
    pub error: Option<String>,
    /// The source can't be made playable without re-encoding video.
    #[serde(default)]
    pub needs_transcode: bool,
    /// The last lines of ffmpeg's output, for a failed job.
    #[serde(default)]
    pub log: Vec<String>,
    /// What happens to each stream.
    #[serde(default)]
    pub plan: Vec<String>,
    #[serde(default)]
    pub attempts: u32,
    /// Unix seconds; a transient failure waits until then.
    #[serde(default)]
    pub not_before: u64,
    pub created: u64,
    pub finished: Option<u64>,
    /// The browser that started it, for its "ready to play" notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub dismissed: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Saved {
    pub next_id: u64,
    pub jobs: Vec<Job>,
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
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.name())
            );
        }
    }
}
