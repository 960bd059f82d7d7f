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
/// of ink on paper (0 paper, 255 ink), as OCR wants text: the letters'
/// colours as ink, whatever their colour; outlines and the rest as paper.
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

/// A palette's entries: luminance and opacity are all OCR needs.
type Palette = [(u8, u8); 256];

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
    let mut screen = Screen::default();
    for segment in segments(sup) {
        let Segment { pts, kind, body } = segment?;
        match kind {
            0x16 if body.len() >= 11 => screen.composition(pts, body),
            0x14 if body.len() >= 2 => screen.palette(body),
            0x15 if body.len() >= 4 => screen.object(body),
            0x80 => {
                if let Some(done) = screen.end() {
                    f(done);
                }
            }
            _ => {}
        }
    }
    if let Some(last) = screen.pending {
        f(last);
    }
    Ok(())
}

/// One segment of a stream: its PTS in seconds, its type and its body.
struct Segment<'a> {
    pts: f64,
    kind: u8,
    body: &'a [u8],
}

/// The segments of a `.sup` stream in order, ending at the first that is
/// broken (its error the last item).
fn segments(sup: &[u8]) -> impl Iterator<Item = Result<Segment<'_>, PgsError>> {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= sup.len() {
            return None;
        }
        let here = at;
        // Nothing after a broken segment can be found.
        at = sup.len();
        if sup.len() < here + 13 {
            return Some(Err(PgsError::Truncated(here)));
        }
        if &sup[here..here + 2] != b"PG" {
            return Some(Err(PgsError::NoMarker(here)));
        }
        let pts = u32::from_be_bytes([sup[here + 2], sup[here + 3], sup[here + 4], sup[here + 5]]);
        let size = be16(sup, here + 11) as usize;
        let Some(body) = sup.get(here + 13..here + 13 + size) else {
            return Some(Err(PgsError::Truncated(here)));
        };
        at = here + 13 + size;
        Some(Ok(Segment {
            pts: pts as f64 / 90_000.0,
            kind: sup[here + 10],
            body,
        }))
    })
}

/// What a stream has defined so far, what it shows, and the cue on
/// screen whose end is not known yet.
#[derive(Default)]
struct Screen {
    palettes: HashMap<u8, Palette>,
    objects: HashMap<u16, Object>,
    shown: Vec<Placement>,
    size: (u32, u32),
    palette_id: u8,
    /// When the presentation being built shows.
    pts: f64,
    pending: Option<Cue>,
}

impl Screen {
    /// PCS: a new presentation, which objects where.
    fn composition(&mut self, pts: f64, body: &[u8]) {
        self.pts = pts;
        self.size = (be16(body, 0) as u32, be16(body, 2) as u32);
        self.palette_id = body[9];
        if body[7] & 0xC0 != 0 {
            // An epoch starts: what was defined before is gone.
            self.objects.clear();
        }
        self.shown.clear();
        let mut p = 11;
        for _ in 0..body[10] {
            let Some(o) = body.get(p..p + 8) else { break };
            let flags = o[3];
            self.shown.push(Placement {
                object: be16(o, 0),
                x: be16(o, 4),
                y: be16(o, 6),
                forced: flags & 0x40 != 0,
            });
            p += if flags & 0x80 != 0 { 16 } else { 8 };
        }
    }

    /// PDS: a palette's entries, Y Cr Cb A.
    fn palette(&mut self, body: &[u8]) {
        let table = self.palettes.entry(body[0]).or_insert([(0, 0); 256]);
        for e in body[2..].chunks_exact(5) {
            table[e[0] as usize] = (e[1], e[4]);
        }
    }

    /// ODS: an object, or a later part of one.
    fn object(&mut self, body: &[u8]) {
        let id = be16(body, 0);
        if body[3] & 0x80 != 0 && body.len() >= 11 {
            let (width, height) = (be16(body, 7), be16(body, 9));
            let data = body[11..].to_vec();
            self.objects.insert(
                id,
                Object {
                    width,
                    height,
                    data,
                },
            );
        } else if let Some(o) = self.objects.get_mut(&id) {
            o.data.extend_from_slice(&body[4..]);
        }
    }

    /// END: the presentation is complete. The cue before it ends here;
    /// it is handed back once the one this shows takes its place.
    fn end(&mut self) -> Option<Cue> {
        if let Some(last) = self.pending.as_mut() {
            last.end.get_or_insert(self.pts);
        }
        let palette = self
            .palettes
            .get(&self.palette_id)
            .copied()
            .unwrap_or([(0, 0); 256]);
        let pictures: Vec<Picture> = self
            .shown
            .iter()
            .filter_map(|s| {
                let o = self.objects.get(&s.object)?;
                Some(Picture {
                    x: s.x as u32,
                    y: s.y as u32,
                    width: o.width as u32,
                    height: o.height as u32,
                    ink: decode(o, &palette)?,
                })
            })
            .collect();
        if pictures.is_empty() {
            return None;
        }
        let next = Cue {
            start: self.pts,
            end: None,
            pictures,
            forced: self.shown.iter().all(|s| s.forced),
            screen: self.size,
        };
        self.pending.replace(next)
    }
}

/// An object's run-length coded pixels as ink (see [`Picture::ink`]);
/// `None` when its size is absurd.
fn decode(o: &Object, palette: &Palette) -> Option<Vec<u8>> {
    let (w, h) = (o.width as usize, o.height as usize);
    if w == 0 || h == 0 || w * h > MAX_PIXELS {
        return None;
    }
    let colours = unpack(&o.data, w, h);
    let mut visible = [false; 256];
    for (c, (_, a)) in palette.iter().enumerate() {
        visible[c] = *a > 0;
    }
    let letters = super::ink::letters(&colours, w, h, &visible);
    // Ink: the letters' colours, whatever their brightness, and whatever
    // is opaque and bright (the anti-aliasing of light text on a dark
    // outline); paper: the rest.
    let ink_of: Vec<u8> = palette
        .iter()
        .zip(letters)
        .map(|(&(y, a), letter)| {
            let bright = (y as u32 * a as u32 / 255) as u8;
            if letter {
                a.max(bright)
            } else {
                bright
            }
        })
        .collect();
    Some(colours.iter().map(|&c| ink_of[c as usize]).collect())
}

/// Run-length coded rows as `w`×`h` palette indices (what the data does
/// not reach stays colour 0).
fn unpack(d: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h];
    let (mut x, mut row) = (0usize, 0usize);
    let mut i = 0;
    let mut put = |x: &mut usize, row: usize, n: usize, c: u8| {
        for _ in 0..n {
            if *x < w && row < h {
                out[row * w + *x] = c;
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
        let mut n = (f & 0x3F) as usize;
        if f & 0x40 != 0 {
            let Some(&l) = d.get(i) else { break };
            i += 1;
            n = (n << 8) | l as usize;
        }
        let c = if f & 0x80 != 0 {
            let Some(&c) = d.get(i) else { break };
            i += 1;
            c
        } else {
            0
        };
        put(&mut x, row, n.min(w), c);
    }
    out
}

/// Writes a `.sup` stream of `cues`: the run-length coding and segments
/// as a Blu-ray authoring tool writes them (for tests, and documented
/// here beside the reader so the two say the same thing).
pub mod write {
    /// One picture to show: `ink` is each pixel's colour, row after row
    /// (with [`sup`]'s palette 0 transparent, 1 white text).
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

    /// Colour 0 transparent, colour 1 opaque white: index, Y, Cr, Cb, A.
    pub const WHITE_TEXT: [[u8; 5]; 2] = [[0, 16, 128, 128, 0], [1, 235, 128, 128, 255]];

    /// A `.sup` of these pictures on a `screen` of this size: white
    /// text (colour 1) on transparency (colour 0).
    pub fn sup(screen: (u16, u16), shown: &[Shown<'_>]) -> Vec<u8> {
        sup_in(screen, &WHITE_TEXT, shown)
    }

    /// A `.sup` of these pictures in colours of `palette` (index, Y, Cr,
    /// Cb, A).
    pub fn sup_in(screen: (u16, u16), palette: &[[u8; 5]], shown: &[Shown<'_>]) -> Vec<u8> {
        let mut pds = vec![0, 0];
        pds.extend(palette.iter().flatten());
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
            segment(&mut out, s.start, 0x14, &pds);
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
    fn letters_of_any_colour_are_ink_and_their_outline_is_not() {
        // White dialogue (1) and a red sound description (3), dark as
        // red is, each ringed by a black outline (2).
        let (w, h) = (12, 8);
        let mut ink = vec![0u8; w * h];
        for (y, fill) in [(0, 3), (4, 1)] {
            for dy in 0..4 {
                for x in 0..w {
                    let ring = dy == 0 || dy == 3 || x == 0 || x == w - 1;
                    ink[(y + dy) * w + x] = if ring { 2 } else { fill };
                }
            }
        }
        let palette = [
            [0, 16, 128, 128, 0],
            [1, 235, 128, 128, 255],
            [2, 16, 128, 128, 255],
            [3, 63, 102, 240, 255],
        ];
        let shown = write::Shown {
            start: 1.0,
            end: 2.0,
            x: 0,
            y: 0,
            width: w as u16,
            height: h as u16,
            ink: &ink,
            forced: false,
        };
        let cues = cues(&write::sup_in((1920, 1080), &palette, &[shown])).unwrap();
        let p = &cues[0].pictures[0];
        for (at, c) in ink.iter().enumerate() {
            let inked = p.ink[at] > 128;
            assert_eq!(inked, *c == 1 || *c == 3, "colour {c} at {at}");
        }
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
