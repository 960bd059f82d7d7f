//! Which H.264 encoder transcodes use: `--encoder` when given, else the
//! best that encodes a one-frame trial here. Found once, in the background
//! just after start-up (the trials take a few hundred ms that the first
//! page need not wait for), and asked for by every transcode.

use tokio::sync::OnceCell;

use crate::media::{Encoder, Tools};

/// The encoder, once found.
pub(super) struct Discovery {
    found: OnceCell<Encoder>,
    /// `--encoder`.
    forced: Option<Encoder>,
    /// Off (`--transcode false`) or without a working ffmpeg nothing is
    /// tried: no transcode will run.
    tries: bool,
}

impl Discovery {
    pub(super) fn new(forced: Option<Encoder>, transcode: bool, tools: &Tools) -> Discovery {
        Discovery {
            found: OnceCell::new(),
            forced,
            tries: transcode && tools.problem().is_none(),
        }
    }

    /// The encoder, if found yet.
    pub(super) fn found(&self) -> Option<Encoder> {
        self.found.get().copied()
    }

    /// The encoder, running the trials the first time (off the async
    /// workers); later callers wait for the first.
    pub(super) async fn get(&self, tools: &Tools) -> Encoder {
        *self
            .found
            .get_or_init(|| async {
                if !self.tries {
                    return self.forced.unwrap_or_default();
                }
                let (tools, forced) = (tools.clone(), self.forced);
                crate::fsutil::blocking(move || choose(forced, |e| e.trial(&tools)))
                    .await
                    .unwrap_or_default()
            })
            .await
    }
}

/// `forced` if given (a failed trial is only logged: the user asked for
/// it), else the first of [`Encoder::BEST_FIRST`] whose `trial` passes,
/// else libx264. Says in the log which and why. Blocking.
fn choose(forced: Option<Encoder>, trial: impl Fn(Encoder) -> Result<(), String>) -> Encoder {
    if let Some(e) = forced {
        match trial(e) {
            Ok(()) => tracing::info!("transcodes use {} (--encoder)", e.name()),
            Err(why) => tracing::warn!(
                "transcodes use {} (--encoder), but it failed a one-frame trial: {why}",
                e.name()
            ),
        }
        return e;
    }
    for e in Encoder::BEST_FIRST {
        match trial(e) {
            Ok(()) => {
                tracing::info!(
                    "transcodes use {}, the best encoder that works here",
                    e.name()
                );
                return e;
            }
            Err(why) => tracing::info!("encoder {} is not usable here: {why}", e.name()),
        }
    }
    tracing::warn!("no H.264 encoder passed a one-frame trial; transcodes will try libx264");
    Encoder::X264
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A trial that passes for `works` and records what it was asked.
    fn trial<'a>(
        works: &'a [Encoder],
        asked: &'a Mutex<Vec<Encoder>>,
    ) -> impl Fn(Encoder) -> Result<(), String> + 'a {
        move |e| {
            asked.lock().unwrap().push(e);
            if works.contains(&e) {
                Ok(())
            } else {
                Err("no device".into())
            }
        }
    }

    #[test]
    fn the_best_that_passes_its_trial_is_chosen() {
        let asked = Mutex::new(Vec::new());
        let e = choose(None, trial(&[Encoder::Vaapi, Encoder::X264], &asked));
        assert_eq!(e, Encoder::Vaapi);
        assert_eq!(*asked.lock().unwrap(), [Encoder::V4l2m2m, Encoder::Vaapi]);
    }

    #[test]
    fn libx264_when_nothing_passes() {
        let asked = Mutex::new(Vec::new());
        assert_eq!(choose(None, trial(&[], &asked)), Encoder::X264);
        assert_eq!(asked.lock().unwrap().len(), 3);
    }

    #[test]
    fn the_forced_one_is_used_even_when_its_trial_fails() {
        let asked = Mutex::new(Vec::new());
        let e = choose(Some(Encoder::V4l2m2m), trial(&[Encoder::X264], &asked));
        assert_eq!(e, Encoder::V4l2m2m);
        assert_eq!(*asked.lock().unwrap(), [Encoder::V4l2m2m]);
    }

    #[tokio::test]
    async fn nothing_is_tried_when_transcodes_are_off_or_ffmpeg_is_missing() {
        let tools = Tools::default(); // no ffmpeg: a trial would fail
        let off = Discovery::new(Some(Encoder::Vaapi), false, &tools);
        assert_eq!(off.found(), None);
        assert_eq!(off.get(&tools).await, Encoder::Vaapi);
        assert_eq!(off.found(), Some(Encoder::Vaapi));
        let missing = Discovery::new(None, true, &tools);
        assert_eq!(missing.get(&tools).await, Encoder::X264);
    }
}
