//! The Pi's health: while the SoC is hot, or its firmware says it is
//! throttling or under-voltage right now, transcodes pause (SIGSTOP) and
//! none starts; they go on (SIGCONT) once it is cool again. Remuxes, which
//! take seconds, are left alone.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Jobs;
use crate::media::ffmpeg::Control;
use crate::media::Conversion;
use crate::sync::Locked;

/// Pause above this, in °C ...
const HOT: f64 = 80.0;
/// ... and go on below this one.
const COOL: f64 = 70.0;
/// `get_throttled` bits that say "now": under-voltage, frequency capped,
/// throttled, soft temperature limit (bits 16–19 say "since boot").
const UNDER_VOLTAGE: u32 = 1 << 0;
const THROTTLED_NOW: u32 = (1 << 1) | (1 << 2) | (1 << 3);

/// Where the readings are; both settable so tests can use plain files.
#[derive(Debug, Clone)]
pub struct Sensors {
    /// Millidegrees Celsius (`/sys/class/thermal/thermal_zone0/temp`).
    pub temperature: PathBuf,
    /// The firmware's throttling flags as hex (`get_throttled`).
    pub throttled: PathBuf,
    pub every: Duration,
}

/// What the readings say about transcoding now.
#[derive(Debug, Clone, PartialEq)]
enum Reading {
    /// Too hot or throttling: why, in words.
    Hot(String),
    /// Below the lower mark, with no throttling.
    Cool,
    /// Between the marks: keep what was decided.
    Between,
}

fn read(temperature: Option<&str>, throttled: Option<&str>) -> Reading {
    let celsius = temperature
        .and_then(|t| t.trim().parse::<f64>().ok())
        .map(|m| m / 1000.0);
    let flags = throttled.and_then(|t| {
        let t = t.trim();
        u32::from_str_radix(t.strip_prefix("0x").unwrap_or(t), 16).ok()
    });
    if let Some(c) = celsius.filter(|c| *c > HOT) {
        return Reading::Hot(format!("the Pi is at {c:.0} °C"));
    }
    if let Some(f) = flags {
        if f & UNDER_VOLTAGE != 0 {
            return Reading::Hot("the Pi reports under-voltage (check its power supply)".into());
        }
        if f & THROTTLED_NOW != 0 {
            return Reading::Hot("the Pi's firmware is throttling it".into());
        }
    }
    match celsius {
        Some(c) if c >= COOL => Reading::Between,
        _ => Reading::Cool,
    }
}

impl Jobs {
    /// Why transcodes are paused now, if they are.
    pub fn paused(&self) -> Option<String> {
        self.paused.locked().clone()
    }

    /// Pauses running transcodes and holds back new ones (`Some(why)`), or
    /// lets them go on (`None`). Said again while the reason holds, so a
    /// transcode that started in between is stopped too.
    pub fn set_paused(&self, why: Option<String>) {
        let was = std::mem::replace(&mut *self.paused.locked(), why.clone());
        let transcodes: Vec<(u64, Arc<Control>)> = self
            .controls
            .locked()
            .iter()
            .filter(|(_, (kind, _))| kind.lane() == Conversion::Transcode)
            .map(|(id, (_, c))| (*id, c.clone()))
            .collect();
        for (id, c) in &transcodes {
            c.pause(why.is_some());
            self.update_quietly(*id, |j| j.paused = why.clone());
        }
        match (&was, &why) {
            (None, Some(w)) => tracing::warn!("transcodes paused: {w}"),
            (Some(_), None) => {
                tracing::info!("transcodes go on: the Pi is cool again");
                self.wake(Conversion::Transcode);
            }
            _ => {}
        }
    }
}

/// Watches the sensors until `stop`. Missing files (not a Pi) never pause.
pub async fn watch(jobs: Arc<Jobs>, sensors: Sensors, stop: CancellationToken) {
    loop {
        let (t, f) = tokio::join!(
            tokio::fs::read_to_string(&sensors.temperature),
            tokio::fs::read_to_string(&sensors.throttled)
        );
        match read(t.ok().as_deref(), f.ok().as_deref()) {
            Reading::Hot(why) => jobs.set_paused(Some(why)),
            Reading::Cool if jobs.paused().is_some() => jobs.set_paused(None),
            Reading::Cool | Reading::Between => {}
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(sensors.every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::queue::Claim;
    use crate::jobs::testing;
    use crate::jobs::JobKind;

    fn claimed(jobs: &Jobs, lane: Conversion) -> Option<String> {
        match jobs.claim(lane) {
            Claim::Job(j) => Some(j.source),
            _ => None,
        }
    }

    #[tokio::test]
    async fn while_hot_no_transcode_starts_a_running_one_is_paused_and_remuxes_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = testing::jobs(dir.path());
        let running = jobs
            .enqueue("long.mkv", JobKind::Transcode { made_for: None }, None)
            .await
            .unwrap();
        assert_eq!(
            claimed(&jobs, Conversion::Transcode).as_deref(),
            Some("long.mkv")
        );
        jobs.controls.locked().insert(
            running,
            (Conversion::Transcode, Arc::new(Control::default())),
        );
        jobs.enqueue("next.mkv", JobKind::Transcode { made_for: None }, None)
            .await;
        jobs.enqueue("quick.mkv", JobKind::Remux, None).await;

        let hot = "the Pi is at 82 °C".to_string();
        jobs.set_paused(Some(hot.clone()));
        assert_eq!(jobs.paused(), Some(hot.clone()));
        assert_eq!(jobs.get(running).unwrap().paused, Some(hot));
        assert_eq!(claimed(&jobs, Conversion::Transcode), None);
        assert_eq!(
            claimed(&jobs, Conversion::Remux).as_deref(),
            Some("quick.mkv")
        );

        jobs.set_paused(None);
        assert_eq!(jobs.get(running).unwrap().paused, None);
        // The transcode lane was woken, and takes the next one.
        tokio::time::timeout(Duration::from_secs(5), jobs.wake[1].notified())
            .await
            .expect("the transcode lane is woken when the Pi is cool");
        assert_eq!(
            claimed(&jobs, Conversion::Transcode).as_deref(),
            Some("next.mkv")
        );
    }

    #[test]
    fn hot_cool_and_in_between() {
        assert_eq!(
            read(Some("82345\n"), None),
            Reading::Hot("the Pi is at 82 °C".into())
        );
        assert_eq!(read(Some("75000"), Some("0")), Reading::Between);
        assert_eq!(read(Some("45000"), Some("0x0")), Reading::Cool);
        assert_eq!(read(None, None), Reading::Cool);
        assert!(
            matches!(read(Some("45000"), Some("0x50005")), Reading::Hot(w) if w.contains("under-voltage"))
        );
        assert!(matches!(read(None, Some("4")), Reading::Hot(w) if w.contains("throttling")));
        // Only "since boot" bits: nothing now.
        assert_eq!(read(Some("45000"), Some("50000")), Reading::Cool);
    }
}
