//! What the library learns when pimedia itself renames files (a rename, a
//! move into another folder, a delete to the trash): the entry, what
//! ffprobe said, the poster and the source/output pairing follow the
//! file, so nothing is probed or made again.

use crate::sync::{Locked, Shared};
use std::collections::HashSet;

use super::indexer::{poster_id, poster_name};
use super::listing::source_of;
use super::Library;
use crate::media::made::tv_version as output_path;

impl Library {
    /// Folder and name of the file a video's entry began as, without its
    /// extension: what a rename starts from.
    pub fn rename_base(&self, path: &str) -> String {
        let first = self
            .group_of(path)
            .into_iter()
            .next()
            .unwrap_or_else(|| path.to_string());
        match first.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() && !stem.ends_with('/') => stem.to_string(),
            _ => first,
        }
    }

    /// The files that make the entry `path` belongs to: the first source,
    /// then every version made from it (its MP4, that MP4's TV version…).
    pub fn group_of(&self, path: &str) -> Vec<String> {
        let index = self.index.reading();
        if !index.videos.contains_key(path) {
            return Vec::new();
        }
        let mut root = path.to_string();
        let mut seen = HashSet::from([root.clone()]);
        while let Some(source) = source_of(&index.videos, &index.remuxed, &root) {
            if !seen.insert(source.clone()) {
                break;
            }
            root = source;
        }
        let mut group = vec![root];
        let mut i = 0;
        while i < group.len() {
            let made = [
                index.remuxed.get(&group[i]).cloned(),
                Some(output_path(&group[i])),
            ];
            for out in made.into_iter().flatten() {
                if index.videos.contains_key(&out) && !group.contains(&out) {
                    group.push(out);
                }
            }
            i += 1;
        }
        group
    }

    /// `from` was renamed to `to` on disk (same size and mtime). Blocking:
    /// the poster file is renamed to the id of the new path.
    pub fn moved(&self, from: &str, to: &str) {
        let cached = self.cache.locked().take(from);
        if let Some(c) = cached {
            self.cache.locked().put(to.to_string(), c);
        }
        let posters = {
            let mut index = self.index.writing();
            let Some(mut v) = index.videos.remove(from) else {
                return;
            };
            let old = v.thumb;
            let new = poster_id(to, v.size, v.modified);
            v.path = to.to_string();
            v.thumb = old.map(|_| new);
            index.add_folder(v.folder());
            index.videos.insert(to.to_string(), v);
            if let Some(out) = index.remuxed.remove(from) {
                index.remuxed.insert(to.to_string(), out);
            }
            for out in index.remuxed.values_mut().filter(|o| *o == from) {
                *out = to.to_string();
            }
            if index.stays.remove(from) {
                index.stays.insert(to.to_string());
            }
            old.map(|old| (old, new))
        };
        if let Some((old, new)) = posters {
            let name = |id| self.thumbs.join(format!("{}.jpg", poster_name(id)));
            if let Err(e) = std::fs::rename(name(old), name(new)) {
                tracing::warn!("the poster of {from} did not follow it to {to}: {e}");
            }
        }
        self.changed();
    }

    /// Folder `from` was renamed to `to` on disk: every video in it moves.
    pub fn folder_moved(&self, from: &str, to: &str) {
        let prefix = format!("{from}/");
        let inside: Vec<String> = {
            let mut index = self.index.writing();
            let folders: Vec<String> = index
                .folders
                .iter()
                .filter(|f| *f == from || f.starts_with(&prefix))
                .cloned()
                .collect();
            for f in folders {
                index.folders.remove(&f);
                let moved = format!("{to}{}", &f[from.len()..]);
                index.add_folder(&moved);
            }
            index.add_folder(to);
            index.paths_under(&prefix)
        };
        for p in inside {
            self.moved(&p, &format!("{to}/{}", &p[prefix.len()..]));
        }
        self.changed();
    }
}
