#!/bin/sh
# Runs pimedia from this checkout on ./media (http://localhost:8080/),
# installing ffmpeg first when it is missing. Extra arguments go to pimedia.
set -eu
cd "$(dirname "$0")/.."
if ! command -v ffmpeg >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ffmpeg
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "Rust is missing: install it from https://rustup.rs, then run this again." >&2
    exit 1
fi
exec cargo run --release -- --media-dir ./media "$@"
