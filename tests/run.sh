#!/bin/sh
# The whole test suite on a fresh Debian or Ubuntu machine: installs what is
# missing (ffmpeg, nginx, systemd-analyze, systemd-nspawn and debootstrap,
# Node.js, Chromium, WebKitGTK's WebDriver with Xvfb and GStreamer, zbar,
# tesseract with English and German, dvdauthor,
# minidlna and Python's venv, the Pi cross linkers
# and qemu), then runs every test:
# cargo's (as root, tests/install.rs boots Debian bookworm with systemd and
# installs pimedia there), the browser tests, and the aarch64 and armv7
# builds under qemu.
set -eu
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=""
command -v ffmpeg >/dev/null 2>&1 || missing="$missing ffmpeg"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
command -v nginx >/dev/null 2>&1 || missing="$missing nginx"
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
command -v pgrep >/dev/null 2>&1 || missing="$missing procps"
command -v systemd-nspawn >/dev/null 2>&1 || missing="$missing systemd-container"
command -v debootstrap >/dev/null 2>&1 || missing="$missing debootstrap"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v zbarimg >/dev/null 2>&1 || missing="$missing zbar-tools"
[ -x /usr/sbin/minidlnad ] || missing="$missing minidlna"
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$missing python3-venv"
# WebKit, as iPhones are: WebKitGTK's WebDriver under Xvfb, GStreamer to play.
command -v WebKitWebDriver >/dev/null 2>&1 || missing="$missing webkit2gtk-driver"
command -v xvfb-run >/dev/null 2>&1 || missing="$missing xvfb xauth"
dpkg -s gstreamer1.0-libav >/dev/null 2>&1 || missing="$missing gstreamer1.0-libav"
dpkg -s gstreamer1.0-plugins-good >/dev/null 2>&1 || missing="$missing gstreamer1.0-plugins-good"
# Picture subtitles read by OCR: tesseract with English and German, a font
# for drawing the known text the tests read back, and dvdauthor's spumux
# for DVD subtitles.
command -v tesseract >/dev/null 2>&1 || missing="$missing tesseract-ocr"
[ -f /usr/share/tesseract-ocr/5/tessdata/eng.traineddata ] || missing="$missing tesseract-ocr-eng"
[ -f /usr/share/tesseract-ocr/5/tessdata/deu.traineddata ] || missing="$missing tesseract-ocr-deu"
command -v spumux >/dev/null 2>&1 || missing="$missing dvdauthor"
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$missing fonts-dejavu-core"
if [ -n "$missing" ]; then
    echo "installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
    # The DLNA test runs its own minidlnad; the package's service is not wanted.
    case "$missing" in *minidlna*) $SUDO systemctl disable --now minidlna >/dev/null 2>&1 || true ;; esac
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "Rust is missing: install it from https://rustup.rs, then run this again." >&2
    exit 1
fi
npm ci --prefix tests --no-audit --no-fund --silent
cargo test "$@"
# Tests that need root (a container boot, a machine-wide sysctl): ignored by
# a plain `cargo test`, run here when root, as CI is.
if [ "$(id -u)" -eq 0 ]; then
    cargo test --test install --test watch_limit "$@" -- --ignored
else
    echo "not root: the install test and the inotify-limit test were not run" >&2
fi
# The browser tests and the chaos script drive the binary cargo just built.
node --test tests/browser/
node tests/chaos.js 6
./tests/qemu-smoke.sh
