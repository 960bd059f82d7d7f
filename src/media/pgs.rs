//! Blu-ray picture subtitles (PGS, `hdmv_pgs_subtitle`, a `.sup` stream
//! as `ffmpeg -c:s copy -f sup` writes it) read into timed pictures, for
//! OCR. Pure: bytes in, cues out; everything in a stream is hostile input
//! (sizes are checked before anything is allocated).
//!
//! A stream is segments, each `PG` + PTS + DTS (90 kHz) + type + size:
//! PCS (a presentation: which objects where, `forced` per object, an
//! epoch's start), WDS (windows), PDS (a palette, Y Cr Cb A), ODS (an
//! object's run-length coded picture, possibly in several parts), END. A
//! presentation with no objects clears the screen: it ends the cue before.

use std::collections::HashMap;

/// Pixels a picture may have (a 4K frame); a larger claim is refused.
pub(super) const MAX_PIXELS: usize = 3840 * 2160;

/// One picture on screen: where, how big, and each pixel's darkness
/// of ink on paper (0 paper, 255 ink), as OCR wants text: the palette's
/// visible colours as ink, the rest as paper.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// `width * height` bytes, row after row.
    pub ink: Vec<u8>,
}

/// What is on screen from `start` to `end` (seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub start: f64,
    pub end: Option<f64>,
    pub pictures: Vec<Picture>,
    /// Every object of it is flagged forced (a foreign-language sign).
    pub forced: bool,
    /// The video's frame, for placing a cue at the top.
    pub screen: (u32, u32),
}

/// Why a stream could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PgsError {
    #[error("the subtitle stream is cut off at byte {0}")]
    Truncated(usize),
    #[error("the subtitle stream has no segment marker at byte {0}")]
    NoMarker(usize),
}

struct Object {
    width: u16,
    height: u16,
    data: Vec<u8>,
}

struct Placement {
    object: u16,
    x: u16,
    y: u16,
    forced: bool,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Every cue of a `.sup` stream, in order.
pub fn cues(sup: &[u8]) -> Result<Vec<Cue>, PgsError> {
    let mut out = Vec::new();
    each_cue(sup, |c| out.push(c))?;
    Ok(out)
}

/// Hands `f` each cue of a `.sup` stream in order, once its end is known
/// (so a whole film's pictures are never held at once).
pub fn each_cue(sup: &[u8], mut f: impl FnMut(Cue)) -> Result<(), PgsError> {
    let mut pending: Option<Cue> = None;
    let mut palettes: HashMap<u8, [(u8, u8); 256]> = HashMap::new();
    let mut objects: HashMap<u16, Object> = HashMap::new();
    let mut shown: Vec<Placement> = Vec::new();
    let (mut screen, mut palette_id, mut pts) = ((0u32, 0u32), 0u8, 0f64);
    let mut at = 0;
    while at < sup.len() {
        if sup.len() < at + 13 {
            return Err(PgsError::Truncated(at));
        }
        if &sup[at..at + 2] != b"PG" {
            return Err(PgsError::NoMarker(at));
        }
        let seg_pts = u32::from_be_bytes([sup[at + 2], sup[at + 3], sup[at + 4], sup[at + 5]]);
        let kind = sup[at + 10];
        let size = be16(sup, at + 11) as usize;
        let body = sup
            .get(at + 13..at + 13 + size)
            .ok_or(PgsError::Truncated(at))?;
        at += 13 + size;
        match kind {
            // PCS: a new presentation.
            0x16 if body.len() >= 11 => {
                pts = seg_pts as f64 / 90_000.0;
                screen = (be16(body, 0) as u32, be16(body, 2) as u32);
                let state = body[7];
                palette_id = body[9];
                if state & 0xC0 != 0 {
                    // An epoch starts: what was defined before is gone.
                    objects.clear();
                }
                let n = body[10] as usize;
                shown.clear();
                let mut p = 11;
                for _ in 0..n {
                    let Some(o) = body.get(p..p + 8) else { break };
                    let flags = o[3];
                    shown.push(Placement {
                        object: be16(o, 0),
                        x: be16(o, 4),
                        y: be16(o, 6),
                        forced: flags & 0x40 != 0,
                    });
                    p += if flags & 0x80 != 0 { 16 } else { 8 };
                }
            }
            // PDS: a palette.
            0x14 if body.len() >= 2 => {
                let table = palettes.entry(body[0]).or_insert([(0, 0); 256]);
                for e in body[2..].chunks_exact(5) {
                    // Luminance and opacity are all OCR needs.
                    table[e[0] as usize] = (e[1], e[4]);
                }
            }
            // ODS: an object, or a part of one.
            0x15 if body.len() >= 4 => {
                let id = be16(body, 0);
                let sequence = body[3];
                if sequence & 0x80 != 0 && body.len() >= 11 {
                    let (width, height) = (be16(body, 7), be16(body, 9));
                    let mut data = Vec::new();
                    data.extend_from_slice(&body[11..]);
                    objects.insert(
                        id,
                        Object {
                            width,
                            height,
                            data,
                        },
                    );
                } else if let Some(o) = objects.get_mut(&id) {
                    o.data.extend_from_slice(&body[4..]);
                }
            }
            // END: the presentation is complete.
            0x80 => {
                if let Some(last) = pending.as_mut() {
                    if last.end.is_none() {
                        last.end = Some(pts);
                    }
                }
                if shown.is_empty() {
                    continue;
                }
                let palette = palettes.get(&palette_id).copied().unwrap_or([(0, 0); 256]);
                let pictures: Vec<Picture> = shown
                    .iter()
                    .filter_map(|s| {
                        let o = objects.get(&s.object)?;
                        let ink = decode(o, &palette)?;
                        Some(Picture {
                            x: s.x as u32,
                            y: s.y as u32,
                            width: o.width as u32,
                            height: o.height as u32,
                            ink,
                        })
                    })
                    .collect();
                if !pictures.is_empty() {
                    let next = Cue {
                        start: pts,
                        end: None,
                        pictures,
                        forced: shown.iter().all(|s| s.forced),
                        screen,
                    };
                    if let Some(done) = pending.replace(next) {
                        f(done);
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(last) = pending {
        f(last);
    }
    Ok(())
}

/// An object's run-length coded pixels as ink (see [`Picture::ink`]);
/// `None` when its size is absurd.
fn decode(o: &Object, palette: &[(u8, u8); 256]) -> Option<Vec<u8>> {
    let (w, h) = (o.width as usize, o.height as usize);
    if w == 0 || h == 0 || w * h > MAX_PIXELS {
        return None;
    }
    // Ink: opaque and bright (subtitles are light text with a dark
    // outline); paper: the rest.
    let ink_of = |c: u8| {
        let (y, a) = palette[c as usize];
        ((y as u32 * a as u32) / 255) as u8
    };
    let mut out = vec![0u8; w * h];
    let (mut x, mut row) = (0usize, 0usize);
    let d = &o.data;
    let mut i = 0;
    let mut put = |x: &mut usize, row: usize, n: usize, c: u8| {
        let v = ink_of(c);
        for _ in 0..n {
            if *x < w && row < h {
                out[row * w + *x] = v;
            }
            *x += 1;
        }
    };
    while i < d.len() && row < h {
        let b = d[i];
        i += 1;
        if b != 0 {
            put(&mut x, row, 1, b);
            continue;
        }
        let Some(&f) = d.get(i) else { break };
        i += 1;
        if f == 0 {
            row += 1;
            x = 0;
            continue;
        }
        let long = f & 0x40 != 0;
        let colored = f & 0x80 != 0;
        let mut n = (f & 0x3F) as usize;
        if long {
            let Some(&l) = d.get(i) else { break };
            i += 1;
            n = (n << 8) | l as usize;
        }
        let c = if colored {
            let Some(&c) = d.get(i) else { break };
            i += 1;
            c
        } else {
            0
        };
        put(&mut x, row, n.min(w), c);
    }
    Some(out)
}

/// Writes a `.sup` stream of `cues`: the run-length coding and segments
/// as a Blu-ray authoring tool writes them (for tests, and documented
/// here beside the reader so the two say the same thing).
pub mod write {
    /// One picture to show: `ink` is 0 (transparent) or 1 (text), row
    /// after row.
    pub struct Shown<'a> {
        pub start: f64,
        pub end: f64,
        pub x: u16,
        pub y: u16,
        pub width: u16,
        pub height: u16,
        pub ink: &'a [u8],
        pub forced: bool,
    }

    fn segment(out: &mut Vec<u8>, pts: f64, kind: u8, body: &[u8]) {
        out.extend_from_slice(b"PG");
        out.extend_from_slice(&((pts * 90_000.0) as u32).to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.push(kind);
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
    }

    /// The run-length coding of one row.
    fn rle_row(row: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < row.len() {
            let c = row[i];
            let mut n = 1;
            while i + n < row.len() && row[i + n] == c && n < 16383 {
                n += 1;
            }
            match (c, n) {
                (0, n) if n < 64 => out.extend_from_slice(&[0, n as u8]),
                (0, n) => out.extend_from_slice(&[0, 0x40 | (n >> 8) as u8, n as u8]),
                (c, n) if n < 3 => (0..n).for_each(|_| out.push(c)),
                (c, n) if n < 64 => out.extend_from_slice(&[0, 0x80 | n as u8, c]),
                (c, n) => out.extend_from_slice(&[0, 0xC0 | (n >> 8) as u8, n as u8, c]),
            }
            i += n;
        }
        out.extend_from_slice(&[0, 0]);
    }

    /// A `.sup` of these pictures on a `screen` of this size: white
    /// text (colour 1) on transparency (colour 0).
    pub fn sup(screen: (u16, u16), shown: &[Shown<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        for (n, s) in shown.iter().enumerate() {
            let mut pcs = Vec::new();
            pcs.extend_from_slice(&screen.0.to_be_bytes());
            pcs.extend_from_slice(&screen.1.to_be_bytes());
            pcs.push(0x10);
            pcs.extend_from_slice(&(2 * n as u16).to_be_bytes());
            pcs.extend_from_slice(&[0x80, 0, 0, 1]);
            pcs.extend_from_slice(&1u16.to_be_bytes());
            pcs.push(0);
            pcs.push(if s.forced { 0x40 } else { 0 });
            pcs.extend_from_slice(&s.x.to_be_bytes());
            pcs.extend_from_slice(&s.y.to_be_bytes());
            segment(&mut out, s.start, 0x16, &pcs);
            let mut wds = vec![1, 0];
            for v in [s.x, s.y, s.width, s.height] {
                wds.extend_from_slice(&v.to_be_bytes());
            }
            segment(&mut out, s.start, 0x17, &wds);
            // Colour 0 transparent, colour 1 opaque white.
            segment(
                &mut out,
                s.start,
                0x14,
                &[0, 0, 0, 16, 128, 128, 0, 1, 235, 128, 128, 255],
            );
            let mut rle = Vec::new();
            for row in s.ink.chunks(s.width as usize) {
                rle_row(row, &mut rle);
            }
            let mut ods = vec![0, 1, 0, 0xC0];
            let len = (rle.len() + 4) as u32;
            ods.extend_from_slice(&len.to_be_bytes()[1..]);
            ods.extend_from_slice(&s.width.to_be_bytes());
            ods.extend_from_slice(&s.height.to_be_bytes());
            ods.extend_from_slice(&rle);
            segment(&mut out, s.start, 0x15, &ods);
            segment(&mut out, s.start, 0x80, &[]);
            // The clear: a presentation with no objects.
            let mut clear = Vec::new();
            clear.extend_from_slice(&screen.0.to_be_bytes());
            clear.extend_from_slice(&screen.1.to_be_bytes());
            clear.push(0x10);
            clear.extend_from_slice(&(2 * n as u16 + 1).to_be_bytes());
            clear.extend_from_slice(&[0, 0, 0, 0]);
            segment(&mut out, s.end, 0x16, &clear);
            segment(&mut out, s.end, 0x17, &wds);
            segment(&mut out, s.end, 0x80, &[]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_come_back_as_they_went_with_their_times() {
        // A 20x3 picture: a bar of ink with gaps, long runs and short.
        let mut ink = vec![0u8; 20 * 3];
        for x in 2..18 {
            ink[20 + x] = 1;
        }
        ink[5] = 1;
        let shown = [
            write::Shown {
                start: 1.5,
                end: 3.25,
                x: 100,
                y: 900,
                width: 20,
                height: 3,
                ink: &ink,
                forced: false,
            },
            write::Shown {
                start: 4.0,
                end: 5.0,
                x: 100,
                y: 40,
                width: 20,
                height: 3,
                ink: &ink,
                forced: true,
            },
        ];
        let sup = write::sup((1920, 1080), &shown);
        let cues = cues(&sup).unwrap();
        assert_eq!(cues.len(), 2);
        assert_eq!((cues[0].start, cues[0].end), (1.5, Some(3.25)));
        assert_eq!((cues[1].start, cues[1].end), (4.0, Some(5.0)));
        assert_eq!(cues[0].screen, (1920, 1080));
        assert!(!cues[0].forced && cues[1].forced);
        let p = &cues[0].pictures[0];
        assert_eq!((p.x, p.y, p.width, p.height), (100, 900, 20, 3));
        let back: Vec<u8> = p.ink.iter().map(|v| (*v > 128) as u8).collect();
        assert_eq!(back, ink);
    }

    #[test]
    fn hostile_streams_are_refused_not_trusted() {
        assert_eq!(cues(b"PG"), Err(PgsError::Truncated(0)));
        assert_eq!(cues(b"XX0123456789ab"), Err(PgsError::NoMarker(0)));
        // An object that claims 65535x65535 pixels is skipped, not allocated.
        let mut sup = Vec::new();
        let seg = |sup: &mut Vec<u8>, kind: u8, body: &[u8]| {
            sup.extend_from_slice(b"PG\0\0\0\0\0\0\0\0");
            sup.push(kind);
            sup.extend_from_slice(&(body.len() as u16).to_be_bytes());
            sup.extend_from_slice(body);
        };
        seg(
            &mut sup,
            0x16,
            &[
                7, 128, 4, 56, 16, 0, 0, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0,
            ],
        );
        seg(
            &mut sup,
            0x15,
            &[0, 1, 0, 0xC0, 0, 0, 4, 255, 255, 255, 255, 1, 2, 3],
        );
        seg(&mut sup, 0x80, &[]);
        assert_eq!(cues(&sup).unwrap(), vec![]);
    }
}
