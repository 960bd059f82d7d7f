//! The "ready to play" notice every page shows the browser whose upload
//! finished converting.

use super::door::Caller;
use crate::paths::encode_url_path;
use crate::App;

/// Done jobs this browser started, for the notice on every page.
pub struct Notice {
    pub id: u64,
    pub title: String,
    pub href: String,
}

pub fn notices(app: &App, caller: &Caller) -> Vec<Notice> {
    let Some(viewer) = &caller.browser else {
        return Vec::new();
    };
    app.jobs
        .notices_for(viewer)
        .into_iter()
        .filter_map(|j| {
            let out = j.output?;
            // A version is ready on its video's page, under Download.
            Some(match j.kind.version() {
                Some(v) => Notice {
                    id: j.id,
                    title: format!("{} — {}", crate::library::title_of(&j.source), v.label()),
                    href: format!("/watch/{}#download", encode_url_path(&j.source)),
                },
                None => Notice {
                    id: j.id,
                    title: crate::library::title_of(&out),
                    href: format!("/watch/{}", encode_url_path(&out)),
                },
            })
        })
        .collect()
}
