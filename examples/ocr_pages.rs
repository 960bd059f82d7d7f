//! The pictures of a subtitle track as pimedia hands them to tesseract,
//! for `bench/ocr.sh` to time tesseract by hand on the same pages.
//!
//!     cargo run --release --example ocr_pages -- TRACK OUT_DIR
//!
//! TRACK is one track taken out by ffmpeg: a `.sup` (Blu-ray) or the
//! program stream of a DVD track (`-c:s copy -f vob`). OUT_DIR gets
//! `page-N.pgm` for each picture and `list.txt` naming them in order.

use std::io::Write;

use pimedia::media::{ocr, pgs, vobsub};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [track, out] = args.as_slice() else {
        return Err("usage: ocr_pages TRACK OUT_DIR".into());
    };
    let bytes = std::fs::read(track)?;
    let mut cues = Vec::new();
    if bytes.starts_with(b"PG") {
        pgs::each_cue(&bytes, |c| cues.push(c))?;
    } else {
        vobsub::each_cue(&bytes, (720, 576), |c| cues.push(c))?;
    }
    std::fs::create_dir_all(out)?;
    let mut list = std::fs::File::create(format!("{out}/list.txt"))?;
    let mut n = 0;
    for cue in &cues {
        if let Some(pgm) = ocr::composed(cue).as_ref().and_then(ocr::prepare) {
            let file = format!("{out}/page-{n}.pgm");
            std::fs::write(&file, pgm)?;
            writeln!(list, "{file}")?;
            n += 1;
        }
    }
    println!("{n}");
    Ok(())
}
