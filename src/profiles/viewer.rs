//! Who is watching on a browser, and what they may see: decided once per
//! request (the web layer's one filter asks [`crate::App::viewer`]) and
//! carried to every listing, lookup and file. A library path a route
//! names becomes a [`Seen`] only through [`Viewer::see`], so a route that
//! serves a path cannot be written without asking.

use super::Profile;
use crate::error::Error;
use crate::library::Within;
use crate::positions::Whose;

/// Who is watching on a browser.
#[derive(Debug, Clone, PartialEq)]
pub enum Who {
    /// Fewer than two profiles and none chosen: the house, as before
    /// profiles.
    Household,
    Person(Profile),
    /// Two or more profiles, and this browser has not chosen.
    Unchosen,
}

/// The person at a browser: who they are, and whether the browser's
/// device is kept to them (then they cannot switch).
#[derive(Debug, Clone, PartialEq)]
pub struct Viewer {
    pub who: Who,
    /// The device is kept to this person (on the Devices page).
    pub kept: bool,
}

impl Viewer {
    /// The house, before anyone is asked: everything, as without profiles.
    pub fn household() -> Viewer {
        Viewer {
            who: Who::Household,
            kept: false,
        }
    }

    /// The person, when one was chosen (or the device is kept to one).
    pub fn person(&self) -> Option<&Profile> {
        match &self.who {
            Who::Person(p) => Some(p),
            _ => None,
        }
    }

    /// Whether this browser must choose first ("Who's watching?").
    pub fn must_choose(&self) -> bool {
        self.who == Who::Unchosen
    }

    /// Whose positions are theirs.
    pub fn whose(&self) -> Whose {
        self.person().map(|p| p.id)
    }

    /// What they see of the library.
    pub fn within(&self) -> Within {
        self.person().map(Profile::within).unwrap_or_default()
    }

    /// Whether the video or folder at `path` is theirs to see.
    pub fn sees(&self, path: &str) -> bool {
        self.person().is_none_or(|p| p.within().sees(path))
    }

    /// `path` (a checked library path) as this viewer may reach it; for
    /// another folder's video, `NotFound`, as if it were not there.
    pub fn see(self, path: String) -> Result<Seen, Error> {
        if !self.sees(&path) {
            return Err(Error::NotFound);
        }
        Ok(Seen { viewer: self, path })
    }

    /// `Err` for a profile limited to some folders: it watches, it does
    /// not change the library nor reach the pages that do.
    pub fn may_change(&self) -> Result<(), Error> {
        match self.person() {
            Some(p) if p.limited => Err(Error::Forbidden(format!(
                "{} watches what is in their folders; changing the library needs another profile.",
                p.name
            ))),
            _ => Ok(()),
        }
    }
}

/// A library path that its viewer may see: made only by [`Viewer::see`].
#[derive(Debug, Clone)]
pub struct Seen {
    viewer: Viewer,
    path: String,
}

impl Seen {
    /// The library path (`Kids/Bluey.mp4`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Who asked for it.
    pub fn viewer(&self) -> &Viewer {
        &self.viewer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kids() -> Viewer {
        Viewer {
            who: Who::Person(Profile {
                id: 2,
                name: "Kids".into(),
                color: "#43a047".into(),
                limited: true,
                folders: vec!["Kids".into(), "Films/Cartoons".into()],
                has_pin: false,
            }),
            kept: false,
        }
    }

    #[test]
    fn a_limited_profile_sees_its_folders_and_nothing_else() {
        let v = kids();
        for mine in [
            "Kids/Bluey.mp4",
            "Kids/S1/E1.mp4",
            "Films/Cartoons/Pingu.mp4",
        ] {
            assert_eq!(v.clone().see(mine.into()).unwrap().path(), mine);
        }
        // A folder that only starts like one of theirs is another folder.
        for other in ["Films/Adult.mp4", "Kidsville/a.mp4", "Alone.mp4", "Films"] {
            assert!(matches!(v.clone().see(other.into()), Err(Error::NotFound)));
        }
        assert_eq!(v.whose(), Some(2));
        assert!(matches!(v.may_change(), Err(Error::Forbidden(_))));
    }

    #[test]
    fn the_house_and_an_unchosen_browser_see_everything_as_before_profiles() {
        for v in [
            Viewer::household(),
            Viewer {
                who: Who::Unchosen,
                kept: false,
            },
        ] {
            assert!(v.sees("Films/Adult.mp4"));
            assert_eq!(v.whose(), None);
            assert!(v.may_change().is_ok());
        }
        assert!(!Viewer::household().must_choose());
    }
}
