#!/bin/sh
# The Pi builds, each run under qemu as it would run on a Pi: --help,
# ffmpeg starting, a page, a Range request and a small upload. Builds them first
# (deploy/build.sh) unless SKIP_BUILD is set.
#   tests/qemu-smoke.sh                 aarch64 and armv7
#   tests/qemu-smoke.sh aarch64         one of them
set -eu
cd "$(dirname "$0")/.."
TARGETS="${1:-aarch64 armv7}"
[ -n "${SKIP_BUILD:-}" ] || ./deploy/build.sh "$TARGETS"
WORK=$(mktemp -d)
PID=""
cleanup() { [ -z "$PID" ] || kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

fail() { echo "qemu smoke test FAILED ($T): $*" >&2; [ -f "$WORK/log" ] && cat "$WORK/log" >&2; exit 1; }

ffmpeg -v error -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -t 2 \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "$WORK/clip.mp4"

smoke() {
    case "$T" in
        aarch64) BIN=target/aarch64-unknown-linux-gnu/release/pimedia
                 QEMU="qemu-aarch64 -L /usr/aarch64-linux-gnu"; MACHINE=AArch64 ;;
        armv7)   BIN=target/armv7-unknown-linux-gnueabihf/release/pimedia
                 QEMU="qemu-arm -L /usr/arm-linux-gnueabihf"; MACHINE="ARM$" ;;
    esac
    readelf -h "$BIN" | grep -q "Machine: *$MACHINE" || fail "$BIN is not a $T binary"
    $QEMU "$BIN" --help | grep -q -- "--media-dir" || fail "--help"

    rm -rf "$WORK/media"; mkdir -p "$WORK/media"
    cp "$WORK/clip.mp4" "$WORK/media/film.mp4"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    $QEMU "$BIN" --media-dir "$WORK/media" --listen "127.0.0.1:$PORT" 2>"$WORK/log" &
    PID=$!
    i=0
    until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null; do
        i=$((i + 1)); [ $i -lt 300 ] || fail "no answer"; sleep 0.1
    done
    # The host's ffmpeg, started the way jobs start it.
    curl -fs "http://127.0.0.1:$PORT/healthz" | grep -q '"ffmpeg_starts":true' || fail "ffmpeg cannot start"
    curl -fs "http://127.0.0.1:$PORT/" | grep -q 'href="/watch/film.mp4"' || fail "the library page"
    code=$(curl -s -o "$WORK/part" -w '%{http_code}' -H 'Range: bytes=10-109' "http://127.0.0.1:$PORT/videos/film.mp4")
    [ "$code" = 206 ] || fail "Range answered $code"
    dd if="$WORK/clip.mp4" of="$WORK/want" bs=1 skip=10 count=100 2>/dev/null
    cmp -s "$WORK/part" "$WORK/want" || fail "Range bytes differ"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/json' -F "file=@$WORK/clip.mp4;filename=up.mp4" "http://127.0.0.1:$PORT/upload")
    [ "$code" = 201 ] || fail "upload answered $code"
    cmp -s "$WORK/clip.mp4" "$WORK/media/up.mp4" || fail "uploaded bytes differ"
    kill -TERM "$PID"; wait "$PID" || fail "exit status $?"
    PID=""
    echo "qemu smoke test passed: $T pimedia answered --help, a page, a Range request and an upload"
}

for T in $TARGETS; do smoke; done
