//! The people in the house: a name, a colour, an optional 4-digit PIN
//! and, for a child, the folders they may see. Kept in `profiles.json`
//! through the one store, made, changed and removed from the phone.
//!
//! Built on: the profiles themselves, their API, "Who's watching?"
//! (`web/profiles.rs`), who is watching on a browser and what they may
//! see ([`Viewer`], decided once per request), each person's places
//! (`positions.rs`); each person's language, size and Quality choices are
//! kept apart by `player.js`; a device may be kept to one (`devices`).
//! A limited profile's folders follow their renames and moves (`manage`
//! calls [`Profiles::moved`]).

mod viewer;

pub use viewer::{Seen, Viewer, Who};

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::Store;

/// A name is at most this many characters.
const MAX_NAME: usize = 40;
/// At most this many profiles (a household, not a school).
const MAX_PROFILES: usize = 32;
/// Profiles change rarely: each change is written at once.
const WRITE_EVERY: Duration = Duration::from_millis(100);

/// One person, as saved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Saved {
    id: u64,
    name: String,
    color: String,
    /// `salt:sha256(salt + pin)` in hex, when a PIN is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pin: Option<String>,
    /// Empty: every folder.
    #[serde(default)]
    folders: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct All {
    next_id: u64,
    profiles: Vec<Saved>,
}

/// A profile as pages and `/api/profiles` show it: never its PIN.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Profile {
    pub id: u64,
    pub name: String,
    pub color: String,
    /// Limited to `folders`.
    pub limited: bool,
    pub folders: Vec<String>,
    /// Asks for a PIN when chosen.
    pub has_pin: bool,
}

impl From<&Saved> for Profile {
    fn from(s: &Saved) -> Profile {
        Profile {
            id: s.id,
            name: s.name.clone(),
            color: s.color.clone(),
            limited: !s.folders.is_empty(),
            folders: s.folders.clone(),
            has_pin: s.pin.is_some(),
        }
    }
}

impl Profile {
    /// What this profile sees of the library.
    pub fn within(&self) -> crate::library::Within {
        crate::library::Within(self.folders.clone())
    }
}

/// What a form or JSON asks to set; what it leaves out stays.
#[derive(Debug, Default, Clone)]
pub struct Change {
    pub name: Option<String>,
    pub color: Option<String>,
    /// Four digits, or empty to have none.
    pub pin: Option<String>,
    /// Library folders; empty for every folder.
    pub folders: Option<Vec<String>>,
}

pub struct Profiles {
    store: Store<All>,
}

impl Profiles {
    /// Loads `profiles.json`; an unreadable one is moved aside. Blocking.
    pub fn load(state_dir: &Path) -> Profiles {
        Profiles {
            store: Store::load(state_dir.join("profiles.json"), "profiles", WRITE_EVERY),
        }
    }

    pub fn list(&self) -> Vec<Profile> {
        self.store
            .get()
            .profiles
            .iter()
            .map(Profile::from)
            .collect()
    }

    pub fn get(&self, id: u64) -> Option<Profile> {
        self.store
            .get()
            .profiles
            .iter()
            .find(|p| p.id == id)
            .map(Profile::from)
    }

    /// Makes a profile; `is_folder` says which folders the library has.
    pub async fn add(&self, change: Change, is_folder: impl Fn(&str) -> bool) -> Result<Profile> {
        let name = change
            .name
            .clone()
            .ok_or_else(|| Error::BadRequest("A profile needs a name.".into()))?;
        let made = {
            let mut all = self.store.edit();
            if all.profiles.len() >= MAX_PROFILES {
                return Err(Error::BadRequest(format!(
                    "There are {MAX_PROFILES} profiles already; remove one first."
                )));
            }
            let mut p = Saved {
                id: all.next_id + 1,
                name: checked_name(&name, &all.profiles, None)?,
                color: String::new(),
                pin: None,
                folders: Vec::new(),
            };
            p.color = match &change.color {
                Some(c) => checked_color(c)?,
                None => PALETTE[all.profiles.len() % PALETTE.len()].to_string(),
            };
            apply_pin_and_folders(&mut p, &change, &is_folder)?;
            all.next_id += 1;
            all.profiles.push(p.clone());
            p
        };
        self.store.save().await;
        tracing::info!("profile {} made: {}", made.id, made.name);
        Ok(Profile::from(&made))
    }

    /// Changes a profile's name, colour, PIN or folders.
    pub async fn change(
        &self,
        id: u64,
        change: Change,
        is_folder: impl Fn(&str) -> bool,
    ) -> Result<Profile> {
        let changed = {
            let mut all = self.store.edit();
            let others: Vec<Saved> = all.profiles.clone();
            let p = all
                .profiles
                .iter_mut()
                .find(|p| p.id == id)
                .ok_or(Error::NotFound)?;
            let mut next = p.clone();
            if let Some(name) = &change.name {
                next.name = checked_name(name, &others, Some(id))?;
            }
            if let Some(color) = &change.color {
                next.color = checked_color(color)?;
            }
            apply_pin_and_folders(&mut next, &change, &is_folder)?;
            *p = next.clone();
            next
        };
        self.store.save().await;
        Ok(Profile::from(&changed))
    }

    /// Removes a profile.
    pub async fn remove(&self, id: u64) -> Result<Profile> {
        let gone = {
            let mut all = self.store.edit();
            let at = all
                .profiles
                .iter()
                .position(|p| p.id == id)
                .ok_or(Error::NotFound)?;
            all.profiles.remove(at)
        };
        self.store.save().await;
        tracing::info!("profile {} removed: {}", gone.id, gone.name);
        Ok(Profile::from(&gone))
    }

    /// Follows renames and moves (each a file, or a folder ending in
    /// `/`, as `manage` says them): a folder a profile is limited to
    /// keeps its person under its new name, and a new folder that takes
    /// the old name is not theirs. Durable before it returns.
    pub async fn moved(&self, moves: &[(String, String)]) {
        let followed = self.store.change(|all| {
            let mut followed = false;
            for folder in all.profiles.iter_mut().flat_map(|p| p.folders.iter_mut()) {
                if let Some(to) = folder_after(folder, moves) {
                    *folder = to;
                    followed = true;
                }
            }
            followed
        });
        if followed {
            self.store.save().await;
        }
    }

    /// Whether `pin` is the profile's (true for one without a PIN).
    pub fn pin_matches(&self, id: u64, pin: &str) -> bool {
        let all = self.store.get();
        match all.profiles.iter().find(|p| p.id == id) {
            Some(p) => p.pin.as_deref().is_none_or(|saved| pin_is(saved, pin)),
            None => false,
        }
    }
}

/// Colours a new profile gets in turn: far apart, readable with white
/// text on a TV.
const PALETTE: [&str; 6] = [
    "#1e88e5", "#e53935", "#43a047", "#8e24aa", "#fb8c00", "#00897b",
];

fn checked_name(name: &str, all: &[Saved], this: Option<u64>) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!(
            "A profile's name is 1 to {MAX_NAME} characters, without control characters."
        )));
    }
    let taken = all
        .iter()
        .any(|p| Some(p.id) != this && p.name.to_lowercase() == name.to_lowercase());
    if taken {
        return Err(Error::BadRequest(format!(
            "There is a profile named {name} already."
        )));
    }
    Ok(name.to_string())
}

/// `#rrggbb`, as a colour input sends it.
fn checked_color(color: &str) -> Result<String> {
    let c = color.trim().to_lowercase();
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(Error::BadRequest(format!(
            "The colour '{color}' is not a colour such as #1e88e5."
        )));
    }
    Ok(c)
}

fn apply_pin_and_folders(
    p: &mut Saved,
    change: &Change,
    is_folder: &impl Fn(&str) -> bool,
) -> Result<()> {
    match change.pin.as_deref().map(str::trim) {
        None => {}
        Some("") => p.pin = None,
        Some(pin) if pin.len() == 4 && pin.bytes().all(|b| b.is_ascii_digit()) => {
            p.pin = Some(pin_hash(pin)?);
        }
        Some(_) => {
            return Err(Error::BadRequest(
                "A PIN is 4 digits, or empty for none.".into(),
            ))
        }
    }
    if let Some(folders) = &change.folders {
        let mut kept: Vec<String> = Vec::new();
        for f in folders {
            let f = f.trim().trim_matches('/');
            if f.is_empty() || kept.iter().any(|k| k == f) {
                continue;
            }
            if !is_folder(f) {
                return Err(Error::BadRequest(format!(
                    "There is no folder '{f}' in the library."
                )));
            }
            kept.push(f.to_string());
        }
        p.folders = kept;
    }
    Ok(())
}

/// Where the folder `folder` is after `moves`, when they take it along.
fn folder_after(folder: &str, moves: &[(String, String)]) -> Option<String> {
    let to = crate::paths::renamed(&format!("{folder}/"), moves)?;
    Some(to.trim_end_matches('/').to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pin_hash(pin: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::Internal(format!("no random bytes: {e}")))?;
    let salt = hex(&salt);
    let digest = Sha256::digest(format!("{salt}{pin}").as_bytes());
    Ok(format!("{salt}:{}", hex(&digest)))
}

fn pin_is(saved: &str, pin: &str) -> bool {
    use subtle::ConstantTimeEq;
    let Some((salt, want)) = saved.split_once(':') else {
        return false;
    };
    let got = hex(&Sha256::digest(format!("{salt}{pin}").as_bytes()));
    got.as_bytes().ct_eq(want.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str) -> Change {
        Change {
            name: Some(name.into()),
            ..Change::default()
        }
    }

    #[tokio::test]
    async fn profiles_are_made_changed_and_removed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let folders = |f: &str| ["Kids", "Cartoons", "Films/Old"].contains(&f);
        let p = Profiles::load(dir.path());
        let anna = p.add(change("Anna"), folders).await.unwrap();
        assert_eq!((anna.id, anna.limited, anna.has_pin), (1, false, false));
        assert!(anna.color.starts_with('#'));
        let kids = Change {
            color: Some("#FFAA00".into()),
            pin: Some("1234".into()),
            folders: Some(vec!["Kids/".into(), "Cartoons".into(), "Kids".into()]),
            ..change("Kids")
        };
        let kids = p.add(kids, folders).await.unwrap();
        assert_eq!(kids.folders, ["Kids", "Cartoons"]);
        assert!(kids.limited && kids.has_pin);
        assert_eq!(kids.color, "#ffaa00");
        assert!(p.pin_matches(kids.id, "1234"));
        assert!(!p.pin_matches(kids.id, "4321"));
        assert!(p.pin_matches(anna.id, ""));
        // Refused, and nothing changed.
        for bad in [
            change("anna"),
            change(" "),
            change(&"x".repeat(41)),
            Change {
                pin: Some("12a4".into()),
                ..change("Ben")
            },
            Change {
                color: Some("red;}".into()),
                ..change("Ben")
            },
            Change {
                folders: Some(vec!["../etc".into()]),
                ..change("Ben")
            },
        ] {
            assert!(matches!(
                p.add(bad.clone(), folders).await,
                Err(Error::BadRequest(_))
            ));
        }
        assert_eq!(p.list().len(), 2);
        let renamed = p
            .change(
                kids.id,
                Change {
                    pin: Some(String::new()),
                    ..change("Children")
                },
                folders,
            )
            .await
            .unwrap();
        assert_eq!(renamed.name, "Children");
        assert!(!renamed.has_pin && renamed.limited);
        assert!(matches!(
            p.change(99, change("X"), folders).await,
            Err(Error::NotFound)
        ));
        drop(p);
        // Kept in the state dir; the PIN never leaves it in the clear.
        let saved = std::fs::read_to_string(dir.path().join("profiles.json")).unwrap();
        assert!(!saved.contains("1234"));
        let p = Profiles::load(dir.path());
        assert_eq!(p.list().len(), 2);
        p.remove(anna.id).await.unwrap();
        assert_eq!(p.list().iter().map(|x| x.id).collect::<Vec<_>>(), [kids.id]);
        assert!(matches!(p.remove(anna.id).await, Err(Error::NotFound)));
    }

    #[tokio::test]
    async fn a_profiles_folders_follow_their_renames_and_moves() {
        let dir = tempfile::tempdir().unwrap();
        let folders = |f: &str| ["Kids", "Films/Cartoons", "Kidsville"].contains(&f);
        let p = Profiles::load(dir.path());
        let limited = Change {
            folders: Some(vec!["Kids".into(), "Films/Cartoons".into()]),
            ..change("Kids")
        };
        let kids = p.add(limited, folders).await.unwrap();
        let other = Change {
            folders: Some(vec!["Kidsville".into()]),
            ..change("Ben")
        };
        p.add(other, folders).await.unwrap();
        let moves = |from: &str, to: &str| vec![(format!("{from}/"), format!("{to}/"))];
        p.moved(&moves("Kids", "Children")).await;
        p.moved(&moves("Films", "Movies")).await;
        // A video's own rename is no folder's.
        p.moved(&[("Children".into(), "Kids".into())]).await;
        let now = p.get(kids.id).unwrap();
        assert_eq!(now.folders, ["Children", "Movies/Cartoons"]);
        assert_eq!(p.list()[1].folders, ["Kidsville"]);
        drop(p);
        // On disk before `moved` returned.
        let p = Profiles::load(dir.path());
        assert_eq!(
            p.get(kids.id).unwrap().folders,
            ["Children", "Movies/Cartoons"]
        );
    }
}
