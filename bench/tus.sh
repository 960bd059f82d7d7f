#!/bin/sh
# Resumable-upload benchmark, in one run on this machine: the official tus
# client (tus-js-client, 8 MiB chunks, as the upload page's) sends a
# SIZE_MIB video over loopback to pimedia, and to the tus reference server
# (@tus/server with its file store) whose time includes an fsync of the
# file it wrote (pimedia's answer to the last chunk comes after its own
# fsync, probe and rename). Runs alternate, RUNS of each; medians.
. "$(dirname "$0")/common.sh"
need ffmpeg curl
build
SIZE_MIB="${SIZE_MIB:-550}"
RUNS="${RUNS:-5}"
npm ci --prefix "$ROOT/bench/tus" --no-audit --no-fund --silent

# A real video of about SIZE_MIB (raw 720p frames in a MOV; ffprobe reads
# its index), as a phone's recording would be.
FRAMES=$((SIZE_MIB * 1024 * 1024 / 1843200))
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=25 -frames:v "$FRAMES" -c:v rawvideo -pix_fmt uyvy422 "$WORK/clip.mov"
mkdir -p "$WORK/media" "$WORK/tusd"

PPORT=$(free_port); TPORT=$(free_port)
"$BIN" --media-dir "$WORK/media" --listen "127.0.0.1:$PPORT" 2>"$WORK/pimedia.log" &
PIDS="$PIDS $!"
node "$ROOT/bench/tus/server.mjs" "$TPORT" "$WORK/tusd" 2>"$WORK/tusd.log" &
PIDS="$PIDS $!"
wait_http "http://127.0.0.1:$PPORT/healthz"
i=0; until curl -s -o /dev/null "http://127.0.0.1:$TPORT/files"; do i=$((i+1)); [ $i -lt 200 ] || exit 1; sleep 0.05; done
cat "$WORK/clip.mov" > /dev/null

client() { node "$ROOT/bench/tus/client.mjs" "$1" "$WORK/clip.mov"; }
pimedia_run() {
    set -- $(client "http://127.0.0.1:$PPORT/uploads/")
    cmp -s "$WORK/clip.mov" "$WORK/media/clip.mov" || { echo "pimedia stored other bytes" >&2; cat "$WORK/pimedia.log" >&2; exit 1; }
    rm -f "$WORK/media/clip.mov"
    echo "$1"
}
reference_run() {
    start=$(date +%s.%N)
    set -- $(client "http://127.0.0.1:$TPORT/files")
    file="$WORK/tusd/${2##*/}"
    python3 -c "import os,sys; f=os.open(sys.argv[1], os.O_RDONLY); os.fsync(f)" "$file"
    end=$(date +%s.%N)
    cmp -s "$WORK/clip.mov" "$file" || { echo "the reference server stored other bytes" >&2; exit 1; }
    rm -f "$WORK"/tusd/*
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

P=""; T=""
n=0
while [ $n -lt "$RUNS" ]; do
    sync
    T="$T $(reference_run)"
    sync
    P="$P $(pimedia_run)"
    n=$((n + 1))
done
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }
PM=$(median $P); TM=$(median $T)
echo
echo "| ${SIZE_MIB} MiB with tus-js-client, 8 MiB chunks (median of $RUNS) | pimedia | @tus/server file store + fsync | ratio (target ≤ 1.0x) |"
echo "|---|---|---|---|"
echo "| wall time | ${PM} s | ${TM} s | $(python3 -c "print(f'{$PM/$TM:.2f}x')") |"
echo "(runs: pimedia$P; reference$T)"
