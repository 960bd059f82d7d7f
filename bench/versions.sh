#!/bin/sh
# Smaller versions of a 1080p film: pimedia's one run (one decode, split
# into 720p, 480p and 360p) against ffmpeg by hand making each version
# alone with the same encoder settings, in one run; and the size of each
# version against the film's. A 1080p H.264 + AAC film of CLIP_SECS seconds
# at about 10 Mb/s.
. "$(dirname "$0")/common.sh"
need ffmpeg curl
build
CLIP_SECS="${CLIP_SECS:-60}"
mkdir -p "$WORK/media"
FILM="$WORK/media/film.mp4"
ffmpeg -v error -f lavfi -i testsrc2=size=1920x1080:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t "$CLIP_SECS" -c:v libx264 -preset veryfast -b:v 10M -maxrate 12M -bufsize 20M -pix_fmt yuv420p \
    -c:a aac -b:a 128k -movflags +faststart "$FILM"
FILM_BYTES=$(stat -c %s "$FILM")

# By hand: each version alone, as pimedia's run encodes it (libx264
# veryfast, High 4.1, the ladder's bitrate at 25 fps, AAC stereo), at the
# priority pimedia's runs at (nice 19, idle I/O).
by_hand() { # name width height bitrate audio
    nice -n 19 ionice -c 3 ffmpeg -v error -y -i "$FILM" -vf "scale=$2:$3,setsar=1,format=yuv420p" -c:v libx264 -preset veryfast \
        -profile:v high -level:v 4.1 -b:v "$4" -maxrate $(($4 * 3 / 2)) -bufsize $(($4 * 2)) -g 50 \
        -pix_fmt yuv420p -c:a aac -ac 2 -b:a "$5" -movflags +faststart -f mp4 "$WORK/hand-$1.mp4"
}
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }
start=$(now)
by_hand 720p 1280 720 2689150 128000
T720=$(since "$start"); start=$(now)
by_hand 480p 854 480 1344575 128000
T480=$(since "$start"); start=$(now)
by_hand 360p 640 360 896383 96000
T360=$(since "$start")
ALONE=$(awk -v a="$T720" -v b="$T480" -v c="$T360" 'BEGIN { printf "%.1f", a + b + c }')

PORT=$(free_port)
"$BIN" --media-dir "$WORK/media" --listen "127.0.0.1:$PORT" --versions 720p,480p,360p 2>"$WORK/pimedia.log" &
PIDS="$PIDS $!"
wait_http "http://127.0.0.1:$PORT/healthz"
# From the run's start to the last version in place, as pimedia's log
# stamps them (no polling that would take CPU from a nice 19 ffmpeg).
until [ "$(grep -c 'job [0-9]* done' "$WORK/pimedia.log")" -ge 3 ]; do sleep 1; done
stamp() { sed 's/\x1b\[[0-9;]*m//g' "$WORK/pimedia.log" | grep "$1" | sed -n "$2" | cut -c1-27 | xargs -I{} date -d {} +%s.%N; }
ONE=$(awk -v s="$(stamp 'running (versions of' 1p)" -v e="$(stamp 'job [0-9]* done' '$p')" 'BEGIN { printf "%.1f", e - s }')
RUNS=$(grep -c 'running (versions of' "$WORK/pimedia.log")

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
share() { awk -v a="$1" -v b="$FILM_BYTES" 'BEGIN { printf "%.0f %%", 100 * a / b }'; }
row() { # name
    f="$WORK/media/film.mp4.$1"
    b=$(stat -c %s "$f")
    h=$(ffprobe -v error -select_streams v:0 -show_entries stream=height -of csv=p=0 "$f")
    hb=$(stat -c %s "$WORK/hand-$1.mp4")
    echo "| $1 | $h | $(mib "$b") MiB ($(share "$b")) | $(mib "$hb") MiB |"
}

cat <<TABLE
$(nproc) cores, $(ffmpeg -version | head -1 | cut -d' ' -f1-3), a ${CLIP_SECS} s 1920x1080 H.264 + AAC film ($(mib "$FILM_BYTES") MiB)

| making 720p, 480p and 360p | seconds | vs by hand, each alone |
|---|---|---|
| ffmpeg by hand, each alone (720p $T720 s, 480p $T480 s, 360p $T360 s) | $ALONE | 1.00× |
| pimedia, one decode for all three ($RUNS ffmpeg run) | $ONE | $(awk -v a="$ONE" -v b="$ALONE" 'BEGIN { printf "%.2f", a / b }')× |

| version | lines | pimedia's (share of the film) | by hand |
|---|---|---|---|
$(row 720p)
$(row 480p)
$(row 360p)
TABLE
