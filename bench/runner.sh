#!/bin/sh
# A PC's runner against the Pi's own lane, in one run on this machine: a
# 4K HEVC clip (a phone's) uploaded and transcoded to the H.264 every TV
# plays, timed from the upload's answer to the MP4 in place,
#  1. by pimedia's own transcode lane (--transcode-on pi), and
#  2. by the stock PeerTube runner on this same machine, registered with
#     pimedia: the protocol's overhead (the runner's download of the
#     source, its upload of the MP4, the final remux on the Pi) on top of
#     its ffmpeg, which is libx264 veryfast at nice 20 as the Pi's is at
#     nice 19.
# Needs node and the runner in ../shared/peertube-runner (or
# `peertube-runner` from npm).
. "$(dirname "$0")/common.sh"
need ffmpeg curl
build
CLIP_SECS="${CLIP_SECS:-10}"
RUNNER_JS="$ROOT/../shared/peertube-runner/dist/peertube-runner.js"
if [ -f "$RUNNER_JS" ]; then RUNNER="node $RUNNER_JS"; else RUNNER="peertube-runner"; fi

CLIP="$WORK/trip.mkv"
ffmpeg -v error -f lavfi -i testsrc2=size=3840x2160:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t "$CLIP_SECS" -c:v libx265 -preset ultrafast -x265-params log-level=error -c:a aac "$CLIP"

# Starts pimedia on $1 (a media dir) with more options; sets PORT and PID.
serve() {
    dir=$1; shift
    mkdir -p "$dir"
    PORT=$(free_port)
    "$BIN" --media-dir "$dir" --listen "127.0.0.1:$PORT" "$@" 2>"$dir.log" &
    PID=$!; PIDS="$PIDS $PID"
    wait_http "http://127.0.0.1:$PORT/healthz"
}

# Uploads the clip to $1's server and times until $2 (the MP4) is there.
timed() {
    curl -fs -o /dev/null -H 'Accept: application/json' -F "file=@$CLIP" "http://127.0.0.1:$PORT/upload"
    start=$(date +%s.%N)
    until [ -e "$1" ]; do sleep 0.05; done
    awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}

# 1. The Pi's lane.
serve "$WORK/pi" --transcode-on pi
PI=$(timed "$WORK/pi/trip.mp4")
kill "$PID"

# 2. The runner, on this machine.
serve "$WORK/pc"
export HOME="$WORK/home"
mkdir -p "$HOME"
$RUNNER server > "$WORK/runner.log" 2>&1 &
PIDS="$PIDS $!"
until [ -S "$HOME/.local/share/peertube-runner-nodejs/default/peertube-runner.sock" ]; do sleep 0.1; done
TOKEN=$(curl -fs "http://127.0.0.1:$PORT/api/runners" | python3 -c 'import json,sys; print(json.load(sys.stdin)["registration_token"])')
$RUNNER register --url "http://127.0.0.1:$PORT" --registration-token "$TOKEN" --runner-name bench-pc > /dev/null
until curl -fs "http://127.0.0.1:$PORT/api/runners" | grep -q '"connected":true'; do sleep 0.1; done
PC=$(timed "$WORK/pc/trip.mp4")
BY=$(curl -fs "http://127.0.0.1:$PORT/api/jobs" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["runner"])')
SIZE=$(du -m "$CLIP" | cut -f1)

cat <<TABLE
$(nproc) cores, $(ffmpeg -version | head -1 | cut -d' ' -f1-3), ${CLIP_SECS} s 3840x2160 HEVC (${SIZE} MiB) -> H.264 1080p

| transcode, upload answered -> MP4 in place | seconds | vs the Pi's lane |
|---|---|---|
| the Pi's own lane (libx264 veryfast, nice 19) | $PI | 1.00× |
| the PeerTube runner on the same machine ($BY) | $PC | $(awk -v a="$PC" -v b="$PI" 'BEGIN { printf "%.2f", a / b }')× |
TABLE
