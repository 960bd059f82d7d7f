//! DVD picture subtitles (VobSub, `dvd_subtitle`) read into timed
//! pictures, for OCR: the MPEG program stream `ffmpeg -c:s copy -f vob`
//! writes of one track (private stream 1, sub-streams `0x20`–`0x3f`),
//! each subpicture unit (SPU) gathered from its packets and decoded.
//! DVB subtitles come here too, turned into SPUs by ffmpeg's own DVB
//! decoder and DVD encoder (`-c:s dvdsub`). Pure: bytes in, cues out;
//! everything in a stream is hostile input.
//!
//! An SPU is its size, the offset of its control sequences, the picture
//! (2 bits a pixel, run-length coded by nibbles, the top field's rows then
//! the bottom field's), then control sequences: each a delay (1024/90000
//! s units) after the packet's PTS, and commands: start display (`0x00`
//! forced, `0x01`), stop (`0x02`), colours (`0x03`), contrast (`0x04`,
//! the alpha of each of the four colours), area (`0x05`), field offsets
//! (`0x06`), end (`0xff`).
//!
//! The palette of a DVD lives in its IFO files, which a rip rarely keeps,
//! so which of the four colours are the text is judged from the picture:
//! the innermost of its layers (`media::ink`), one colour or two.

use super::pgs::{Cue, Picture};

/// Pixels a picture may have (a DVD frame is 720x576; DVB HD 1920x1080).
const MAX_PIXELS: usize = 1920 * 1088;
/// Seconds a cue that says no end stays on screen.
const NO_END: f64 = 5.0;

/// Why a stream could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VobSubError {
    #[error("the subtitle stream is cut off at byte {0}")]
    Truncated(usize),
}

/// Every cue of a program stream holding one DVD subtitle track, on a
/// frame of `screen` (the video's size), in order.
pub fn cues(ps: &[u8], screen: (u32, u32)) -> Result<Vec<Cue>, VobSubError> {
    let mut out = Vec::new();
    each_cue(ps, screen, |c| out.push(c))?;
    Ok(out)
}

/// Hands `f` each cue in order, once its end is known (so a whole film's
/// pictures are never held at once).
pub fn each_cue(ps: &[u8], screen: (u32, u32), mut f: impl FnMut(Cue)) -> Result<(), VobSubError> {
    let mut pending: Option<Cue> = None;
    let mut hand_on = |c: Cue| {
        f(Cue {
            end: Some(c.end.unwrap_or(c.start + NO_END)),
            ..c
        })
    };
    for (pts, spu) in units(ps)? {
        let Some(shown) = decode(&spu) else {
            continue;
        };
        // A cue with no stop of its own ends where the next begins.
        let start = pts + shown.start;
        if let Some(last) = pending.as_mut() {
            if last.end.is_none_or(|e| e > start) {
                last.end = Some(start);
            }
        }
        let Some(picture) = shown.picture else {
            continue;
        };
        let next = Cue {
            start,
            end: shown.stop.map(|s| pts + s),
            pictures: vec![picture],
            forced: shown.forced,
            screen,
        };
        if let Some(done) = pending.replace(next) {
            hand_on(done);
        }
    }
    if let Some(last) = pending {
        hand_on(last);
    }
    Ok(())
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]) as usize)
}

/// The PTS of a PES header's optional fields, in seconds.
fn pts_of(h: &[u8]) -> Option<f64> {
    let b = h.get(..5)?;
    let v = (((b[0] >> 1) & 0x07) as u64) << 30
        | (b[1] as u64) << 22
        | ((b[2] >> 1) as u64) << 15
        | (b[3] as u64) << 7
        | (b[4] >> 1) as u64;
    Some(v as f64 / 90_000.0)
}

/// A PES packet's PTS, if it has one, and its payload: MPEG-2's header
/// (flags, a length, the optional fields) or MPEG-1's (stuffing, a
/// buffer size, a PTS or PTS and DTS).
fn pes(body: &[u8]) -> Option<(Option<f64>, &[u8])> {
    if body.first()? & 0xc0 == 0x80 {
        let (flags, hlen) = (*body.get(1)?, *body.get(2)? as usize);
        let pts = if flags & 0x80 != 0 {
            pts_of(body.get(3..)?)
        } else {
            None
        };
        return Some((pts, body.get(3 + hlen..)?));
    }
    let mut i = 0;
    while *body.get(i)? == 0xff {
        i += 1;
    }
    if body[i] & 0xc0 == 0x40 {
        i += 2;
    }
    match body.get(i)? >> 4 {
        0x2 => Some((pts_of(body.get(i..)?), body.get(i + 5..)?)),
        0x3 => Some((pts_of(body.get(i..)?), body.get(i + 10..)?)),
        _ => Some((None, body.get(i + 1..)?)),
    }
}

/// Each SPU of the stream with the PTS of its first packet.
fn units(ps: &[u8]) -> Result<Vec<(f64, Vec<u8>)>, VobSubError> {
    let mut out = Vec::new();
    let mut open: Option<(f64, Vec<u8>, usize)> = None;
    let mut at = 0;
    while at + 4 <= ps.len() {
        if ps[at..at + 3] != [0, 0, 1] {
            at += 1;
            continue;
        }
        let code = ps[at + 3];
        match code {
            // A pack header: MPEG-2 (14 bytes and stuffing) or MPEG-1 (12).
            0xba => {
                let b = *ps.get(at + 4).ok_or(VobSubError::Truncated(at))?;
                at += if b & 0xc0 == 0x40 {
                    14 + (*ps.get(at + 13).ok_or(VobSubError::Truncated(at))? & 7) as usize
                } else {
                    12
                };
            }
            0xb9 => at += 4,
            0xbd => {
                let len = be16(ps, at + 4).ok_or(VobSubError::Truncated(at))?;
                let body = ps
                    .get(at + 6..at + 6 + len)
                    .ok_or(VobSubError::Truncated(at))?;
                at += 6 + len;
                let Some((pts, payload)) = pes(body) else {
                    continue;
                };
                let Some((&sub, data)) = payload.split_first() else {
                    continue;
                };
                if !(0x20..0x40).contains(&sub) {
                    continue;
                }
                match (&mut open, pts) {
                    // A packet with a PTS starts a unit (a cut-off one before
                    // it is dropped).
                    (_, Some(pts)) => {
                        let size = be16(data, 0).unwrap_or(0);
                        open = Some((pts, data.to_vec(), size));
                    }
                    (Some((_, buf, _)), None) => buf.extend_from_slice(data),
                    (None, None) => {}
                }
                if let Some((_, buf, size)) = &open {
                    if buf.len() >= *size {
                        let (pts, mut buf, size) = open.take().unwrap_or_default();
                        buf.truncate(size);
                        out.push((pts, buf));
                    }
                }
            }
            // Any other packet (video, audio, padding): skipped by its length.
            0xbb..=0xff => {
                let len = be16(ps, at + 4).ok_or(VobSubError::Truncated(at))?;
                at += 6 + len;
            }
            _ => at += 4,
        }
    }
    Ok(out)
}

/// What one SPU shows: from `start` to `stop` seconds after its PTS.
struct Shown {
    start: f64,
    stop: Option<f64>,
    forced: bool,
    picture: Option<Picture>,
}

/// An SPU's picture and times; `None` when it is malformed.
fn decode(spu: &[u8]) -> Option<Shown> {
    let size = be16(spu, 0)?;
    let mut ctrl = be16(spu, 2)?;
    if size > spu.len() || ctrl >= size {
        return None;
    }
    let mut shown = Shown {
        start: 0.0,
        stop: None,
        forced: false,
        picture: None,
    };
    let (mut alpha, mut area, mut fields) = ([0u8; 4], None, None);
    // Control sequences chain by offset; a loop or a bad offset stops it.
    for _ in 0..16 {
        let delay = be16(spu, ctrl)? as f64 * 1024.0 / 90_000.0;
        let next = be16(spu, ctrl + 2)?;
        let mut i = ctrl + 4;
        loop {
            let cmd = *spu.get(i)?;
            i += 1;
            match cmd {
                0x00 => {
                    shown.forced = true;
                    shown.start = delay;
                }
                0x01 => shown.start = delay,
                0x02 => {
                    shown.stop.get_or_insert(delay);
                }
                0x03 => i += 2,
                0x04 => {
                    let (a, b) = (*spu.get(i)?, *spu.get(i + 1)?);
                    // Emphasis 2, emphasis 1, pattern, background.
                    alpha = [b & 0x0f, b >> 4, a & 0x0f, a >> 4];
                    i += 2;
                }
                0x05 => {
                    let b = spu.get(i..i + 6)?;
                    let x1 = (b[0] as u32) << 4 | (b[1] as u32) >> 4;
                    let x2 = ((b[1] & 0x0f) as u32) << 8 | b[2] as u32;
                    let y1 = (b[3] as u32) << 4 | (b[4] as u32) >> 4;
                    let y2 = ((b[4] & 0x0f) as u32) << 8 | b[5] as u32;
                    area = Some((x1, y1, x2, y2));
                    i += 6;
                }
                0x06 => {
                    fields = Some((be16(spu, i)?, be16(spu, i + 2)?));
                    i += 4;
                }
                0x07 => i += be16(spu, i)?,
                _ => break,
            }
        }
        if next == ctrl || next >= size {
            break;
        }
        ctrl = next;
    }
    let (x1, y1, x2, y2) = area?;
    let (top, bottom) = fields?;
    if x2 < x1 || y2 < y1 {
        return None;
    }
    let (w, h) = ((x2 - x1 + 1) as usize, (y2 - y1 + 1) as usize);
    if w * h > MAX_PIXELS {
        return None;
    }
    let mut colours = vec![0u8; w * h];
    for (field, start) in [(0, top), (1, bottom)] {
        let rows = (field..h).step_by(2);
        rle(spu.get(start..ctrl.min(size))?, w, rows, &mut colours);
    }
    shown.picture = ink(&colours, &alpha, w, h).map(|ink| Picture {
        x: x1,
        y: y1,
        width: w as u32,
        height: h as u32,
        ink,
    });
    Some(shown)
}

/// Decodes one field's run-length coded rows into `out`.
fn rle(data: &[u8], w: usize, rows: impl Iterator<Item = usize>, out: &mut [u8]) {
    let mut nib = 0usize;
    let get = |nib: &mut usize| -> Option<u32> {
        let b = *data.get(*nib / 2)?;
        let v = if *nib % 2 == 0 { b >> 4 } else { b & 0x0f };
        *nib += 1;
        Some(v as u32)
    };
    for row in rows {
        let mut x = 0;
        while x < w {
            let Some(mut v) = get(&mut nib) else { return };
            // 4, 8, 12 or 16 bits: each leading pair of zero bits says
            // a nibble more follows.
            let mut least = 0x4;
            while v < least && least < 0x100 {
                let Some(n) = get(&mut nib) else { return };
                v = v << 4 | n;
                least <<= 2;
            }
            let (run, colour) = ((v >> 2) as usize, (v & 3) as u8);
            // A run of 0 fills the rest of the row.
            let run = if run == 0 { w - x } else { run.min(w - x) };
            out[row * w + x..row * w + x + run].fill(colour);
            x += run;
        }
        // Each row starts on a byte.
        nib += nib % 2;
    }
}

/// The letters' pixels as ink (255) on paper (0): every visible colour
/// of the picture's innermost layer (see [`super::ink`]), so a second
/// colour of text is kept. `None` when nothing is visible.
fn ink(colours: &[u8], alpha: &[u8; 4], w: usize, h: usize) -> Option<Vec<u8>> {
    let mut visible = [false; 256];
    for (c, a) in alpha.iter().enumerate() {
        visible[c] = *a > 0;
    }
    let letters = super::ink::letters(colours, w, h, &visible);
    letters.contains(&true).then(|| {
        colours
            .iter()
            .map(|&c| if letters[c as usize] { 255 } else { 0 })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SPU of a `w`x`h` picture of `colours` (0-3), shown from
    /// `start` to `stop` seconds after its PTS; colour 1 the fill, 2 the
    /// outline, 0 transparent.
    fn spu(colours: &[u8], w: usize, h: usize, start: u16, stop: u16, forced: bool) -> Vec<u8> {
        let mut fields = [Vec::new(), Vec::new()];
        for (f, out) in fields.iter_mut().enumerate() {
            let mut nibs: Vec<u8> = Vec::new();
            for y in (f..h).step_by(2) {
                let row = &colours[y * w..(y + 1) * w];
                let mut x = 0;
                while x < w {
                    let c = row[x];
                    let mut n = 1;
                    while x + n < w && row[x + n] == c && n < 255 {
                        n += 1;
                    }
                    let v = (n as u32) << 2 | c as u32;
                    match n {
                        1..=3 => nibs.push(v as u8),
                        4..=15 => nibs.extend([(v >> 4) as u8, (v & 15) as u8]),
                        16..=63 => nibs.extend([0, (v >> 4) as u8, (v & 15) as u8]),
                        _ => nibs.extend([0, (v >> 8) as u8, (v >> 4 & 15) as u8, (v & 15) as u8]),
                    }
                    x += n;
                }
                if nibs.len() % 2 == 1 {
                    nibs.push(0);
                }
            }
            *out = nibs.chunks(2).map(|p| p[0] << 4 | p[1]).collect();
        }
        let top = 4;
        let bottom = top + fields[0].len();
        let ctrl = bottom + fields[1].len();
        let mut out = vec![0, 0, (ctrl >> 8) as u8, ctrl as u8];
        out.extend_from_slice(&fields[0]);
        out.extend_from_slice(&fields[1]);
        let second = ctrl + 4 + 1 + 3 + 3 + 7 + 5 + 1;
        out.extend_from_slice(&start.to_be_bytes());
        out.extend_from_slice(&(second as u16).to_be_bytes());
        out.push(if forced { 0x00 } else { 0x01 });
        out.extend_from_slice(&[0x03, 0x01, 0x20]);
        out.extend_from_slice(&[0x04, 0xff, 0xf0]);
        // The area: x from 100, y from 400, 12 bits each.
        let area = |a: usize, b: usize| [(a >> 4) as u8, ((a & 15) << 4 | b >> 8) as u8, b as u8];
        out.push(0x05);
        out.extend_from_slice(&area(100, 100 + w - 1));
        out.extend_from_slice(&area(400, 400 + h - 1));
        out.push(0x06);
        out.extend_from_slice(&(top as u16).to_be_bytes());
        out.extend_from_slice(&(bottom as u16).to_be_bytes());
        out.push(0xff);
        assert_eq!(out.len(), second);
        out.extend_from_slice(&stop.to_be_bytes());
        out.extend_from_slice(&(second as u16).to_be_bytes());
        out.extend_from_slice(&[0x02, 0xff]);
        let size = out.len();
        out[0] = (size >> 8) as u8;
        out[1] = size as u8;
        out
    }

    /// A program stream of SPUs at PTSs, each in packets of at most 200
    /// bytes (the first with the PTS), behind pack headers.
    fn ps(units: &[(f64, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (pts, spu) in units {
            for (i, part) in spu.chunks(200).enumerate() {
                out.extend_from_slice(&[0, 0, 1, 0xba, 0x44, 0, 4, 0, 4, 1, 1, 0x89, 0xc3, 0xf8]);
                let mut pes = vec![0x81];
                if i == 0 {
                    let v = (pts * 90_000.0) as u64;
                    pes.extend_from_slice(&[
                        0x80,
                        5,
                        0x21 | ((v >> 29) & 0x0e) as u8,
                        (v >> 22) as u8,
                        ((v >> 14) | 1) as u8,
                        (v >> 7) as u8,
                        ((v << 1) | 1) as u8,
                    ]);
                } else {
                    pes.extend_from_slice(&[0, 0]);
                }
                pes.push(0x20);
                pes.extend_from_slice(part);
                out.extend_from_slice(&[0, 0, 1, 0xbd]);
                out.extend_from_slice(&(pes.len() as u16).to_be_bytes());
                out.extend_from_slice(&pes);
            }
        }
        out.extend_from_slice(&[0, 0, 1, 0xb9]);
        out
    }

    /// A bar of fill (1) ringed by outline (2), on transparency (0).
    fn letter(w: usize, h: usize) -> Vec<u8> {
        let mut c = vec![0u8; w * h];
        for y in 2..h - 2 {
            for x in 2..w - 2 {
                let ring = y == 2 || y == h - 3 || x == 2 || x == w - 3;
                c[y * w + x] = if ring { 2 } else { 1 };
            }
        }
        c
    }

    #[test]
    fn units_are_gathered_decoded_and_timed() {
        let (w, h) = (300, 20);
        let colours = letter(w, h);
        // 90000/1024 units a second: 0 and 2 s after each PTS.
        let a = spu(&colours, w, h, 0, 176, false);
        let b = spu(&colours, w, h, 0, 0xffff, true);
        let stream = ps(&[(1.0, a), (3.5, b)]);
        let cues = cues(&stream, (720, 576)).unwrap();
        assert_eq!(cues.len(), 2);
        assert!((cues[0].start - 1.0).abs() < 0.01);
        assert!(
            (cues[0].end.unwrap() - 3.0).abs() < 0.01,
            "{:?}",
            cues[0].end
        );
        assert!(!cues[0].forced && cues[1].forced);
        let p = &cues[0].pictures[0];
        assert_eq!((p.x, p.y, p.width, p.height), (100, 400, 300, 20));
        // The fill is the ink; the outline and the background are paper.
        for y in 0..h {
            for x in 0..w {
                let want = if colours[y * w + x] == 1 { 255 } else { 0 };
                assert_eq!(p.ink[y * w + x], want, "at {x},{y}");
            }
        }
    }

    #[test]
    fn a_second_colour_of_text_is_read_too() {
        // A sound description in the emphasis colour (3) above the
        // dialogue in the pattern colour (1), both outlined (2).
        let (w, h) = (60, 20);
        let mut colours = letter(w, 10);
        colours.extend(letter(w, 10).iter().map(|&c| if c == 1 { 3 } else { c }));
        let stream = ps(&[(1.0, spu(&colours, w, h, 0, 176, false))]);
        let cues = cues(&stream, (720, 576)).unwrap();
        let p = &cues[0].pictures[0];
        for (at, c) in colours.iter().enumerate() {
            let want = if *c == 1 || *c == 3 { 255 } else { 0 };
            assert_eq!(p.ink[at], want, "at {at}");
        }
    }

    #[test]
    fn mpeg1_and_mpeg2_packet_headers_both_give_their_pts() {
        // MPEG-1: stuffing, a buffer size, then a PTS of 1 s.
        let v: u64 = 90_000;
        let pts = [
            0x21 | ((v >> 29) & 0x0e) as u8,
            (v >> 22) as u8,
            ((v >> 14) | 1) as u8,
            (v >> 7) as u8,
            ((v << 1) | 1) as u8,
        ];
        let mut one = vec![0xff, 0xff, 0x40, 0x20];
        one.extend_from_slice(&pts);
        one.extend_from_slice(&[0x20, 9]);
        assert_eq!(pes(&one), Some((Some(1.0), &[0x20, 9][..])));
        let mut two = vec![0x81, 0x80, 5];
        two.extend_from_slice(&pts);
        two.push(0x20);
        assert_eq!(pes(&two), Some((Some(1.0), &[0x20][..])));
        assert_eq!(pes(&[0x0f, 0x20]), Some((None, &[0x20][..])));
        assert_eq!(pes(&[0xff, 0xff]), None);
    }

    #[test]
    fn hostile_streams_are_refused_or_skipped() {
        assert_eq!(
            cues(&[0, 0, 1, 0xbd, 0xff], (720, 576)),
            Err(VobSubError::Truncated(0))
        );
        // An SPU whose offsets point past its end, or loop.
        let mut bad = vec![0, 12, 0, 4, 0, 0, 0, 4, 0x05, 0xff, 0xff, 0xff];
        assert!(cues(&ps(&[(0.0, bad.clone())]), (720, 576))
            .unwrap()
            .is_empty());
        bad[3] = 200;
        assert!(cues(&ps(&[(0.0, bad)]), (720, 576)).unwrap().is_empty());
        // A picture far bigger than any screen.
        let mut huge = spu(&letter(8, 8), 8, 8, 0, 10, false);
        let at = huge.len() - 4 - 1 - 4 - 1 - 6 - 1;
        huge[at..at + 6].copy_from_slice(&[0, 0, 0xff, 0xf0, 0x0f, 0xff]);
        assert!(cues(&ps(&[(0.0, huge)]), (720, 576)).unwrap().is_empty());
        assert!(cues(&[], (720, 576)).unwrap().is_empty());
    }
}
