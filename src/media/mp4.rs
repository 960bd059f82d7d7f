//! Just enough of the MP4 box format to check a finished remux without
//! starting ffprobe again: where `moov` sits and the movie's duration.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mp4Summary {
    /// Seconds, from `moov/mvhd`.
    pub duration: f64,
    /// `moov` comes before `mdat`: a player can start before the end.
    pub faststart: bool,
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, b| (acc << 8) | *b as u64)
}

/// Walks the top-level boxes; `None` when the file is not a sane MP4.
pub fn summarize(path: &Path) -> std::io::Result<Option<Mp4Summary>> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut pos = 0u64;
    let mut seen_mdat = false;
    while pos + 8 <= len {
        f.seek(SeekFrom::Start(pos))?;
        let mut head = [0u8; 16];
        f.read_exact(&mut head[..8])?;
        let mut size = be(&head[..4]);
        let kind = [head[4], head[5], head[6], head[7]];
        let mut header = 8;
        if size == 1 {
            f.read_exact(&mut head[8..16])?;
            size = be(&head[8..16]);
            header = 16;
        } else if size == 0 {
            size = len - pos;
        }
        if size < header || pos + size > len {
            return Ok(None);
        }
        match &kind {
            b"mdat" => seen_mdat = true,
            b"moov" => {
                // mvhd is the first child of moov in every muxer we meet;
                // cap the read so a hostile size can't make us allocate.
                let n = (size - header).min(1 << 20) as usize;
                let mut moov = vec![0u8; n];
                f.read_exact(&mut moov)?;
                return Ok(mvhd_duration(&moov).map(|duration| Mp4Summary {
                    duration,
                    faststart: !seen_mdat,
                }));
            }
            _ => {}
        }
        pos += size;
    }
    Ok(None)
}

fn mvhd_duration(moov: &[u8]) -> Option<f64> {
    let mut pos = 0usize;
    while pos + 8 <= moov.len() {
        let size = be(&moov[pos..pos + 4]) as usize;
        if size < 8 || pos + size > moov.len() {
            return None;
        }
        if &moov[pos + 4..pos + 8] == b"mvhd" {
            let b = &moov[pos + 8..pos + size];
            let (timescale, duration) = match *b.first()? {
                0 if b.len() >= 20 => (be(&b[12..16]), be(&b[16..20])),
                1 if b.len() >= 32 => (be(&b[20..24]), be(&b[24..32])),
                _ => return None,
            };
            return (timescale > 0).then(|| duration as f64 / timescale as f64);
        }
        pos += size;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn mvhd(timescale: u32, duration: u32) -> Vec<u8> {
        let mut body = vec![0u8; 4 + 8];
        body.extend_from_slice(&timescale.to_be_bytes());
        body.extend_from_slice(&duration.to_be_bytes());
        body.extend_from_slice(&[0u8; 80]);
        bx(b"mvhd", &body)
    }

    #[test]
    fn reads_duration_and_box_order() {
        let dir = tempfile::tempdir().unwrap();
        let fast = dir.path().join("fast.mp4");
        let mut bytes = bx(b"ftyp", b"isom0000");
        bytes.extend(bx(b"moov", &mvhd(1000, 62_500)));
        bytes.extend(bx(b"mdat", &[0u8; 100]));
        std::fs::write(&fast, &bytes).unwrap();
        assert_eq!(
            summarize(&fast).unwrap(),
            Some(Mp4Summary {
                duration: 62.5,
                faststart: true
            })
        );
        let slow = dir.path().join("slow.mp4");
        let mut bytes = bx(b"ftyp", b"isom0000");
        bytes.extend(bx(b"mdat", &[0u8; 100]));
        bytes.extend(bx(b"moov", &mvhd(90_000, 90_000)));
        std::fs::write(&slow, &bytes).unwrap();
        assert!(!summarize(&slow).unwrap().unwrap().faststart);
        let junk = dir.path().join("junk.mp4");
        std::fs::write(&junk, [0xffu8; 64]).unwrap();
        assert_eq!(summarize(&junk).unwrap(), None);
    }
}
