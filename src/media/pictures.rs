//! The three kinds of picture subtitle track and what differs between
//! them: what a person calls each, how ffmpeg takes one out of its
//! source for reading (PGS as it is, `.sup`; VobSub as the program
//! stream it came in; DVB turned into VobSub by ffmpeg's own decoder and
//! encoder), and which decoder reads its cues.

use super::pgs::{self, Cue};
use super::vobsub;

/// A picture subtitle codec, as ffprobe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureKind {
    /// `hdmv_pgs_subtitle`
    BluRay,
    /// `dvd_subtitle`
    Dvd,
    /// `dvb_subtitle`
    Dvb,
}

impl PictureKind {
    /// The kind of a codec ffprobe names; `None` for text or unknown ones.
    pub fn of(codec: &str) -> Option<PictureKind> {
        match codec {
            "hdmv_pgs_subtitle" => Some(PictureKind::BluRay),
            "dvd_subtitle" => Some(PictureKind::Dvd),
            "dvb_subtitle" => Some(PictureKind::Dvb),
            _ => None,
        }
    }

    /// What the jobs page calls its pictures.
    pub fn name(self) -> &'static str {
        match self {
            PictureKind::BluRay => "Blu-ray pictures",
            PictureKind::Dvd => "DVD pictures",
            PictureKind::Dvb => "DVB pictures",
        }
    }

    /// ffmpeg's output arguments that write one mapped track of this kind
    /// to a file [`PictureKind::each_cue`] reads, on a video frame of
    /// `(width, height)`.
    pub fn take_out_args(self, (width, height): (u32, u32)) -> Vec<String> {
        let args: Vec<String> = match self {
            PictureKind::BluRay => return owned(&["-c:s", "copy", "-f", "sup"]),
            PictureKind::Dvd => owned(&["-c:s", "copy"]),
            // DVB's own frame is 720x576 unless it says otherwise.
            PictureKind::Dvb => owned(&["-c:s", "dvdsub", "-s:s"])
                .into_iter()
                .chain([format!("{}x{}", width.max(720), height.max(576))])
                .collect(),
        };
        // No preload or delay: the cues keep the source's times.
        args.into_iter()
            .chain(owned(&["-muxpreload", "0", "-muxdelay", "0", "-f", "vob"]))
            .collect()
    }

    /// Hands `f` each cue of a track taken out with
    /// [`PictureKind::take_out_args`], in order; `Err` says why the
    /// bytes could not be read.
    pub fn each_cue(
        self,
        bytes: &[u8],
        screen: (u32, u32),
        f: impl FnMut(Cue),
    ) -> Result<(), String> {
        match self {
            PictureKind::BluRay => pgs::each_cue(bytes, f).map_err(|e| e.to_string()),
            PictureKind::Dvd | PictureKind::Dvb => {
                vobsub::each_cue(bytes, screen, f).map_err(|e| e.to_string())
            }
        }
    }
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_taken_out_as_its_decoder_reads_it() {
        assert_eq!(PictureKind::of("subrip"), None);
        let args = |codec| {
            PictureKind::of(codec)
                .unwrap()
                .take_out_args((1920, 1080))
                .join(" ")
        };
        assert_eq!(args("hdmv_pgs_subtitle"), "-c:s copy -f sup");
        assert_eq!(
            args("dvd_subtitle"),
            "-c:s copy -muxpreload 0 -muxdelay 0 -f vob"
        );
        assert_eq!(
            args("dvb_subtitle"),
            "-c:s dvdsub -s:s 1920x1080 -muxpreload 0 -muxdelay 0 -f vob"
        );
        // A small video still gets DVB's own frame.
        assert!(PictureKind::Dvb
            .take_out_args((640, 360))
            .contains(&"720x576".to_string()));
    }

    #[test]
    fn bad_bytes_are_an_error_not_a_panic() {
        let mut n = 0;
        assert!(PictureKind::BluRay
            .each_cue(b"XX0123456789ab", (1920, 1080), |_| n += 1)
            .is_err());
        assert!(PictureKind::Dvd
            .each_cue(&[0, 0, 1, 0xbd, 0xff], (720, 576), |_| n += 1)
            .is_err());
        assert_eq!(n, 0);
    }
}
