//! Playback positions: where each video was left. The household's are
//! shared by every device (`positions.json`, as before profiles); a
//! profile's own are kept apart (`profile-positions.json`). A profile
//! reading a video it has no position of sees the household's, so nothing
//! is lost on the upgrade to profiles; its first save makes one its own.
//!
//! A player reports every 10 s. Each report is one line appended to
//! `positions.log` (about 100 bytes), not a rewrite of the files: they
//! take the log in (and it starts again) at start-up, once it passes
//! 1 MiB, when files move or a profile goes, and at shutdown. So an
//! evening of watching on every TV writes a few hundred kilobytes, however
//! many positions the house has.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::Store;
use crate::sync::Locked;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Position {
    /// Seconds into the video.
    pub position: f64,
    /// The video's length as the player knew it.
    pub duration: Option<f64>,
    /// Unix seconds.
    pub updated: u64,
    /// Counts reports, so two in the same second keep their order.
    #[serde(default)]
    pub seq: u64,
}

impl Position {
    /// Seen to (nearly) the end.
    pub fn watched(&self) -> bool {
        self.duration
            .is_some_and(|d| d > 0.0 && self.position >= d * 0.9)
    }

    /// Started and not finished: between 5 % and 95 % seen.
    pub fn in_progress(&self) -> bool {
        self.fraction().is_some_and(|f| (0.05..=0.95).contains(&f))
    }

    /// Fraction seen, 0 to 1, when the length is known.
    pub fn fraction(&self) -> Option<f64> {
        self.duration
            .filter(|d| *d > 0.0)
            .map(|d| (self.position / d).clamp(0.0, 1.0))
    }
}

/// Whose positions: the household's (`None`), or a profile's.
pub type Whose = Option<u64>;

/// One report, as a line of `positions.log`.
#[derive(Serialize, Deserialize)]
struct Logged {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    whose: Whose,
    path: String,
    #[serde(flatten)]
    at: Position,
}

impl Logged {
    /// The report in the household's positions or its profile's.
    fn put(
        &self,
        map: &mut HashMap<String, Position>,
        people: &mut HashMap<u64, HashMap<String, Position>>,
    ) {
        let own = match self.whose {
            None => map,
            Some(id) => people.entry(id).or_default(),
        };
        own.insert(self.path.clone(), self.at);
    }
}

/// The log is taken into the files once it is this big.
const LOG_FOLD: u64 = 1 << 20;

pub struct Positions {
    map: Arc<Store<HashMap<String, Position>>>,
    /// Reports since the files were last written, appended.
    log: std::sync::Mutex<Log>,
    /// Each profile's own, by its id.
    people: Arc<Store<HashMap<u64, HashMap<String, Position>>>>,
    /// The next report's [`Position::seq`]: one more than any loaded.
    next_seq: AtomicU64,
}

/// The files are written when the log is taken in, and on moves, at most
/// this often.
const WRITE_EVERY: Duration = Duration::from_secs(2);

impl Positions {
    /// Loads `positions.json`; an unreadable one is moved aside. Blocking.
    pub fn load(state_dir: &Path) -> Positions {
        let file = state_dir.join("positions.json");
        let map: Store<HashMap<String, Position>> =
            Store::load(file, "positions file", WRITE_EVERY);
        let people: Store<HashMap<u64, HashMap<String, Position>>> = Store::load(
            state_dir.join("profile-positions.json"),
            "profiles' positions file",
            WRITE_EVERY,
        );
        // Reports since the files were last written: taken in, in order;
        // a line cut off by a power cut is left out.
        let log = Log::open(state_dir.join("positions.log"));
        for l in &log.lines {
            l.put(&mut map.get(), &mut people.get());
        }
        if !log.lines.is_empty() {
            map.changed();
            people.changed();
        }
        let last = {
            let (m, p) = (map.get(), people.get());
            m.values()
                .chain(p.values().flat_map(|own| own.values()))
                .map(|p| p.seq)
                .max()
                .unwrap_or(0)
        };
        Positions {
            map: Arc::new(map),
            log: std::sync::Mutex::new(log),
            people: Arc::new(people),
            next_seq: AtomicU64::new(last + 1),
        }
    }

    /// Writes the files behind the changes until `stop`, and once more then.
    pub fn writer(&self, stop: CancellationToken) -> impl std::future::Future<Output = ()> {
        let (map, people) = (self.map.clone(), self.people.clone());
        async move {
            tokio::join!(map.run(stop.clone()), people.run(stop));
        }
    }

    /// Writes what changed since the last write, now (at shutdown).
    pub async fn flush(&self) {
        self.fold().await;
    }

    /// Writes the files with every report in them, then starts the log
    /// again.
    async fn fold(&self) {
        // Whatever the log holds is in memory: marked to be written.
        if self.log.locked().size > 0 {
            self.map.changed();
            self.people.changed();
        }
        self.map.save().await;
        self.people.save().await;
        self.log.locked().restart();
    }

    /// Where `whose` left a video: its own, else the household's.
    pub fn get(&self, whose: Whose, path: &str) -> Option<Position> {
        if let Some(id) = whose {
            if let Some(p) = self.people.get().get(&id).and_then(|own| own.get(path)) {
                return Some(*p);
            }
        }
        self.map.get().get(path).copied()
    }

    /// Records a position for `whose`: a line appended to the log now.
    pub async fn set(
        &self,
        whose: Whose,
        path: &str,
        position: f64,
        duration: Option<f64>,
    ) -> Position {
        let p = Position {
            position: position.max(0.0),
            duration: duration.filter(|d| d.is_finite() && *d > 0.0),
            updated: crate::fsutil::now(),
            seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
        };
        // In memory now; on disk as one appended line.
        let line = Logged {
            whose,
            path: path.to_string(),
            at: p,
        };
        line.put(&mut self.map.transient(), &mut self.people.transient());
        let full = self.log.locked().append(&line);
        if full {
            self.fold().await;
        }
        p
    }

    /// A removed profile's positions go with it.
    pub async fn forget(&self, id: u64) {
        self.people.change(|all| all.remove(&id));
        self.fold().await;
    }

    /// Positions of renamed files follow them (`from` -> `to`, each a file
    /// or a folder's prefix ending in `/`), everyone's, and are saved.
    pub async fn moved(&self, moves: &[(String, String)]) {
        self.map.change(|map| follow(map, moves));
        self.people
            .change(|all| all.values_mut().for_each(|own| follow(own, moves)));
        self.fold().await;
    }

    /// Videos `whose` started and did not finish
    /// ([`Position::in_progress`]), on any device, the most recently
    /// watched first: its own, and the household's of videos it has no
    /// position of.
    pub fn in_progress(&self, whose: Whose) -> Vec<(String, Position)> {
        let mut all: HashMap<String, Position> = self.map.get().clone();
        if let Some(id) = whose {
            if let Some(own) = self.people.get().get(&id) {
                all.extend(own.iter().map(|(k, p)| (k.clone(), *p)));
            }
        }
        let mut started: Vec<(String, Position)> =
            all.into_iter().filter(|(_, p)| p.in_progress()).collect();
        started.sort_by(|a, b| {
            (b.1.updated, b.1.seq)
                .cmp(&(a.1.updated, a.1.seq))
                .then(a.0.cmp(&b.0))
        });
        started
    }

    /// Each profile's own positions of these files, as they are now.
    pub fn snapshot_people(&self, paths: &[String]) -> Vec<(u64, String, Position)> {
        let all = self.people.get();
        all.iter()
            .flat_map(|(id, own)| {
                paths
                    .iter()
                    .filter_map(move |p| Some((*id, p.clone(), *own.get(p)?)))
            })
            .collect()
    }

    /// The positions of these files, as they are now.
    pub fn snapshot(&self, paths: &[String]) -> Vec<(String, Position)> {
        let map = self.map.get();
        paths
            .iter()
            .filter_map(|p| Some((p.clone(), *map.get(p)?)))
            .collect()
    }

    /// Takes everyone's positions of these files out (they go to the
    /// trash, with what [`Positions::snapshot`] and
    /// [`Positions::snapshot_people`] said of them).
    pub async fn take(&self, paths: &[String]) {
        self.map.change(|map| map.retain(|k, _| !paths.contains(k)));
        self.people.change(|all| {
            for own in all.values_mut() {
                own.retain(|k, _| !paths.contains(k));
            }
        });
        self.fold().await;
    }

    /// Puts positions back (restored from the trash): the household's and
    /// each profile's (a profile's id is never used again, so one removed
    /// since is no one's).
    pub async fn put_back(
        &self,
        positions: Vec<(String, Position)>,
        people: Vec<(u64, String, Position)>,
    ) {
        self.map.change(|map| map.extend(positions));
        self.people.change(|all| {
            for (id, path, p) in people {
                all.entry(id).or_default().insert(path, p);
            }
        });
        self.fold().await;
    }
}

/// `positions.log`: the reports since the files were last written.
struct Log {
    path: std::path::PathBuf,
    file: Option<std::fs::File>,
    size: u64,
    /// As read at start-up.
    lines: Vec<Logged>,
}

impl Log {
    fn open(path: std::path::PathBuf) -> Log {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        Log {
            size: text.len() as u64,
            path,
            file: None,
            lines,
        }
    }

    /// Appends a report (a small write to the page cache, fine on an
    /// async worker); whether the log is big enough to fold.
    fn append(&mut self, line: &Logged) -> bool {
        use std::io::Write;
        let Ok(mut text) = serde_json::to_vec(line) else {
            return false;
        };
        text.push(b'\n');
        if self.file.is_none() {
            self.file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .inspect_err(|e| tracing::warn!("cannot open {}: {e}", self.path.display()))
                .ok();
        }
        let Some(f) = self.file.as_mut() else {
            return false;
        };
        if f.write_all(&text).is_ok() {
            self.size += text.len() as u64;
        }
        self.size > LOG_FOLD
    }

    /// The files hold everything: the log starts again.
    fn restart(&mut self) {
        self.file = None;
        self.lines.clear();
        self.size = 0;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Moves the positions of renamed files in one map.
fn follow(map: &mut HashMap<String, Position>, moves: &[(String, String)]) {
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        if let Some(to) = crate::paths::renamed(&key, moves) {
            let p = map.remove(&key).expect("listed");
            map.insert(to, p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_profile_has_its_own_place_and_sees_the_households_until_then() {
        let dir = tempfile::tempdir().unwrap();
        // Before profiles: the household's place in the film.
        std::fs::write(
            dir.path().join("positions.json"),
            r#"{"film.mp4": {"position": 4200.0, "duration": 6000.0, "updated": 1}}"#,
        )
        .unwrap();
        let p = Positions::load(dir.path());
        let (anna, kid) = (Some(1), Some(2));
        // Everyone sees it at first.
        for whose in [None, anna, kid] {
            assert_eq!(p.get(whose, "film.mp4").unwrap().position, 4200.0);
            assert_eq!(p.in_progress(whose).len(), 1);
        }
        // The child watches from the start: the parent's place stays.
        p.set(kid, "film.mp4", 600.0, Some(6000.0)).await;
        p.set(kid, "cartoon.mp4", 300.0, Some(600.0)).await;
        assert_eq!(p.get(kid, "film.mp4").unwrap().position, 600.0);
        assert_eq!(p.get(anna, "film.mp4").unwrap().position, 4200.0);
        assert_eq!(p.get(None, "film.mp4").unwrap().position, 4200.0);
        let names = |whose| {
            p.in_progress(whose)
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(kid), ["cartoon.mp4", "film.mp4"]);
        assert_eq!(names(anna), ["film.mp4"]);
        // Moves follow everyone's; a removed profile's go with it.
        p.moved(&[("cartoon.mp4".into(), "Kids/cartoon.mp4".into())])
            .await;
        assert_eq!(p.get(kid, "Kids/cartoon.mp4").unwrap().position, 300.0);
        p.flush().await;
        let again = Positions::load(dir.path());
        assert_eq!(again.get(kid, "film.mp4").unwrap().position, 600.0);
        again.forget(2).await;
        assert_eq!(again.get(kid, "film.mp4").unwrap().position, 4200.0);
        assert!(again.get(kid, "Kids/cartoon.mp4").is_none());
    }
}

#[cfg(test)]
mod log_tests {
    use super::*;

    #[tokio::test]
    async fn reports_are_appended_and_taken_in_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let p = Positions::load(dir.path());
        p.set(Some(3), "film.mp4", 10.0, Some(100.0)).await;
        let snapshot = dir.path().join("positions.json");
        let before = std::fs::metadata(&snapshot).ok().map(|m| m.len());
        // An evening: a report every 10 s for four hours, on two TVs.
        for i in 0..1440 {
            p.set(None, "film.mp4", i as f64 * 10.0, Some(20_000.0))
                .await;
            p.set(Some(3), "other.mp4", i as f64 * 10.0, Some(20_000.0))
                .await;
        }
        let log = std::fs::metadata(dir.path().join("positions.log"))
            .unwrap()
            .len();
        assert!(log < LOG_FOLD && log > 100_000, "{log} bytes of log");
        // The files were not written for each report.
        assert_eq!(std::fs::metadata(&snapshot).ok().map(|m| m.len()), before);
        // A power cut: what the log says is there at the next start, a
        // line cut in half left out.
        drop(p);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("positions.log"))
            .unwrap();
        std::io::Write::write_all(&mut f, br#"{"path":"film.mp4","posi"#).unwrap();
        let again = Positions::load(dir.path());
        assert_eq!(again.get(None, "film.mp4").unwrap().position, 14390.0);
        assert_eq!(again.get(Some(3), "other.mp4").unwrap().position, 14390.0);
        assert_eq!(again.get(Some(3), "film.mp4").unwrap().position, 10.0);
        // Shutdown takes the log into the files.
        again.flush().await;
        assert!(!dir.path().join("positions.log").exists());
        let last = Positions::load(dir.path());
        assert_eq!(last.get(None, "film.mp4").unwrap().position, 14390.0);
    }
}
