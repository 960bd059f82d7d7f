#!/bin/sh
# Upload benchmark, in one run on this machine: a 1 GiB multipart upload
# over loopback by curl, pimedia against nginx writing the same request
# body to a file (client_body_in_file_only on). Wall time, server CPU
# seconds, server peak RSS.
. "$(dirname "$0")/common.sh"
need nginx ffmpeg curl
build
SIZE_MIB="${SIZE_MIB:-1024}"

# A real video of about SIZE_MIB: uncompressed 720p frames in a MOV, which
# ffprobe reads from its index, as it would a phone's own recording.
FRAMES=$((SIZE_MIB * 1024 * 1024 / 1843200))
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=25 -frames:v "$FRAMES" -c:v rawvideo -pix_fmt uyvy422 "$WORK/upload.mov"
mkdir -p "$WORK/media" "$WORK/nginx-body"
chmod 777 "$WORK/nginx-body"

PPORT=$(free_port); NPORT=$(free_port); DEAD=$(free_port)
"$BIN" --media-dir "$WORK/media" --listen "127.0.0.1:$PPORT" 2>"$WORK/pimedia.log" &
PPID_=$!; PIDS="$PIDS $PPID_"
# nginx reads the whole body into a kept file, then its upstream is down and
# the error page answers 201: the body is received and written, nothing more.
start_nginx "server { listen 127.0.0.1:$NPORT;
    client_max_body_size 0;
    client_body_in_file_only on;
    client_body_temp_path $WORK/nginx-body;
    location /upload { proxy_pass http://127.0.0.1:$DEAD; error_page 502 =201 @ok; }
    location @ok { return 201 'ok'; }
    location / { return 200 'ok'; } }"
wait_http "http://127.0.0.1:$PPORT/healthz"; wait_http "http://127.0.0.1:$NPORT/"
NWORKER=$(pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | head -1)
cat "$WORK/upload.mov" > /dev/null

cpu_secs() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }

run() { # url pid -> wall cpu
    before=$(cpu_secs "$2")
    start=$(date +%s.%N)
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/json' -F "file=@$WORK/upload.mov" "$1")
    end=$(date +%s.%N)
    after=$(cpu_secs "$2")
    [ "$code" = 201 ] || { echo "upload to $1 answered $code" >&2; cat "$WORK/pimedia.log" >&2; exit 1; }
    awk -v s="$start" -v e="$end" -v b="$before" -v a="$after" 'BEGIN { printf "%.2f %.2f\n", e - s, a - b }'
}
sync
set -- $(run "http://127.0.0.1:$NPORT/upload" "$NWORKER"); NW=$1; NC=$2
NRSS=$(hwm_kib "$NWORKER")
rm -f "$WORK"/nginx-body/*; sync
set -- $(run "http://127.0.0.1:$PPORT/upload" "$PPID_"); PW=$1; PC=$2
PRSS=$(hwm_kib "$PPID_")
cmp -s "$WORK/upload.mov" "$WORK/media/upload.mov" || { echo "stored bytes differ" >&2; exit 1; }

ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
echo
echo "| ${SIZE_MIB} MiB multipart upload | pimedia | nginx (body to file) | ratio (target) |"
echo "|---|---|---|---|"
echo "| wall time | ${PW} s | ${NW} s | $(ratio "$PW" "$NW") (≤ 2x) |"
echo "| server CPU | ${PC} s | ${NC} s | $(ratio "$PC" "$NC") (≤ 4x) |"
echo "| server peak RSS | $((PRSS / 1024)) MiB | $((NRSS / 1024)) MiB | (pimedia < 20 MiB) |"
