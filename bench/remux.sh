#!/bin/sh
# Remux benchmark, in one run on this machine:
#  1. A 1-minute 720p MKV (H.264 + AC3) remuxed by pimedia, queued to done,
#     against the same ffmpeg command line run by hand.
#  2. GET / latency, idle and while 2 workers remux and a 1 GiB upload runs.
. "$(dirname "$0")/common.sh"
need wrk ffmpeg curl
build
SECS="${SECS:-10}"

ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t 60 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a ac3 -b:a 384k "$WORK/film.mkv"
mkdir -p "$WORK/hand" "$WORK/media"
cat "$WORK/film.mkv" > /dev/null

# Each side runs 3 times; the median is reported (a 2-core VM is noisy).
median() { sort -n | sed -n 2p; }

# pimedia's own command line for this file (see src/media/plan.rs).
HAND=$(for i in 1 2 3; do
    rm -f "$WORK/hand/film.mp4"
    start=$(date +%s.%N)
    nice -n 10 ionice -c 3 ffmpeg -hide_banner -nostdin -n -loglevel level+info -i "$WORK/film.mkv" \
        -map 0:0 -c:v copy -map 0:1 -c:a:0 aac -b:a:0 128000 -disposition:a:0 default \
        -map 0:1 -c:a:1 copy -disposition:a:1 0 -map_metadata 0 -map_chapters 0 \
        -movflags +faststart -f mp4 "$WORK/hand/film.mp4" 2>/dev/null
    awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", e - s }'
done | median)

# Queued to done, from pimedia's own log (microsecond timestamps), for a
# file that arrived as phones send them: uploaded, so already probed.
stamp() { grep "$1" "$WORK/one.log" | head -1 | cut -c1-27 | python3 -c "import sys,datetime; print(datetime.datetime.fromisoformat(sys.stdin.read().strip().rstrip('Z')).timestamp())"; }
mkdir -p "$WORK/one"
PORT=$(free_port)
"$BIN" --media-dir "$WORK/one" --listen "127.0.0.1:$PORT" 2>"$WORK/one.log" &
ONE=$!
wait_http "http://127.0.0.1:$PORT/healthz"
PIM=$(for i in 1 2 3; do
    curl -fs -o /dev/null -H 'Accept: application/json' -F "file=@$WORK/film.mkv;filename=film$i.mkv" "http://127.0.0.1:$PORT/upload"
    until grep -q "job $i done\|job $i failed" "$WORK/one.log"; do sleep 0.05; done
    grep -q "job $i done" "$WORK/one.log" || { cat "$WORK/one.log" >&2; exit 1; }
    awk -v s="$(stamp "job $i queued")" -v e="$(stamp "job $i done")" 'BEGIN { printf "%.2f\n", e - s }'
done | median)
kill $ONE; wait $ONE 2>/dev/null || true

# A realistic library for the page latency: 10,000 files whose metadata
# is cached (see serve.sh).
python3 - "$WORK/media" <<'PY'
import json, os, sys
media = sys.argv[1]
os.makedirs(os.path.join(media, ".pimedia"), exist_ok=True)
os.makedirs(os.path.join(media, "shows"), exist_ok=True)
cache = {}
for i in range(10000):
    name = f"shows/Show {i // 100:03d} - Episode {i % 100:02d}.mp4"
    p = os.path.join(media, name)
    open(p, "wb").write(b"\0" * 64)
    st = os.stat(p)
    cache[name] = {"size": st.st_size, "modified": int(st.st_mtime),
                   "meta": {"duration": 1300.5, "width": 1920, "height": 1080, "codecs": ["h264", "aac"]}}
json.dump(cache, open(os.path.join(media, ".pimedia", "metadata.json"), "w"))
# The steady state: every video has its poster (named as src/library/indexer.rs names them).
import hashlib
os.makedirs(os.path.join(media, ".pimedia", "thumbs"), exist_ok=True)
for path, c in cache.items():
    pid = hashlib.sha256(f"{path}\0{c['size']}\0{c['modified']}".encode()).hexdigest()[:16]
    open(os.path.join(media, ".pimedia", "thumbs", pid + ".jpg"), "wb").write(b"\xff\xd8\xff\xd9")
PY
PORT=$(free_port)
"$BIN" --media-dir "$WORK/media" --listen "127.0.0.1:$PORT" --workers 2 2>"$WORK/pimedia.log" &
PPID_=$!; PIDS="$PIDS $PPID_"
wait_http "http://127.0.0.1:$PORT/healthz"

lat() { # p50 p99 in ms from wrk --latency
    wrk -t1 -c1 -d"${SECS}s" --latency "$1" | awk '
      function ms(x) { if (x ~ /us$/) return x/1000; if (x ~ /ms$/) return x+0; if (x ~ /s$/) return x*1000; return x }
      $1=="50%" {p50=ms($2)} $1=="99%" {p99=ms($2)} END {printf "%.2f %.2f", p50, p99}'
}
URL="http://127.0.0.1:$PORT/?dir=shows"
set -- $(lat "$URL"); I50=$1; I99=$2

# Load: enough copies to keep 2 workers busy, and 1 GiB uploads in a loop.
for i in $(seq 1 12); do
    curl -fs -o /dev/null -H 'Accept: application/json' -F "folder=load" -F "file=@$WORK/film.mkv;filename=copy$i.mkv" "http://127.0.0.1:$PORT/upload"
done
FRAMES=$((1024 * 1024 * 1024 / 1843200))
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=25 -frames:v "$FRAMES" -c:v rawvideo -pix_fmt uyvy422 "$WORK/upload.mov"
# The uploader stands in for a phone on the LAN: its own CPU is not the
# server's, so it runs at the lowest priority here.
( while :; do nice -n 19 curl -s -o /dev/null -H 'Accept: application/json' -F "folder=up" -F "file=@$WORK/upload.mov" "http://127.0.0.1:$PORT/upload"; rm -rf "$WORK/media/up"; done ) &
UPLOADER=$!; PIDS="$PIDS $UPLOADER"
sleep 1
RUNNING=$(curl -fs "http://127.0.0.1:$PORT/api/jobs" | grep -o '"state":"running"' | wc -l)
set -- $(lat "$URL"); L50=$1; L99=$2
RUNNING_AFTER=$(curl -fs "http://127.0.0.1:$PORT/api/jobs" | grep -o '"state":"running"' | wc -l)
kill $UPLOADER 2>/dev/null || true

ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
echo
echo "| measure | pimedia | reference | ratio (target) |"
echo "|---|---|---|---|"
echo "| 1-min 720p MKV (H.264 + AC3) to MP4 | ${PIM} s (queued to done, median of 3) | ${HAND} s (same ffmpeg by hand) | $(ratio "$PIM" "$HAND") (≤ 1.1x) |"
echo "| GET /?dir=shows (10,000 files) p50 / p99, idle | ${I50} / ${I99} ms | | |"
echo "| the same, 2 remuxes ($RUNNING then $RUNNING_AFTER running) + 1 GiB uploads | ${L50} / ${L99} ms | idle p99 ${I99} ms | $(ratio "$L99" "$I99") (≤ 2x, < 50 ms) |"
