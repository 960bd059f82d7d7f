//! Listing the library: one folder or a search, sorted, a page at a time.
//! A folder's order is cached until the library changes, so GET / stays
//! cheap with 10,000 files.

use crate::sync::{Locked, Shared};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::Serialize;

use super::title::{episode, Episode};
use super::{Index, Library, Video};
use crate::media::made::tv_version as output_path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sort {
    #[default]
    Name,
    Date,
}

#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Folder to list, relative, no trailing slash; empty for the root.
    pub dir: String,
    /// The folders a limited profile sees; all when empty.
    pub within: Within,
    pub search: String,
    pub sort: Sort,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
}

/// The folders a limited profile sees (and everything in them); the whole
/// library when there are none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Within(pub Vec<String>);

impl Within {
    /// Whether a video or folder at `path` is inside one of them.
    pub fn sees(&self, path: &str) -> bool {
        self.0.is_empty()
            || self.0.iter().any(|f| {
                path == f
                    || path
                        .strip_prefix(f.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
    }

    /// Whether a folder is one to list: inside, or on the way to one
    /// (`Films` for `Films/Old`; the root always).
    pub fn lists(&self, dir: &str) -> bool {
        dir.is_empty()
            || self.sees(dir)
            || self
                .0
                .iter()
                .any(|f| f.strip_prefix(dir).is_some_and(|r| r.starts_with('/')))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub folders: Vec<String>,
    pub videos: Vec<Video>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
}

impl Library {
    pub fn list(&self, q: &Query) -> Listing {
        let prefix = if q.dir.is_empty() {
            String::new()
        } else {
            format!("{}/", q.dir)
        };
        let needle = q.search.trim().to_lowercase();
        let paths = if needle.is_empty() {
            self.sorted_folder(&prefix, q.sort)
        } else {
            let index = self.index.reading();
            Arc::new(select(&index, &prefix, &needle, q.sort))
        };
        let paths: Arc<Vec<String>> = if q.within.0.is_empty() {
            paths
        } else {
            Arc::new(paths.iter().filter(|p| q.within.sees(p)).cloned().collect())
        };
        let index = self.index.reading();
        let folders: Vec<String> = if needle.is_empty() {
            index
                .folders
                .range(prefix.clone()..)
                .take_while(|f| f.starts_with(&prefix))
                .filter(|f| !f[prefix.len()..].contains('/'))
                .filter(|f| q.within.lists(f))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let per_page = q.per_page.max(1);
        let total = paths.len();
        let pages = total.div_ceil(per_page).max(1);
        let page = q.page.clamp(1, pages);
        let videos = paths
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .filter_map(|p| index.videos.get(p).cloned())
            .collect();
        Listing {
            folders,
            videos,
            total,
            page,
            pages,
        }
    }

    /// One folder's videos in order, computed once per library change:
    /// sorting 10,000 titles on every request would dominate GET /.
    fn sorted_folder(&self, prefix: &str, sort: Sort) -> Arc<Vec<String>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let key = (prefix.to_string(), sort);
        {
            let cache = self.sorted.locked();
            if cache.0 == generation {
                if let Some(list) = cache.1.get(&key) {
                    return list.clone();
                }
            }
        }
        let list = {
            let index = self.index.reading();
            Arc::new(select(&index, prefix, "", sort))
        };
        let mut cache = self.sorted.locked();
        if cache.0 != generation || cache.1.len() > 256 {
            *cache = (generation, HashMap::new());
        }
        cache.1.insert(key, list.clone());
        list
    }

    /// The episode after `path` in its folder (the next season and
    /// episode number of the same show, or the next of a numbered
    /// series), with how its name reads; `None` for a film or the last.
    pub fn next_episode(&self, path: &str) -> Option<(Video, Episode)> {
        let now = episode(path)?;
        let key = |e: &Episode| (e.season.unwrap_or(0), e.number);
        let same_show = |e: &Episode| e.show.to_lowercase() == now.show.to_lowercase();
        let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let index = self.index.reading();
        index
            .videos
            .values()
            .filter(|v| v.folder() == dir && v.path != path)
            .filter(|v| !is_superseded(&index.videos, &index.remuxed, v))
            .filter_map(|v| Some((v, episode(&v.path)?)))
            .filter(|(_, e)| same_show(e) && e.season.is_some() == now.season.is_some())
            .filter(|(_, e)| key(e) > key(&now))
            .min_by_key(|(v, e)| (key(e), v.path.clone()))
            .map(|(v, e)| (v.clone(), e))
    }

    /// The posters of the first videos (by path) in a folder and the
    /// folders in it that `within` sees, at most `n`: a folder tile's face.
    pub fn folder_posters(&self, dir: &str, n: usize, within: &Within) -> Vec<u64> {
        let prefix = format!("{dir}/");
        let index = self.index.reading();
        index
            .videos
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(_, v)| v)
            .filter(|v| !is_superseded(&index.videos, &index.remuxed, v))
            .filter(|v| within.sees(&v.path))
            .filter_map(|v| v.thumb)
            .take(n)
            .collect()
    }

    /// The videos whose poster is `id`, to tell who may see it.
    pub fn with_poster(&self, id: u64) -> Vec<String> {
        let index = self.index.reading();
        index
            .videos
            .values()
            .filter(|v| v.thumb == Some(id))
            .map(|v| v.path.clone())
            .collect()
    }

    /// Something was added, removed or replaced: cached orders are stale.
    pub(super) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// The paths of the videos in `prefix` (only directly in it unless
/// searching for `needle`), in the order asked for.
fn select(index: &Index, prefix: &str, needle: &str, sort: Sort) -> Vec<String> {
    let searching = !needle.is_empty();
    let mut videos: Vec<&Video> = index
        .videos
        .range(prefix.to_string()..)
        .take_while(|(p, _)| p.starts_with(prefix))
        .map(|(_, v)| v)
        .filter(|v| searching || !v.path[prefix.len()..].contains('/'))
        .filter(|v| !is_superseded(&index.videos, &index.remuxed, v))
        .filter(|v| {
            !searching
                || v.title().to_lowercase().contains(needle)
                || v.path.to_lowercase().contains(needle)
        })
        .collect();
    match sort {
        Sort::Name => videos.sort_by_cached_key(|v| (v.title().to_lowercase(), v.path.clone())),
        Sort::Date => videos.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.path.cmp(&b.path))),
    }
    videos.into_iter().map(|v| v.path.clone()).collect()
}

/// A source whose playable MP4 exists is shown as that MP4 only: the one
/// its job recorded, or the one named by the naming rule (so a source is
/// not converted twice when the job history has been trimmed).
pub(super) fn is_superseded(
    videos: &BTreeMap<String, Video>,
    remuxed: &HashMap<String, String>,
    v: &Video,
) -> bool {
    if remuxed
        .get(&v.path)
        .is_some_and(|out| videos.contains_key(out))
    {
        return true;
    }
    videos.contains_key(&output_path(&v.path))
}

/// The video `path` was made from, when it is a playable MP4 made from
/// another (by its job's record or by the naming rule): such a file is
/// never a source itself.
pub(super) fn source_of(
    videos: &BTreeMap<String, Video>,
    remuxed: &HashMap<String, String>,
    path: &str,
) -> Option<String> {
    if let Some((source, _)) = remuxed
        .iter()
        .find(|(s, out)| *out == path && videos.contains_key(*s))
    {
        return Some(source.clone());
    }
    let base = path
        .strip_suffix(".tv.mp4")
        .or_else(|| path.strip_suffix(".mp4"))?;
    let prefix = format!("{base}.");
    videos
        .range(prefix.clone()..)
        .take_while(|(p, _)| p.starts_with(&prefix))
        .find(|(p, _)| *p != path && output_path(p) == path)
        .map(|(p, _)| p.clone())
}
