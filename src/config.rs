//! Command line and environment: raw clap arguments, then a validated [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::media::{Encoder, Target};

/// Raw command-line arguments. Every option also reads `PIMEDIA_<NAME>`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "pimedia",
    version,
    about = "Home-LAN media server for a Raspberry Pi: uploads, MKV-to-MP4 remux, TV-friendly pages"
)]
pub struct Args {
    /// The library root; uploads land here. Created when missing.
    #[arg(
        long,
        env = "PIMEDIA_MEDIA_DIR",
        value_name = "DIR",
        default_value = "./media"
    )]
    pub media_dir: PathBuf,

    /// Where the job queue, metadata cache, thumbnails and positions live.
    /// Defaults to <media-dir>/.pimedia.
    #[arg(long, env = "PIMEDIA_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// HTTP listen address.
    #[arg(
        long,
        env = "PIMEDIA_LISTEN",
        value_name = "ADDR",
        default_value = "0.0.0.0:8080"
    )]
    pub listen: String,

    /// Number of remux jobs run at the same time (1 to 64).
    #[arg(long, env = "PIMEDIA_WORKERS", value_name = "N", default_value = "1")]
    pub workers: String,

    /// The ffmpeg binary. Found on PATH when not given.
    #[arg(long, env = "PIMEDIA_FFMPEG", value_name = "PATH")]
    pub ffmpeg: Option<PathBuf>,

    /// The ffprobe binary. Found on PATH when not given.
    #[arg(long, env = "PIMEDIA_FFPROBE", value_name = "PATH")]
    pub ffprobe: Option<PathBuf>,

    /// Largest file one upload may carry, e.g. 4G or 500M. Unlimited when not given.
    #[arg(long, env = "PIMEDIA_MAX_UPLOAD", value_name = "SIZE")]
    pub max_upload: Option<String>,

    /// When set, uploads, deletes and job cancels need this password; browsing stays open.
    #[arg(
        long,
        env = "PIMEDIA_UPLOAD_PASSWORD",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub upload_password: Option<String>,

    /// Remove a source file after a lossless remux: its MP4 (and WebVTT
    /// files) hold every stream, copied, and ffprobe reads them back. A
    /// transcode's source is always kept.
    #[arg(long, env = "PIMEDIA_DELETE_ORIGINALS")]
    pub delete_originals: bool,

    /// Where pages point <video src>. nginx serves this prefix in production.
    #[arg(
        long,
        env = "PIMEDIA_VIDEOS_URL",
        value_name = "PREFIX",
        default_value = "/videos/"
    )]
    pub videos_url: String,

    /// Free space uploads must leave on the disk, e.g. 2G.
    /// Defaults to 1 GiB or 5% of the disk, whichever is less.
    #[arg(long, env = "PIMEDIA_DISK_RESERVE", value_name = "SIZE")]
    pub disk_reserve: Option<String>,

    /// Make a playable version (H.264, AAC, at most 1080p) of what a remux
    /// can't fix: HEVC for an H.264-only TV, Hi10P, MPEG-2, DivX, WMV, HDR.
    /// `off` marks such files "needs transcode" instead.
    #[arg(
        long,
        env = "PIMEDIA_TRANSCODE",
        value_name = "on|off",
        default_value = "on"
    )]
    pub transcode: String,

    /// Host names pimedia answers to besides IP addresses, `localhost`,
    /// `*.local` and this machine's name, comma-separated (`media.home.arpa`,
    /// `*.example.org`). Others get 421: a guard against DNS rebinding.
    #[arg(long, env = "PIMEDIA_ALLOWED_HOSTS", value_name = "LIST")]
    pub allowed_hosts: Option<String>,

    /// The "Add videos from your phone" tile on the TV's library page, which
    /// opens a QR code of the upload page's address.
    #[arg(
        long,
        env = "PIMEDIA_PHONE_TILE",
        value_name = "on|off",
        default_value = "on"
    )]
    pub phone_tile: String,

    /// Number of transcodes run at the same time (1 to 16), in a lane of
    /// their own so they never hold up a remux.
    #[arg(
        long,
        env = "PIMEDIA_TRANSCODE_WORKERS",
        value_name = "N",
        default_value = "1"
    )]
    pub transcode_workers: String,

    /// Number of /listen MP3 streams at once (1 to 16): each is an ffmpeg
    /// encoding live; one more gets 503.
    #[arg(
        long,
        env = "PIMEDIA_LISTEN_STREAMS",
        value_name = "N",
        default_value = "2"
    )]
    pub listen_streams: String,

    /// What the household's TVs play, comma-separated: h264 (always), hevc,
    /// vp9, av1, 4k. With hevc, HEVC is copied (tagged hvc1) rather than
    /// transcoded; with 4k, pictures up to 4096×2160 keep their size.
    /// Default: learned from the browsers that open the player (see
    /// /devices), H.264 until one has; given, it replaces learning.
    #[arg(long, env = "PIMEDIA_TV_CODECS", value_name = "LIST")]
    pub tv_codecs: Option<String>,

    /// The H.264 encoder for transcodes: h264_v4l2m2m (Raspberry Pi 4),
    /// h264_vaapi (Intel/AMD) or libx264. Default: the first of these that
    /// encodes a test frame at start-up.
    #[arg(long, env = "PIMEDIA_ENCODER", value_name = "NAME")]
    pub encoder: Option<String>,

    /// The SoC temperature in millidegrees; transcodes pause above 80 °C
    /// and go on below 70 °C.
    #[arg(
        long,
        env = "PIMEDIA_THERMAL_FILE",
        value_name = "PATH",
        default_value = "/sys/class/thermal/thermal_zone0/temp"
    )]
    pub thermal_file: PathBuf,

    /// The Pi firmware's throttling flags (hex); transcodes pause while it
    /// reports under-voltage or throttling now.
    #[arg(
        long,
        env = "PIMEDIA_THROTTLED_FILE",
        value_name = "PATH",
        default_value = "/sys/devices/platform/soc/soc:firmware/get_throttled"
    )]
    pub throttled_file: PathBuf,

    /// Where transcodes run: pi, runners (PCs with the PeerTube runner, see
    /// /helpers) or both. Default: on a runner while one is connected,
    /// else on the Pi. HDR and interlaced sources always stay on the Pi.
    #[arg(long, env = "PIMEDIA_TRANSCODE_ON", value_name = "WHERE")]
    pub transcode_on: Option<String>,

    /// A job on a runner with no update for this many seconds goes back to
    /// the queue (runners update every 60 s).
    #[arg(
        long,
        env = "PIMEDIA_RUNNER_STALL",
        value_name = "SECS",
        default_value = "120"
    )]
    pub runner_stall: String,

    /// Smaller versions made ahead for every video, after its TV version:
    /// any of 1080p, 720p, 480p, 360p, audio (comma-separated). A folder's
    /// own list, set on its page, wins for what is in it.
    #[arg(long, env = "PIMEDIA_VERSIONS", value_name = "LIST")]
    pub versions: Option<String>,

    /// The OCR language packs for picture subtitles (language codes,
    /// comma-separated): `deploy/install.sh` installs them, and a missing
    /// one is said at start. Default: eng and the locale's language.
    #[arg(long, env = "PIMEDIA_OCR_LANGUAGES", value_name = "LIST")]
    pub ocr_languages: Option<String>,

    /// Prints the Debian packages of the OCR languages and exits (for
    /// `deploy/install.sh`).
    #[arg(long, hide = true)]
    pub print_ocr_packages: bool,

    /// A command run when a conversion ends (no shell; split on spaces), with
    /// PIMEDIA_JOB_ID, _SOURCE, _OUTPUT, _STATE and _ERROR in its environment.
    #[arg(long, env = "PIMEDIA_ON_JOB_DONE", value_name = "COMMAND")]
    pub on_job_done: Option<String>,
}

/// Validated settings the rest of the program runs on.
#[derive(Debug, Clone)]
pub struct Config {
    pub media_dir: PathBuf,
    pub state_dir: PathBuf,
    pub listen: SocketAddr,
    pub workers: usize,
    pub ffmpeg: Option<PathBuf>,
    pub ffprobe: Option<PathBuf>,
    pub max_upload: Option<u64>,
    pub upload_password: Option<String>,
    pub delete_originals: bool,
    pub videos_url: String,
    /// `None`: the default, worked out from the disk at start-up.
    pub disk_reserve: Option<u64>,
    pub on_job_done: Option<Vec<String>>,
    pub transcode: bool,
    /// `--phone-tile`.
    pub phone_tile: bool,
    /// `--allowed-hosts`.
    pub allowed_hosts: Vec<String>,
    pub transcode_workers: usize,
    /// `--listen-streams`.
    pub listen_streams: usize,
    /// `--tv-codecs`: what the TVs play, when given; `None` learns it.
    pub target: Option<Target>,
    /// `None`: the best that works, found at start-up.
    pub encoder: Option<Encoder>,
    pub thermal_file: PathBuf,
    pub throttled_file: PathBuf,
    /// `--transcode-on`.
    pub transcode_on: crate::jobs::TranscodeOn,
    /// `--runner-stall`.
    pub runner_stall: std::time::Duration,
    /// `--versions`: for every folder without a list of its own.
    pub versions: Vec<crate::media::versions::Version>,
    /// `--ocr-languages`, as tesseract models.
    pub ocr_models: Vec<String>,
    /// `--print-ocr-packages`.
    pub print_ocr_packages: bool,
}

/// A setting that can't be used, said in one sentence naming the option.
#[derive(Debug, thiserror::Error)]
#[error("{option}: {reason}")]
pub struct ConfigError {
    pub option: &'static str,
    pub reason: String,
}

fn bad(option: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        option,
        reason: reason.into(),
    }
}

impl Config {
    /// Checks every value; nothing on disk is touched here.
    pub fn try_from_args(args: Args) -> Result<Config, ConfigError> {
        check_paths(&args)?;
        let listen = listen_address(&args.listen)?;
        let workers = count("--workers", &args.workers, 64)?;
        let transcode_workers = count("--transcode-workers", &args.transcode_workers, 16)?;
        let listen_streams = count("--listen-streams", &args.listen_streams, 16)?;
        let transcode = on_off("--transcode", &args.transcode)?;
        let phone_tile = on_off("--phone-tile", &args.phone_tile)?;
        let allowed_hosts = host_list(args.allowed_hosts.as_deref());
        let target = tv_codecs(args.tv_codecs.as_deref())?;
        let encoder = encoder(args.encoder.as_deref())?;
        let transcode_on = transcode_on(args.transcode_on.as_deref())?;
        let runner_stall = runner_stall(&args.runner_stall)?;
        let versions =
            crate::media::versions::Version::parse_list(args.versions.as_deref().unwrap_or(""))
                .map_err(|e| bad("--versions", e))?;
        let ocr_models = crate::media::ocr::languages(
            args.ocr_languages.as_deref(),
            crate::media::ocr::system_locale().as_deref(),
        )
        .map_err(|e| bad("--ocr-languages", e))?;
        if args.upload_password.as_deref() == Some("") {
            return Err(bad("--upload-password", "the password is empty"));
        }
        let videos_url = videos_url(&args.videos_url)?;
        let disk_reserve = disk_reserve(args.disk_reserve.as_deref())?;
        Ok(Config {
            state_dir: args
                .state_dir
                .clone()
                .unwrap_or_else(|| args.media_dir.join(".pimedia")),
            media_dir: args.media_dir,
            listen,
            workers,
            ffmpeg: args.ffmpeg,
            ffprobe: args.ffprobe,
            max_upload: size(
                "--max-upload",
                args.max_upload.as_deref(),
                "4G, 500M or 1048576",
            )?,
            upload_password: args.upload_password,
            delete_originals: args.delete_originals,
            videos_url,
            disk_reserve,
            on_job_done: command("--on-job-done", args.on_job_done.as_deref())?,
            transcode,
            phone_tile,
            allowed_hosts,
            transcode_workers,
            listen_streams,
            target,
            encoder,
            thermal_file: args.thermal_file,
            transcode_on,
            runner_stall,
            versions,
            ocr_models,
            print_ocr_packages: args.print_ocr_packages,
            throttled_file: args.throttled_file,
        })
    }
}

/// `4G`, `500M`, `512k`, `1GiB`, `1048576` -> bytes (binary units).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return None,
    };
    let bytes = num * mult as f64;
    (bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// `--listen`: an address and port.
fn listen_address(value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        bad(
            "--listen",
            format!("'{value}' is not an address like 0.0.0.0:8080"),
        )
    })
}

/// `--allowed-hosts`: names separated by commas or spaces.
fn host_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split([',', ' '])
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect()
}

/// `--tv-codecs`: `None` when not given (learned from the TVs).
fn tv_codecs(value: Option<&str>) -> Result<Option<Target>, ConfigError> {
    value
        .map(|list| Target::parse(list).map_err(|e| bad("--tv-codecs", e)))
        .transpose()
}

/// `--encoder`: `None` when not given (the best that works).
fn encoder(value: Option<&str>) -> Result<Option<Encoder>, ConfigError> {
    value
        .map(|name| {
            Encoder::parse(name).ok_or_else(|| {
                bad(
                    "--encoder",
                    format!("'{name}' is not h264_v4l2m2m, h264_vaapi or libx264"),
                )
            })
        })
        .transpose()
}

/// `--transcode-on`: automatic when not given.
fn transcode_on(value: Option<&str>) -> Result<crate::jobs::TranscodeOn, ConfigError> {
    match value {
        None => Ok(crate::jobs::TranscodeOn::Auto),
        Some(w) => crate::jobs::TranscodeOn::parse(w).ok_or_else(|| {
            bad(
                "--transcode-on",
                format!("'{w}' is not pi, runners or both"),
            )
        }),
    }
}

/// `--runner-stall`: seconds, from 1 to a day.
fn runner_stall(value: &str) -> Result<std::time::Duration, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(s) if (1..=86_400).contains(&s) => Ok(std::time::Duration::from_secs(s)),
        _ => Err(bad(
            "--runner-stall",
            format!("'{value}' is not a number of seconds from 1 to 86400"),
        )),
    }
}

/// `--videos-url`: a path or an http(s) address, ending in `/`.
fn videos_url(value: &str) -> Result<String, ConfigError> {
    normalize_prefix(value).ok_or_else(|| {
        bad(
            "--videos-url",
            format!("'{value}' must start with / or http:// or https://"),
        )
    })
}

/// `--disk-reserve`: a size, or `0` for none; `None` when not given.
fn disk_reserve(value: Option<&str>) -> Result<Option<u64>, ConfigError> {
    match value.map(str::trim) {
        Some("0") => Ok(Some(0)),
        other => size("--disk-reserve", other, "1G or 500M"),
    }
}

fn normalize_prefix(p: &str) -> Option<String> {
    let ok = p.starts_with('/') || p.starts_with("http://") || p.starts_with("https://");
    if !ok {
        return None;
    }
    Some(if p.ends_with('/') {
        p.to_string()
    } else {
        format!("{p}/")
    })
}

/// The media dir must be a folder (or not exist yet); ffmpeg and ffprobe,
/// when given, files.
fn check_paths(args: &Args) -> Result<(), ConfigError> {
    if args.media_dir.as_os_str().is_empty() {
        return Err(bad("--media-dir", "the path is empty"));
    }
    if args.media_dir.exists() && !args.media_dir.is_dir() {
        return Err(bad(
            "--media-dir",
            format!("'{}' exists and is not a folder", args.media_dir.display()),
        ));
    }
    for (option, path) in [("--ffmpeg", &args.ffmpeg), ("--ffprobe", &args.ffprobe)] {
        if let Some(p) = path {
            if !p.is_file() {
                return Err(bad(option, format!("'{}' is not a file", p.display())));
            }
        }
    }
    Ok(())
}

/// A number of workers, from 1 to `max`.
fn count(option: &'static str, value: &str, max: usize) -> Result<usize, ConfigError> {
    match value.trim().parse() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(bad(
            option,
            format!("'{value}' is not a number from 1 to {max}"),
        )),
    }
}

/// A switch: `on` or `off`.
fn on_off(option: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(bad(option, format!("'{other}' is not on or off"))),
    }
}

/// An optional size option (`4G`, `500M`, bytes).
fn size(option: &'static str, value: Option<&str>, like: &str) -> Result<Option<u64>, ConfigError> {
    value
        .map(|s| {
            parse_size(s).ok_or_else(|| bad(option, format!("'{s}' is not a size like {like}")))
        })
        .transpose()
}

/// An optional command line, split on spaces.
fn command(option: &'static str, value: Option<&str>) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(line) = value else {
        return Ok(None);
    };
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        return Err(bad(option, "the command is empty"));
    }
    Ok(Some(words))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4G"), Some(4 << 30));
        assert_eq!(parse_size("500M"), Some(500 << 20));
        assert_eq!(parse_size("1.5k"), Some(1536));
        assert_eq!(parse_size("1048576"), Some(1 << 20));
        assert_eq!(parse_size("12X"), None);
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("0"), None);
    }

    #[test]
    fn every_option_reads_a_pimedia_env_var() {
        let cmd = Args::command();
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            // (A hidden one-shot for install.sh is not a setting.)
            if id == "help" || id == "version" || arg.is_hide_set() {
                continue;
            }
            let env = arg.get_env().unwrap_or_else(|| panic!("{id} has no env"));
            let want = format!("PIMEDIA_{}", id.to_ascii_uppercase());
            assert_eq!(env.to_str().unwrap(), want, "option {id}");
        }
    }

    #[test]
    fn bad_values_name_their_option() {
        let args = Args::parse_from(["pimedia", "--workers", "zero"]);
        let e = Config::try_from_args(args).unwrap_err();
        assert!(e.to_string().starts_with("--workers:"), "{e}");
        let args = Args::parse_from(["pimedia", "--listen", "nowhere"]);
        assert!(Config::try_from_args(args)
            .unwrap_err()
            .to_string()
            .starts_with("--listen:"));
        let args = Args::parse_from(["pimedia", "--videos-url", "videos"]);
        assert!(Config::try_from_args(args).is_err());
        for (option, value) in [
            ("--transcode", "maybe"),
            ("--transcode-workers", "0"),
            ("--tv-codecs", "h264,betamax"),
            ("--encoder", "nvenc"),
            ("--transcode-on", "cloud"),
            ("--runner-stall", "0"),
            ("--disk-reserve", "lots"),
            ("--listen-streams", "17"),
        ] {
            let args = Args::parse_from(["pimedia", option, value]);
            let e = Config::try_from_args(args).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{option}:")), "{e}");
        }
    }

    #[test]
    fn defaults() {
        let c = Config::try_from_args(Args::parse_from(["pimedia"])).unwrap();
        assert_eq!(c.state_dir, PathBuf::from("./media/.pimedia"));
        assert_eq!(c.workers, 1);
        assert_eq!(c.videos_url, "/videos/");
        assert_eq!(c.listen.port(), 8080);
        assert!(c.transcode);
        assert_eq!(c.transcode_workers, 1);
        assert_eq!(c.target, None, "learned");
        assert_eq!(c.encoder, None);
    }

    #[test]
    fn given_values_are_kept() {
        let c = Config::try_from_args(Args::parse_from([
            "pimedia",
            "--disk-reserve",
            "0",
            "--runner-stall",
            " 30",
            "--allowed-hosts",
            "media.home.arpa, *.example.org",
            "--videos-url",
            "http://pi:8081/v",
            "--transcode-on",
            "pi",
        ]))
        .unwrap();
        assert_eq!(c.disk_reserve, Some(0));
        assert_eq!(c.runner_stall, std::time::Duration::from_secs(30));
        assert_eq!(c.allowed_hosts, ["media.home.arpa", "*.example.org"]);
        assert_eq!(c.videos_url, "http://pi:8081/v/");
        assert_eq!(c.transcode_on, crate::jobs::TranscodeOn::Pi);
    }
}
