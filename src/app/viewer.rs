//! Who is watching (see `profiles::viewer`): found from what a browser
//! holds, chosen on "Who's watching?", and what they may reach by path.

use std::path::PathBuf;

use super::App;
use crate::error::{Error, Result};
use crate::profiles::{Profile, Seen, Viewer, Who};

/// What the signature of a browser's choice is for.
const CHOICE: &str = "profile";

impl App {
    /// Who is watching on a browser (`browser`: its id): the profile its
    /// device is kept to, else the one it chose (`choice`, as
    /// [`App::choose_profile`] signed it).
    pub fn viewer(&self, browser: Option<&str>, choice: Option<&str>) -> Viewer {
        if let Some(p) = self.kept_to(browser) {
            return Viewer {
                who: Who::Person(p),
                kept: true,
            };
        }
        let all = self.profiles.list();
        let chosen = choice
            .and_then(|c| self.auth.verified(CHOICE, c))
            .and_then(|id| id.parse::<u64>().ok())
            .and_then(|id| all.iter().find(|p| p.id == id));
        let who = match (chosen, all.len()) {
            (Some(p), _) => Who::Person(p.clone()),
            (None, 0 | 1) => Who::Household,
            (None, _) => Who::Unchosen,
        };
        Viewer { who, kept: false }
    }

    /// The profile the browser's device is kept to, if it is.
    fn kept_to(&self, browser: Option<&str>) -> Option<Profile> {
        let device = self.devices.get(browser?)?;
        self.profiles.get(device.profile?)
    }

    /// Chooses the profile `id` on a browser: the signed choice for the
    /// browser to keep. A wrong PIN is counted and slowed as a wrong
    /// password is (`client`: where it came from).
    pub fn choose_profile(
        &self,
        browser: Option<&str>,
        id: &str,
        pin: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<String> {
        if let Some(kept) = self.kept_to(browser) {
            return Err(Error::Forbidden(format!(
                "This device is kept to {} (on the Devices page).",
                kept.name
            )));
        }
        let p = id
            .parse::<u64>()
            .ok()
            .and_then(|id| self.profiles.get(id))
            .ok_or(Error::NotFound)?;
        if p.has_pin {
            let right = self.auth.slowed(client, "profile PIN", || {
                self.profiles.pin_matches(p.id, pin)
            });
            match right {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Error::Forbidden(format!("That is not {}'s PIN.", p.name)))
                }
                Err(wait) => {
                    return Err(Error::TooMany {
                        retry_after: wait,
                        message: format!("Too many wrong PINs: try again in {wait} seconds."),
                    })
                }
            }
        }
        Ok(self.auth.signed(CHOICE, &p.id.to_string()))
    }

    /// The file on disk a path its viewer may see names, or `None` for
    /// one that is not there (or hidden).
    pub async fn file_of(&self, seen: &Seen) -> Option<PathBuf> {
        self.household_file(&crate::paths::encode_url_path(seen.path()))
            .await
    }

    /// The poster named `name` (`/thumbs/{name}.jpg`), when it is the
    /// poster of a video the viewer sees.
    pub fn poster_for(&self, viewer: &Viewer, name: &str) -> Option<PathBuf> {
        let file = self.library.poster_file(name)?;
        if viewer.within().0.is_empty() {
            return Some(file);
        }
        let id = crate::library::parse_poster_name(name)?;
        let shown = self.library.with_poster(id);
        shown.iter().any(|p| viewer.sees(p)).then_some(file)
    }
}
