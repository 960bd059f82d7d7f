//! The browsers that watch, and what they play: each page reports its
//! browser's answers at most once a day, each player reports a file it
//! could not play, and the household target is what every counted device
//! plays (`--tv-codecs`, given, replaces all this). Conversions follow the
//! target through a watch channel, so no other module knows devices exist.

mod profile;

use crate::sync::Locked;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::fsutil::now;
use crate::media::{Stream, Target};
use crate::store::Store;
pub use profile::{key_of, Codec, CODECS};
use tokio_util::sync::CancellationToken;

const DAY: u64 = 24 * 3600;
/// A device counts by default when it opened the player this recently.
const COUNTED_FOR: u64 = 90 * DAY;
/// Names are shown in one line; longer ones are cut.
const MAX_NAME: usize = 60;
/// Reports need no password, so what a stranger can make of them is
/// bounded: devices kept, new ones per client an hour, answers taken per
/// device, and writes of the file.
pub const MAX_DEVICES: usize = 200;
pub const NEW_PER_CLIENT_HOUR: usize = 20;
const ANSWERS_EVERY: u64 = 60;
const WRITE_EVERY: Duration = Duration::from_secs(3);
/// Client addresses remembered for the hourly count, at most.
const CLIENTS_KEPT: usize = 4096;

/// One browser, known by the random id in its cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Device {
    /// The cookie's value: never shown, so no page can borrow another's.
    id: String,
    /// The number pages and the API name it by.
    pub number: u64,
    /// Given on the devices page; else one from the user agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    pub user_agent: String,
    pub first_seen: u64,
    pub last_seen: u64,
    /// When its report last came (at most once a day).
    #[serde(default)]
    pub last_report: Option<u64>,
    /// When it last opened the player.
    #[serde(default)]
    pub last_player: Option<u64>,
    /// Its browser's answer per codec key.
    #[serde(default)]
    pub said: BTreeMap<String, bool>,
    /// Codec keys whose files failed on its player.
    #[serde(default)]
    pub failed: BTreeSet<String>,
    /// Its screen in device pixels.
    #[serde(default)]
    pub screen: Option<[u32; 2]>,
    /// "Convert for this device", when set on the devices page.
    #[serde(default)]
    pub convert: Option<bool>,
    /// The profile it is pinned to (the children's TV never asks who is
    /// watching), set on the devices page.
    #[serde(default)]
    pub profile: Option<u64>,
}

impl Device {
    pub fn name(&self) -> String {
        self.given_name.clone().unwrap_or_else(|| self.auto_name())
    }

    /// The name its user agent gives ("LG webOS TV").
    pub fn auto_name(&self) -> String {
        profile::name_from_user_agent(&self.user_agent)
    }

    /// Conversions are made for it: as set, else whether it opened the
    /// player in the last 90 days.
    pub fn counted(&self, at: u64) -> bool {
        self.convert
            .unwrap_or_else(|| self.last_player.is_some_and(|t| t + COUNTED_FOR >= at))
    }

    pub fn target(&self) -> Target {
        profile::target_of(&self.said, &self.failed, self.screen)
    }

    /// Whether it plays codec `key` (as it said, less what failed).
    pub fn plays(&self, key: &str) -> bool {
        profile::plays(&self.said, &self.failed, key)
    }
}

/// What a page sends to `POST /api/devices/me`.
#[derive(Debug, Default, Deserialize)]
pub struct Report {
    /// `canPlayType` per codec key ("probably", "maybe", "").
    #[serde(default)]
    pub plays: Option<BTreeMap<String, String>>,
    /// `MediaSource.isTypeSupported` per codec key, where present.
    #[serde(default)]
    pub mse: BTreeMap<String, bool>,
    /// The screen in device pixels.
    #[serde(default)]
    pub screen: Option<[u32; 2]>,
    /// Sent from the player page.
    #[serde(default)]
    pub player: bool,
    /// A library path the player could not play.
    #[serde(default)]
    pub failed: Option<String>,
}

/// A change to one device from the devices page.
#[derive(Debug, Default, Deserialize)]
pub struct Change {
    pub name: Option<String>,
    pub convert: Option<bool>,
    /// Pinned to a profile, or to none (`Some(None)`).
    pub profile: Option<Option<u64>>,
}

#[derive(Default, Serialize, Deserialize)]
struct Saved {
    next_number: u64,
    devices: Vec<Device>,
}

pub struct Devices {
    saved: Arc<Store<Saved>>,
    /// `--tv-codecs`: when given, the target, whatever devices say.
    fixed: Option<Target>,
    target: watch::Sender<Target>,
    /// When each client address made its new devices, this last hour.
    arrivals: Mutex<HashMap<IpAddr, VecDeque<u64>>>,
}

impl Devices {
    /// Loads `devices.json` from the state dir (an unreadable one is moved
    /// aside and learning starts again).
    pub fn load(state_dir: &Path, fixed: Option<Target>) -> Devices {
        let file = state_dir.join("devices.json");
        let saved: Store<Saved> = Store::load(file, "devices file", WRITE_EVERY);
        let target = fixed.unwrap_or_else(|| household(&saved.get().devices, now()));
        Devices {
            saved: Arc::new(saved),
            fixed,
            target: watch::Sender::new(target),
            arrivals: Mutex::new(HashMap::new()),
        }
    }

    /// Writes the devices file behind the changes until `stop`, and once
    /// more then.
    pub fn writer(&self, stop: CancellationToken) -> impl std::future::Future<Output = ()> {
        self.saved.clone().run(stop)
    }

    /// Writes what changed since the last write, now (at shutdown).
    pub async fn flush(&self) {
        self.saved.save().await;
    }

    /// What conversions are made for now.
    pub fn target(&self) -> Target {
        *self.target.borrow()
    }

    /// The target now and every change to it.
    pub fn subscribe(&self) -> watch::Receiver<Target> {
        self.target.subscribe()
    }

    /// Whether the target is learned (no `--tv-codecs`).
    pub fn learning(&self) -> bool {
        self.fixed.is_none()
    }

    /// Every device, most recently seen first.
    pub fn list(&self) -> Vec<Device> {
        let mut v = self.saved.get().devices.clone();
        v.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.number.cmp(&b.number)));
        v
    }

    pub fn get(&self, id: &str) -> Option<Device> {
        let s = self.saved.get();
        s.devices.iter().find(|d| d.id == id).cloned()
    }

    /// Whether the browser with this id should report again (unknown, or
    /// its last report is a day old).
    pub fn report_due(&self, id: Option<&str>) -> bool {
        id.and_then(|id| self.get(id))
            .and_then(|d| d.last_report)
            .is_none_or(|t| t + DAY <= now())
    }

    /// Records what a page said about its browser. `failed`, the codec key
    /// of a file its player could not play, marks it as not playing that.
    /// A browser not seen before is a new device: at most
    /// [`NEW_PER_CLIENT_HOUR`] from one `client` an hour (`429` after),
    /// and of [`MAX_DEVICES`] the longest unseen that never opened the
    /// player makes room. A device's answers are taken once a minute at
    /// most; a failure always.
    pub async fn report(
        &self,
        id: &str,
        client: Option<IpAddr>,
        user_agent: &str,
        report: &Report,
        failed: Option<&str>,
    ) -> Result<Device> {
        let t = now();
        let known = self.saved.get().devices.iter().any(|d| d.id == id);
        if !known {
            self.arrived(client, t)?;
        }
        let device = self.saved.change(|s| {
            let i = match s.devices.iter().position(|d| d.id == id) {
                Some(i) => i,
                None => {
                    s.next_number += 1;
                    s.devices.push(Device {
                        id: id.to_string(),
                        number: s.next_number,
                        given_name: None,
                        user_agent: String::new(),
                        first_seen: t,
                        last_seen: t,
                        last_report: None,
                        last_player: None,
                        said: BTreeMap::new(),
                        failed: BTreeSet::new(),
                        screen: None,
                        convert: None,
                        profile: None,
                    });
                    make_room(&mut s.devices);
                    s.devices.len() - 1
                }
            };
            let d = &mut s.devices[i];
            d.last_seen = t;
            d.user_agent = user_agent.chars().take(512).collect();
            if report.player || failed.is_some() {
                d.last_player = Some(t);
            }
            let answers_due = d.last_report.is_none_or(|r| r + ANSWERS_EVERY <= t);
            if let Some(plays) = report.plays.as_ref().filter(|_| answers_due) {
                d.said = CODECS
                    .iter()
                    .map(|c| {
                        let answer = plays.get(c.key).map_or("", String::as_str);
                        let yes = profile::answer_means_yes(answer, report.mse.get(c.key).copied());
                        (c.key.to_string(), yes)
                    })
                    .collect();
                d.screen = report.screen;
                d.last_report = Some(t);
            }
            if let Some(key) = failed {
                d.failed.insert(key.to_string());
            }
            d.clone()
        });
        self.retarget();
        Ok(device)
    }

    /// Counts a new device from `client`, or says when it may make one.
    fn arrived(&self, client: Option<IpAddr>, t: u64) -> Result<()> {
        let client = client.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let mut all = self.arrivals.locked();
        if all.len() >= CLIENTS_KEPT {
            all.retain(|_, times| times.back().is_some_and(|&last| last + 3600 > t));
        }
        let times = all.entry(client).or_default();
        while times.front().is_some_and(|&first| first + 3600 <= t) {
            times.pop_front();
        }
        if times.len() >= NEW_PER_CLIENT_HOUR {
            let wait = (times[0] + 3600).saturating_sub(t).max(1);
            return Err(Error::TooMany {
                retry_after: wait,
                message: format!(
                    "{NEW_PER_CLIENT_HOUR} new devices have reported from this address in the last hour; try again in {} minutes.",
                    wait.div_ceil(60)
                ),
            });
        }
        times.push_back(t);
        Ok(())
    }

    /// Notes that a known browser opened the player (the page needs no
    /// script for that). Saved when it changes whether the device counts,
    /// or once an hour.
    pub async fn opened_player(&self, id: &str) {
        let t = now();
        // Written when it changes whether the device counts, or once an
        // hour: a player opened again and again is not a write each time.
        let worth_a_write = {
            let mut s = self.saved.transient();
            let Some(d) = s.devices.iter_mut().find(|d| d.id == id) else {
                return;
            };
            let was = d.counted(t);
            let stale = d.last_player.is_none_or(|p| p + 3600 <= t);
            d.last_player = Some(t);
            d.last_seen = t;
            stale || was != d.counted(t)
        };
        if worth_a_write {
            self.saved.changed();
            self.retarget();
        }
    }

    /// Renames a device or sets whether conversions are made for it.
    pub async fn update(&self, number: u64, change: &Change) -> Result<Device> {
        let name = change.name.as_deref().map(clean_name);
        let device = self.saved.change(|s| {
            let d = s.devices.iter_mut().find(|d| d.number == number)?;
            if let Some(name) = &name {
                d.given_name = Some(name.clone()).filter(|n| !n.is_empty());
            }
            if let Some(on) = change.convert {
                d.convert = Some(on);
            }
            if let Some(profile) = change.profile {
                d.profile = profile;
            }
            Some(d.clone())
        });
        let device = device.ok_or(Error::NotFound)?;
        self.retarget();
        Ok(device)
    }

    /// A removed profile's devices are pinned to no one.
    pub fn unpin(&self, profile: u64) {
        self.saved.change(|s| {
            s.devices
                .iter_mut()
                .filter(|d| d.profile == Some(profile))
                .for_each(|d| d.profile = None)
        });
    }

    /// Forgets a device: it no longer counts until it reports again.
    pub async fn forget(&self, number: u64) -> Result<Device> {
        let gone = self.saved.change(|s| {
            let i = s.devices.iter().position(|d| d.number == number)?;
            Some(s.devices.remove(i))
        });
        let gone = gone.ok_or(Error::NotFound)?;
        self.retarget();
        Ok(gone)
    }

    /// Devices age out of the count after 90 days without opening the
    /// player: called now and then.
    pub fn refresh(&self) {
        self.retarget();
    }

    /// The counted devices that can't play this video stream as it is, by
    /// name; empty when the target is given with `--tv-codecs`.
    pub fn who_cannot_play(&self, video: &Stream) -> Vec<String> {
        if self.fixed.is_some() {
            return Vec::new();
        }
        let t = now();
        let s = self.saved.get();
        s.devices
            .iter()
            .filter(|d| d.counted(t) && d.target().video_problem(video).is_some())
            .map(Device::name)
            .collect()
    }

    fn retarget(&self) {
        if self.fixed.is_some() {
            return;
        }
        let target = household(&self.saved.get().devices, now());
        self.target.send_if_modified(|t| {
            let changed = *t != target;
            if changed {
                tracing::info!(
                    "the TVs here now play {} (was {})",
                    target.names(),
                    t.names()
                );
                *t = target;
            }
            changed
        });
    }
}

/// Over [`MAX_DEVICES`], the device that goes: the longest unseen of those
/// that never opened the player, else the longest unseen. Never the one
/// just added (the last).
fn make_room(devices: &mut Vec<Device>) {
    while devices.len() > MAX_DEVICES {
        let newest = devices.len() - 1;
        let Some(i) = devices[..newest]
            .iter()
            .enumerate()
            .min_by_key(|(_, d)| (d.last_player.is_some(), d.last_seen, d.number))
            .map(|(i, _)| i)
        else {
            return;
        };
        devices.remove(i);
    }
}

/// What every counted device plays; the baseline when none counts.
fn household(devices: &[Device], at: u64) -> Target {
    devices
        .iter()
        .filter(|d| d.counted(at))
        .map(Device::target)
        .reduce(Target::common)
        .unwrap_or_default()
}

/// A name from a form: one line, printable, not too long.
fn clean_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_NAME)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(number: u64, said: &[&str], player_days_ago: Option<u64>) -> Device {
        let t = now();
        Device {
            id: format!("{number:032x}"),
            number,
            given_name: None,
            user_agent: "Mozilla/5.0 (Web0S; Linux/SmartTV)".into(),
            first_seen: t,
            last_seen: t,
            last_report: Some(t),
            last_player: player_days_ago.map(|d| t - d * DAY),
            said: said.iter().map(|k| (k.to_string(), true)).collect(),
            failed: BTreeSet::new(),
            screen: None,
            convert: None,
            profile: None,
        }
    }

    #[test]
    fn the_household_plays_what_every_counted_device_plays() {
        let t = now();
        assert_eq!(household(&[], t), Target::default());
        let hevc_tv = device(1, &["hevc", "hevc10", "vp9"], Some(1));
        let old_tv = device(2, &["vp9"], Some(3));
        let phone = device(3, &[], None);
        let both = household(&[hevc_tv.clone(), old_tv.clone(), phone.clone()], t);
        assert!(!both.hevc && both.vp9, "the phone never opened the player");
        let mut unticked = old_tv.clone();
        unticked.convert = Some(false);
        assert!(household(&[hevc_tv.clone(), unticked], t).hevc);
        let stale = device(2, &[], Some(91));
        assert!(household(&[hevc_tv, stale], t).hevc, "90 days");
    }

    #[test]
    fn over_the_bound_the_longest_unseen_that_never_played_goes_first() {
        let mut all: Vec<Device> = (1..=MAX_DEVICES as u64)
            .map(|n| {
                let mut d = device(n, &[], (n % 2 == 0).then_some(1));
                d.last_seen -= 1000 - n;
                d
            })
            .collect();
        all.push(device(999, &[], None));
        make_room(&mut all);
        assert_eq!(all.len(), MAX_DEVICES);
        assert!(
            !all.iter().any(|d| d.number == 1),
            "the oldest never-player went"
        );
        assert!(all.iter().any(|d| d.number == 2), "a TV that played stays");
        assert!(all.iter().any(|d| d.number == 999), "the new one stays");
        // When every device opened the player, the longest unseen goes.
        let mut tvs: Vec<Device> = (1..=MAX_DEVICES as u64 + 1)
            .map(|n| {
                let mut d = device(n, &[], Some(1));
                d.last_seen -= 1000 - n;
                d
            })
            .collect();
        make_room(&mut tvs);
        assert_eq!(tvs[0].number, 2);
    }

    #[tokio::test]
    async fn reports_are_bounded_per_client_per_device_and_in_total() {
        let dir = tempfile::tempdir().unwrap();
        let devices = Devices::load(dir.path(), None);
        let one: IpAddr = "192.168.1.50".parse().unwrap();
        let answers = |yes: &[&str]| Report {
            plays: Some(
                yes.iter()
                    .map(|k| (k.to_string(), "probably".to_string()))
                    .collect(),
            ),
            ..Default::default()
        };
        let mut refused = 0;
        for n in 0..3000u32 {
            match devices
                .report(&format!("{n:032x}"), Some(one), "UA", &answers(&[]), None)
                .await
            {
                Ok(_) => {}
                Err(Error::TooMany { retry_after, .. }) => {
                    assert!(retry_after > 0 && retry_after <= 3600);
                    refused += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(refused, 3000 - NEW_PER_CLIENT_HOUR);
        assert_eq!(devices.list().len(), NEW_PER_CLIENT_HOUR);
        // A known device is never refused; its answers count once a minute.
        let id = format!("{:032x}", 0);
        let d = devices
            .report(&id, Some(one), "UA", &answers(&["hevc"]), None)
            .await
            .unwrap();
        assert!(
            !d.plays("hevc"),
            "answers again within the minute are not taken"
        );
        let d = devices
            .report(&id, Some(one), "UA", &Report::default(), Some("h264"))
            .await
            .unwrap();
        assert!(d.failed.contains("h264"), "a failure is always taken");
        // Many addresses: at most MAX_DEVICES are kept.
        for n in 0..1000u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            devices
                .report(
                    &format!("{:032x}", 10_000 + n),
                    Some(ip),
                    "UA",
                    &answers(&[]),
                    None,
                )
                .await
                .unwrap();
        }
        assert_eq!(devices.list().len(), MAX_DEVICES);
    }

    #[test]
    fn names_from_forms_are_one_clean_line() {
        assert_eq!(clean_name("  Living-room\n LG  "), "Living-room LG");
        assert_eq!(clean_name(&"x".repeat(100)).len(), MAX_NAME);
    }
}
