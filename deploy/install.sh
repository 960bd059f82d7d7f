#!/bin/sh
# Installs pimedia on a Raspberry Pi (Pi OS / Debian): the binary, a system
# user, the media and state folders, the systemd unit, the nginx site and
# /etc/default/pimedia. Safe to run again (upgrades keep your settings).
#
#   sudo deploy/install.sh [--dlna] [--ocr-languages LIST] [path/to/pimedia]
#                                              install or upgrade
#   sudo deploy/install.sh --uninstall         remove pimedia, keep videos and state
#   sudo deploy/install.sh --purge             also remove the state dir and the user
#   deploy/install.sh --print-dlna-config MEDIA DB_DIR PORT NAME
#                                              the minidlna configuration --dlna writes
#
# --dlna also installs Debian's minidlna (ReadyMedia) on the same media
# folder, so the TV's own media player lists the library (port 8200).
# Picture subtitles (Blu-ray, DVD, DVB) are read by tesseract: it is
# installed with the language packs of --ocr-languages (else
# PIMEDIA_OCR_LANGUAGES in /etc/default/pimedia; else English and the
# system's language), e.g. --ocr-languages eng,deu,fra.
set -eu
cd "$(dirname "$0")"

MEDIA=/srv/media
STATE=/var/lib/pimedia
DLNA_CONF=/etc/minidlna.conf

# deploy/minidlna.conf with its blanks filled in.
dlna_config() {
    sed -e "s|@MEDIA_DIR@|$1|" -e "s|@DB_DIR@|$2|g" -e "s|@PORT@|$3|" -e "s|@NAME@|$4|" minidlna.conf
}

if [ "${1:-}" = "--print-dlna-config" ]; then
    [ $# -eq 5 ] || { echo "usage: $0 --print-dlna-config MEDIA DB_DIR PORT NAME" >&2; exit 2; }
    dlna_config "$2" "$3" "$4" "$5"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "run it as root: sudo $0 $*" >&2; exit 1; }

uninstall() {
    systemctl disable --now pimedia 2>/dev/null || true
    rm -f /etc/systemd/system/pimedia.service /usr/local/bin/pimedia
    rm -f /etc/nginx/sites-enabled/pimedia /etc/nginx/sites-available/pimedia
    rm -f /etc/avahi/services/pimedia.service
    # minidlna, when --dlna put it there: its own settings come back.
    if [ -e "$DLNA_CONF.pimedia-orig" ]; then
        systemctl disable --now minidlna 2>/dev/null || true
        mv "$DLNA_CONF.pimedia-orig" "$DLNA_CONF"
        echo "minidlna's settings are back as they were; remove it with: sudo apt-get remove minidlna"
    fi
    systemctl daemon-reload
    if command -v nginx >/dev/null && nginx -t 2>/dev/null; then systemctl reload nginx || true; fi
    echo "pimedia removed; your videos in $MEDIA and /etc/default/pimedia are kept."
}

case "${1:-}" in
    --uninstall) uninstall; exit 0 ;;
    --purge) uninstall; rm -rf "$STATE" /etc/default/pimedia; userdel pimedia 2>/dev/null || true
             echo "state and user removed; $MEDIA is kept."; exit 0 ;;
esac

DLNA=""
OCR=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dlna) DLNA=1; shift ;;
        --ocr-languages) OCR="${2:?--ocr-languages needs a list, such as eng,deu}"; shift 2 ;;
        *) break ;;
    esac
done
BIN="${1:-}"
if [ -z "$BIN" ]; then
    case "$(uname -m)" in
        aarch64) BIN=../target/aarch64-unknown-linux-gnu/release/pimedia ;;
        armv7l|armv6l) BIN=../target/armv7-unknown-linux-gnueabihf/release/pimedia ;;
        *) BIN=../target/release/pimedia ;;
    esac
fi
[ -x "$BIN" ] || { echo "no pimedia binary at $BIN: build it (deploy/build.sh) or give its path" >&2; exit 1; }

missing=""
command -v ffmpeg >/dev/null || missing="$missing ffmpeg"
command -v nginx >/dev/null || missing="$missing nginx"
[ -z "$DLNA" ] || command -v minidlnad >/dev/null || missing="$missing minidlna"
# OCR for picture subtitles: tesseract and the household's language packs,
# as the binary names them (it knows the language codes).
[ -n "$OCR" ] || [ ! -r /etc/default/pimedia ] || OCR="$(sed -n 's/^PIMEDIA_OCR_LANGUAGES=//p' /etc/default/pimedia | tail -1)"
for pkg in $("$BIN" --print-ocr-packages ${OCR:+--ocr-languages "$OCR"}); do
    dpkg -s "$pkg" >/dev/null 2>&1 && continue
    if apt-cache show "$pkg" >/dev/null 2>&1; then
        missing="$missing $pkg"
    else
        echo "no package $pkg here: picture subtitles in its language stay unread" >&2
    fi
done
if [ -n "$missing" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi

id pimedia >/dev/null 2>&1 || useradd --system --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin pimedia
# VAAPI's /dev/dri/renderD128 belongs to the render group (where udev made it).
if getent group render >/dev/null; then usermod -aG render pimedia; fi
install -d -o pimedia -g pimedia -m 0755 "$MEDIA"
install -m 0755 "$BIN" /usr/local/bin/pimedia.new && mv /usr/local/bin/pimedia.new /usr/local/bin/pimedia
install -m 0644 pimedia.service /etc/systemd/system/pimedia.service

if [ ! -e /etc/default/pimedia ]; then
    cat > /etc/default/pimedia <<'CONF'
# pimedia settings (see `pimedia --help`). Uncomment to change; then
# `sudo systemctl restart pimedia`.
#PIMEDIA_MEDIA_DIR=/srv/media
#PIMEDIA_STATE_DIR=/var/lib/pimedia
#PIMEDIA_LISTEN=127.0.0.1:8080
#PIMEDIA_WORKERS=1
#PIMEDIA_FFMPEG=/usr/bin/ffmpeg
#PIMEDIA_FFPROBE=/usr/bin/ffprobe
#PIMEDIA_MAX_UPLOAD=20G
#PIMEDIA_UPLOAD_PASSWORD=change-me
#PIMEDIA_DELETE_ORIGINALS=true
#PIMEDIA_VIDEOS_URL=/videos/
#PIMEDIA_DISK_RESERVE=1G
# Picture subtitles' languages (install.sh installs their OCR packs):
#PIMEDIA_OCR_LANGUAGES=eng,deu
# The unit lets pimedia reach only the LAN: for an internet service, also
# add its address with IPAddressAllow= (sudo systemctl edit pimedia).
#PIMEDIA_ON_JOB_DONE=/usr/bin/curl -s -d "ready" https://ntfy.sh/my-topic
#RUST_LOG=info
CONF
    chmod 0640 /etc/default/pimedia
    chgrp pimedia /etc/default/pimedia
fi

install -m 0644 nginx/pimedia.conf /etc/nginx/sites-available/pimedia
ln -sf ../sites-available/pimedia /etc/nginx/sites-enabled/pimedia
# Debian's own default site would take port 80 first.
[ -L /etc/nginx/sites-enabled/default ] && rm -f /etc/nginx/sites-enabled/default
nginx -t
# mDNS: Avahi (running on Pi OS) announces "pimedia on <hostname>".
if [ -d /etc/avahi/services ]; then
    install -m 0644 avahi/pimedia.service /etc/avahi/services/pimedia.service
fi
if [ -n "$DLNA" ]; then
    [ -e "$DLNA_CONF.pimedia-orig" ] || [ ! -e "$DLNA_CONF" ] || cp -p "$DLNA_CONF" "$DLNA_CONF.pimedia-orig"
    dlna_config "$MEDIA" /var/cache/minidlna 8200 "pimedia on $(hostname)" > "$DLNA_CONF"
    install -d -o minidlna -g minidlna /var/cache/minidlna
    systemctl enable minidlna >/dev/null
    systemctl restart minidlna
fi
systemctl daemon-reload
systemctl enable pimedia >/dev/null
systemctl restart pimedia
systemctl reload nginx || systemctl restart nginx
echo "pimedia is running: open http://$(hostname -I 2>/dev/null | cut -d' ' -f1)/ on the TV."
