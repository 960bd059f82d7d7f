//! Which colours of a subtitle picture are its letters, judged from the
//! picture alone (a DVD rip rarely keeps its palette, and a Blu-ray's
//! says nothing of which entry is the text).
//!
//! Subtitles are drawn in layers: letters sit on an outline, the outline
//! on the transparent frame, with anti-aliasing between. Peeled from the
//! outside in, the letters are the innermost layer, whatever their colour
//! and wherever they are: white dialogue and yellow or cyan sound
//! descriptions ("[Applause]", "♪") alike, at the bottom or the top.

/// What is not drawn: transparent pixels and the world outside the picture.
const PAPER: usize = 256;

/// The colours (palette indices) of the innermost layer of a `w`×`h`
/// picture of palette indices, `visible` saying which indices are drawn
/// at all. None when nothing is visible.
pub fn letters(colours: &[u8], w: usize, h: usize, visible: &[bool; 256]) -> [bool; 256] {
    let mut letters = [false; 256];
    let Some(depth) = layers(colours, w, h, visible) else {
        return letters;
    };
    let deepest = depth.iter().flatten().max().copied().unwrap_or(0);
    for (c, d) in depth.iter().enumerate() {
        letters[c] = *d == Some(deepest);
    }
    letters
}

/// Each visible colour's layer, counted from the paper (1: drawn on the
/// paper itself); `None` for colours not in the picture. A colour sits on
/// another when a tenth of its pixels or more touch it, so a letter's
/// fill that leaks to the paper at a few pixels is still a letter.
fn layers(colours: &[u8], w: usize, h: usize, visible: &[bool; 256]) -> Option<[Option<u8>; 256]> {
    if colours.len() < w * h {
        return None;
    }
    let (count, touch) = contacts(colours, w, h, visible);
    if count.iter().all(|&n| n == 0) {
        return None;
    }
    let mut depth: [Option<u8>; 256] = [None; 256];
    // A colour whose contacts are all slight still gets a layer, from them.
    for share in [10, u64::MAX] {
        let mut changed = true;
        while changed {
            changed = false;
            for c in 0..256 {
                if count[c] == 0 || depth[c].is_some() {
                    continue;
                }
                let sits_on = |b: usize| {
                    let n = touch[c * 257 + b] as u64;
                    n > 0 && n.saturating_mul(share) >= count[c] as u64
                };
                let under = (0..=PAPER)
                    .filter(|&b| sits_on(b))
                    .filter_map(|b| if b == PAPER { Some(0) } else { depth[b] })
                    .min();
                if let Some(d) = under {
                    depth[c] = Some(d.saturating_add(1));
                    changed = true;
                }
            }
        }
    }
    Some(depth)
}

/// How many pixels each visible colour has, and for each pair (a, b) how
/// many pixels of `a` have a neighbour of `b` (`PAPER` for the paper).
fn contacts(colours: &[u8], w: usize, h: usize, visible: &[bool; 256]) -> (Vec<u32>, Vec<u32>) {
    let mut count = vec![0u32; 256];
    let mut touch = vec![0u32; 256 * 257];
    let class = |x: isize, y: isize| -> usize {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            return PAPER;
        }
        let c = colours[y as usize * w + x as usize];
        if visible[c as usize] {
            c as usize
        } else {
            PAPER
        }
    };
    for y in 0..h as isize {
        for x in 0..w as isize {
            let own = class(x, y);
            if own == PAPER {
                continue;
            }
            count[own] += 1;
            let mut seen = [usize::MAX; 4];
            for (i, (dx, dy)) in [(0, -1), (0, 1), (-1, 0), (1, 0)].iter().enumerate() {
                let n = class(x + dx, y + dy);
                if n != own && !seen.contains(&n) {
                    seen[i] = n;
                    touch[own * 257 + n] += 1;
                }
            }
        }
    }
    (count, touch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture from rows of characters: `.` paper (colour 0), and each
    /// digit its colour.
    fn picture(rows: &[&str]) -> (Vec<u8>, usize, usize) {
        let colours = rows
            .iter()
            .flat_map(|r| r.bytes())
            .map(|b| if b == b'.' { 0 } else { b - b'0' })
            .collect();
        (colours, rows[0].len(), rows.len())
    }

    fn found(rows: &[&str]) -> Vec<u8> {
        let (colours, w, h) = picture(rows);
        let mut visible = [true; 256];
        visible[0] = false;
        let l = letters(&colours, w, h, &visible);
        (0..=255u8).filter(|&c| l[c as usize]).collect()
    }

    #[test]
    fn the_fill_inside_its_outline_is_the_letters() {
        // 1 the fill, 2 the outline.
        assert_eq!(
            found(&["........", ".222222.", ".211112.", ".222222.", "........"]),
            [1]
        );
        // Anti-aliasing (3) outside the outline changes nothing.
        assert_eq!(
            found(&[
                "3333333333",
                "3222222223",
                "3221111223",
                "3222222223",
                "3333333333"
            ]),
            [1]
        );
    }

    #[test]
    fn a_second_colour_of_letters_is_letters_too() {
        // White dialogue (1) and a yellow sound description (3), both
        // outlined (2), one above the other, apart.
        assert_eq!(
            found(&[
                "...222222..",
                "...233332..",
                "...222222..",
                "...........",
                ".22222222..",
                ".21111112..",
                ".22222222..",
            ]),
            [1, 3]
        );
        // Letters with no outline, in two colours, are all letters.
        assert_eq!(found(&["..11..33..", "..11..33.."]), [1, 3]);
    }

    #[test]
    fn a_box_behind_the_text_is_not_text() {
        // An opaque box (2) with the letters (1) on it: no paper at all.
        assert_eq!(found(&["222222", "211112", "222222"]), [1]);
        // A fill that leaks to the paper at a pixel is still the fill.
        assert_eq!(
            found(&[
                ".2222222222222.",
                ".2111111111111.",
                ".2111111111112.",
                ".2222222222222.",
            ]),
            [1]
        );
    }

    #[test]
    fn nothing_visible_is_no_letters() {
        assert!(found(&["....", "...."]).is_empty());
        // A picture shorter than it says is no letters, not a panic.
        let visible = [true; 256];
        assert!(!letters(&[1, 1], 4, 4, &visible).contains(&true));
    }
}
