#!/bin/sh
# Another audio language first, on demand: the first GET of
# /audio/1/{path} (the remux is made, then sent) and a later one (the
# companion is there), against the same remux by ffmpeg by hand. A 1080p
# H.264 film of CLIP_SECS seconds with English and German AAC.
. "$(dirname "$0")/common.sh"
need ffmpeg curl
build
CLIP_SECS="${CLIP_SECS:-120}"
mkdir -p "$WORK/media"
FILM="$WORK/media/film.mp4"
ffmpeg -v error -f lavfi -i testsrc2=size=1920x1080:rate=25 \
    -f lavfi -i sine=frequency=440:sample_rate=48000 -f lavfi -i sine=frequency=880:sample_rate=48000 \
    -t "$CLIP_SECS" -map 0 -map 1 -map 2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac \
    -metadata:s:a:0 language=eng -metadata:s:a:1 language=deu -movflags +faststart "$FILM"
SIZE=$(du -m "$FILM" | cut -f1)
# Each run starts from a cold page cache where it can (root), as a Pi
# serving a film it has not read for a while.
cold() { sync; [ "$(id -u)" -ne 0 ] || echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

cold
start=$(date +%s.%N)
ffmpeg -v error -i "$FILM" -map '0:v?' -map 0:a:1 -map 0:a:0 -c copy -map_metadata 0 \
    -disposition:a 0 -disposition:a:0 default -movflags +faststart -f mp4 "$WORK/by-hand.mp4"
HAND=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')

PORT=$(free_port)
"$BIN" --media-dir "$WORK/media" --listen "127.0.0.1:$PORT" 2>"$WORK/pimedia.log" &
PIDS="$PIDS $!"
wait_http "http://127.0.0.1:$PORT/healthz"
until curl -fs "http://127.0.0.1:$PORT/api/videos" | grep -q '"duration":[0-9]'; do sleep 0.1; done
cold
secs() { curl -fs -o /dev/null "$@" | awk '{ printf "%.3f", $1 }'; }
FIRST=$(secs -w '%{time_total}' "http://127.0.0.1:$PORT/audio/1/film.mp4")
START=$(secs -r 0-1048575 -w '%{time_starttransfer}' "http://127.0.0.1:$PORT/audio/1/film.mp4")
AGAIN=$(secs -w '%{time_total}' "http://127.0.0.1:$PORT/audio/1/film.mp4")

cat <<TABLE
$(nproc) cores, $(ffmpeg -version | head -1 | cut -d' ' -f1-3), ${CLIP_SECS} s 1920x1080 H.264 + 2 AAC tracks (${SIZE} MiB)

| German first | seconds | vs ffmpeg by hand |
|---|---|---|
| ffmpeg by hand (the same remux, to a file) | $HAND | 1.00× |
| pimedia, first GET /audio/1/… (remux, then the whole file sent) | $FIRST | $(awk -v a="$FIRST" -v b="$HAND" 'BEGIN { printf "%.2f", a / b }')× |
| pimedia, a player's next range request (first byte) | $START | |
| pimedia, a later GET of the whole file (the companion is kept) | $AGAIN | |
TABLE
