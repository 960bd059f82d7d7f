//! The marks an SDH track shows alone while music plays ("...", "---",
//! ". . ."), read from their shapes: tesseract reads nothing from a
//! picture of dots or dashes with no letters beside them to size them.

use super::pgs::Picture;

/// A picture with more pieces than this is text, not a mark.
const MOST_PIECES: usize = 12;
/// A mark is at most a line's height over this of the frame's height.
const FRAME_PER_MARK: u32 = 80;

/// One connected piece of ink: its box and how many pixels it inks.
#[derive(Debug, Clone, Copy)]
struct Piece {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
    pixels: usize,
}

impl Piece {
    fn width(&self) -> usize {
        self.x1 - self.x0 + 1
    }

    fn height(&self) -> usize {
        self.y1 - self.y0 + 1
    }

    /// How much of its box it fills: a dot or a dash nearly all of it.
    fn solid(&self) -> bool {
        self.pixels * 10 >= self.width() * self.height() * 6
    }

    /// `.`, `-` or `—` when it is shaped as one, on a frame `frame` rows high.
    fn mark(&self, frame: u32) -> Option<char> {
        let (w, h) = (self.width(), self.height());
        if !self.solid() || h * FRAME_PER_MARK as usize > frame as usize {
            return None;
        }
        match () {
            _ if w <= 2 * h && h <= 2 * w => Some('.'),
            _ if w >= 6 * h => Some('—'),
            _ if w >= 2 * h => Some('-'),
            _ => None,
        }
    }
}

/// What a picture says when it is only dots and dashes on one line, on a
/// frame `frame` rows high; `None` for anything else (text is for OCR).
pub fn read(p: &Picture, frame: u32) -> Option<String> {
    let pieces = pieces(p)?;
    let marks: Vec<char> = pieces
        .iter()
        .map(|piece| piece.mark(frame))
        .collect::<Option<_>>()?;
    let tallest = pieces.iter().map(Piece::height).max()?;
    let centre = |p: &Piece| p.y0 + p.y1;
    let (low, high) = (
        pieces.iter().map(centre).min()?,
        pieces.iter().map(centre).max()?,
    );
    // On one line: their middles (doubled here) within a few marks' height.
    if high - low > 6 * tallest {
        return None;
    }
    let mut out = String::new();
    for (i, (piece, mark)) in pieces.iter().zip(marks).enumerate() {
        // A gap wider than a space's worth is a space.
        if i > 0 && piece.x0 > pieces[i - 1].x1 + 2 * tallest + tallest / 2 {
            out.push(' ');
        }
        out.push(mark);
    }
    Some(out)
}

/// The picture's pieces of ink, left to right; `None` when it has none
/// or more than a mark line has.
fn pieces(p: &Picture) -> Option<Vec<Piece>> {
    let (w, h) = (p.width as usize, p.height as usize);
    if p.ink.len() < w * h {
        return None;
    }
    let inked = |at: usize| p.ink[at] > 96;
    let mut seen = vec![false; w * h];
    let mut pieces = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if seen[start] || !inked(start) {
            continue;
        }
        if pieces.len() == MOST_PIECES {
            return None;
        }
        let (x, y) = (start % w, start / w);
        let mut piece = Piece {
            x0: x,
            y0: y,
            x1: x,
            y1: y,
            pixels: 0,
        };
        seen[start] = true;
        stack.push(start);
        while let Some(at) = stack.pop() {
            let (x, y) = (at % w, at / w);
            piece.pixels += 1;
            piece.x0 = piece.x0.min(x);
            piece.x1 = piece.x1.max(x);
            piece.y1 = piece.y1.max(y);
            let beside = [
                (x > 0).then(|| at - 1),
                (x + 1 < w).then(|| at + 1),
                (y > 0).then(|| at - w),
                (y + 1 < h).then(|| at + w),
            ];
            for n in beside.into_iter().flatten() {
                if !seen[n] && inked(n) {
                    seen[n] = true;
                    stack.push(n);
                }
            }
        }
        pieces.push(piece);
    }
    pieces.sort_by_key(|p| p.x0);
    (!pieces.is_empty()).then_some(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture from rows of characters: `#` ink, anything else paper.
    fn picture(rows: &[&str]) -> Picture {
        Picture {
            x: 0,
            y: 0,
            width: rows[0].len() as u32,
            height: rows.len() as u32,
            ink: rows
                .iter()
                .flat_map(|r| r.bytes())
                .map(|b| if b == b'#' { 255 } else { 0 })
                .collect(),
        }
    }

    #[test]
    fn dots_and_dashes_alone_are_read_as_marks() {
        let dots = picture(&["...........", ".##.##.##..", ".##.##.##.."]);
        assert_eq!(read(&dots, 576).as_deref(), Some("..."));
        let dashes = picture(&["#####.#####.#####", "#####.#####.#####"]);
        assert_eq!(read(&dashes, 576).as_deref(), Some("---"));
        let apart = picture(&["###.........###.........###"]);
        assert_eq!(read(&apart, 576).as_deref(), Some("- - -"));
        let long = picture(&["##############"]);
        assert_eq!(read(&long, 576).as_deref(), Some("—"));
    }

    #[test]
    fn letters_are_left_to_ocr() {
        // An `o` is hollow; an `I` is tall; a big blot is no mark.
        let o = picture(&["######", "#....#", "#....#", "#....#", "#....#", "######"]);
        assert_eq!(read(&o, 1080), None);
        let i = picture(&["##", "##", "##", "##", "##"]);
        assert_eq!(read(&i, 576), None);
        assert_eq!(read(&picture(&["####", "####", "####"]), 100), None);
        // Marks on two lines far apart are not one line of marks.
        let mut rows = vec!["##.##"; 1];
        rows.extend(["....."; 20]);
        rows.push("##.##");
        assert_eq!(read(&picture(&rows), 576), None);
        // Nothing at all, or a picture shorter than it says.
        assert_eq!(read(&picture(&["....."]), 576), None);
        let short = Picture {
            ink: vec![255; 3],
            ..picture(&["#####"])
        };
        assert_eq!(read(&short, 576), None);
    }
}
