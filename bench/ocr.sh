#!/bin/sh
# Picture subtitles read by OCR: a DVD film (MPEG-2, AC-3 and a VobSub
# track drawn from a known SRT by dvdauthor's spumux, as a DVD authoring
# tool draws it) of CUES subtitles in an MKV. pimedia's subtitles job
# against tesseract by hand on the very pages pimedia hands it (written by
# examples/ocr_pages.rs, pimedia's own preparation), with and without
# OMP_THREAD_LIMIT=1 in its environment: pictures a second, peak RSS, and
# the share of cues whose text equals the SRT's.
. "$(dirname "$0")/common.sh"
need ffmpeg curl spumux tesseract
[ -x /usr/bin/time ] || need time
CUES="${CUES:-600}"
build
(cd "$ROOT" && cargo build --release -q --example ocr_pages)
mkdir -p "$WORK/media"

# The SRT: CUES sentences from a word list, every fifth on two lines, one
# every 0.5 s for 0.4 s.
awk -v n="$CUES" 'BEGIN {
    m = split("the a night river old house we you never always came back under light over station morning Paris letter door brother know think why where is was not here there again tomorrow", w, " ")
    for (i = 0; i < n; i++) {
        s = i * 0.5; e = s + 0.4
        k = 3 + i % 4; line = ""
        for (j = 0; j < k; j++) line = line (j ? " " : "") w[1 + (i * 7 + j * 13) % m]
        line = toupper(substr(line, 1, 1)) substr(line, 2) (i % 3 ? "." : "?")
        if (i % 5 == 4) line = line "\nAnd " w[1 + (i * 3) % m] " " w[1 + (i * 11) % m] "."
        printf "%d\n00:%02d:%02d,%03d --> 00:%02d:%02d,%03d\n%s\n\n", i + 1,
            int(s / 60), int(s) % 60, (s - int(s)) * 1000, int(e / 60), int(e) % 60, (e - int(e)) * 1000, line
    }
}' > "$WORK/subs.srt"
SECS=$(awk -v n="$CUES" 'BEGIN { print int(n / 2) + 2 }')
ffmpeg -v error -f lavfi -i "color=c=gray:s=720x576:r=25" -f lavfi -i sine -t "$SECS" -target pal-dvd "$WORK/film.mpg"
cat > "$WORK/spu.xml" <<XML
<subpictures format="PAL"><stream><textsub filename="$WORK/subs.srt" characterset="UTF-8" fontsize="28.0" font="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" horizontal-alignment="center" vertical-alignment="bottom" left-margin="60" right-margin="60" top-margin="20" bottom-margin="30" subtitle-fps="25" movie-fps="25" movie-width="720" movie-height="574"/></stream></subpictures>
XML
spumux -s0 "$WORK/spu.xml" < "$WORK/film.mpg" > "$WORK/with.mpg" 2>/dev/null
ffmpeg -v error -fflags +genpts -i "$WORK/with.mpg" -map 0:v -map 0:a -map 0:s -c copy \
    -metadata:s:s:0 language=eng "$WORK/media/film.mkv"

# By hand: the same pages, one tesseract run, as pimedia runs it (nice 19,
# idle I/O), with the limit from outside and without it.
ffmpeg -v error -i "$WORK/media/film.mkv" -map 0:s:0 -c:s copy -muxpreload 0 -muxdelay 0 -f vob "$WORK/track.vob"
PAGES=$("$ROOT/target/release/examples/ocr_pages" "$WORK/track.vob" "$WORK/pages")
by_hand() { # env
    /usr/bin/time -f "%e %M" -o "$WORK/time" env $1 nice -n 19 ionice -c 3 \
        tesseract "$WORK/pages/list.txt" stdout -l eng --psm 6 > /dev/null 2>&1
    cat "$WORK/time"
}
set -- $(by_hand OMP_THREAD_LIMIT=1); LIM_S=$1; LIM_KIB=$2
set -- $(by_hand OMP_THREAD_LIMIT=); FREE_S=$1; FREE_KIB=$2

# pimedia: the subtitles job from its start to its end, as its log stamps
# them; tesseract's peak memory read from /proc while it runs.
PORT=$(free_port)
"$BIN" --media-dir "$WORK/media" --listen "127.0.0.1:$PORT" 2>"$WORK/pimedia.log" &
PID=$!
PIDS="$PIDS $PID"
wait_http "http://127.0.0.1:$PORT/healthz"
TESS_KIB=0
until grep -q 'job [0-9]* done: film.mkv -> film.eng.vtt' "$WORK/pimedia.log"; do
    grep -q 'job [0-9]* failed' "$WORK/pimedia.log" && { cat "$WORK/pimedia.log" >&2; exit 1; }
    for t in $(pgrep -x tesseract || true); do
        k=$(hwm_kib "$t" 2>/dev/null || echo 0)
        [ "${k:-0}" -gt "$TESS_KIB" ] && TESS_KIB=$k
    done
    sleep 0.5
done
PIMEDIA_KIB=$(hwm_kib "$PID")
stamp() { sed 's/\x1b\[[0-9;]*m//g' "$WORK/pimedia.log" | grep "$1" | head -1 | cut -c1-27 | xargs -I{} date -d {} +%s.%N; }
JOB_S=$(awk -v s="$(stamp 'running (subtitles')" -v e="$(stamp 'done: film.mkv -> film.eng.vtt')" 'BEGIN { printf "%.1f", e - s }')

# Cues whose text equals the SRT's, in order (spaces and line breaks
# aside: spumux wraps a long line where it sees fit).
EXACT=$(python3 - "$WORK/subs.srt" "$WORK/media/film.eng.vtt" <<'PY'
import sys
def blocks(text, skip):
    out = []
    for b in text.strip().split("\n\n")[skip:]:
        lines = b.split("\n")
        i = next(i for i, l in enumerate(lines) if "-->" in l)
        out.append(" ".join(" ".join(lines[i + 1:]).split()))
    return out
srt = blocks(open(sys.argv[1]).read(), 0)
vtt = blocks(open(sys.argv[2]).read(), 2)
print(sum(a == b for a, b in zip(srt, vtt)), len(srt), len(vtt))
PY
)
set -- $EXACT
mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
ms() { awk -v s="$1" -v n="$PAGES" 'BEGIN { printf "%.1f ms", 1000 * s / n }'; }
rate() { awk -v s="$1" -v n="$PAGES" 'BEGIN { printf "%.0f", n / s }'; }

cat <<TABLE
$(nproc) cores, $(tesseract --version 2>&1 | head -1), a VobSub track of $PAGES pictures (spumux, DejaVu Sans 28 px, 720x576)

| run | time | per picture | pictures/s | peak RSS |
|---|---|---|---|---|
| tesseract by hand, OMP_THREAD_LIMIT=1 from outside | ${LIM_S} s | $(ms "$LIM_S") | $(rate "$LIM_S") | $(mib "$LIM_KIB") |
| tesseract by hand, no limit | ${FREE_S} s | $(ms "$FREE_S") | $(rate "$FREE_S") | $(mib "$FREE_KIB") |
| pimedia's subtitles job (take out, decode, prepare, read, write) | ${JOB_S} s | $(ms "$JOB_S") | $(rate "$JOB_S") | pimedia $(mib "$PIMEDIA_KIB"), tesseract $(mib "$TESS_KIB") |

Cues whose text equals the SRT's: $1 of $2 ($(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f %%", 100 * a / b }')); cues in the WebVTT: $3.
TABLE
