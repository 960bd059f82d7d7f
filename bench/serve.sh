#!/bin/sh
# Foundation benchmarks, in one run on this machine:
#  1. /videos/ throughput: 16 connections fetching random 1 MiB ranges of one
#     file, pimedia against nginx serving the same file with sendfile.
#  2. GET / latency (p50, p99) with 10,000 files in the library.
#  3. pimedia's RSS idle and after the load.
. "$(dirname "$0")/common.sh"
need wrk nginx ffmpeg
build
SECS="${SECS:-10}"

mkdir -p "$WORK/media"
# A 512 MiB file: bigger than any cache line of thought, small enough for /tmp.
head -c $((512 * 1024 * 1024)) /dev/urandom > "$WORK/media/big.mp4"

# 10,000 library entries, with their metadata already cached (the restart
# path: pimedia probes nothing it has seen before).
python3 - "$WORK/media" <<'PY'
import json, os, sys
media = sys.argv[1]
os.makedirs(os.path.join(media, ".pimedia"), exist_ok=True)
cache = {}
for i in range(10000):
    name = f"Show {i // 100:03d} - Episode {i % 100:02d}.mp4"
    p = os.path.join(media, name)
    with open(p, "wb") as f:
        f.write(b"\0" * 64)
    st = os.stat(p)
    cache[name] = {"size": st.st_size, "modified": int(st.st_mtime),
                   "meta": {"duration": 1300.5, "width": 1920, "height": 1080, "codecs": ["h264", "aac"]}, "version": 2}
st = os.stat(os.path.join(media, "big.mp4"))
cache["big.mp4"] = {"size": st.st_size, "modified": int(st.st_mtime), "meta": {"duration": 60.0, "width": 1280, "height": 720, "codecs": ["h264", "aac"]}, "version": 2}
json.dump(cache, open(os.path.join(media, ".pimedia", "metadata.json"), "w"))
# The steady state: every video has its poster (named as src/library/indexer.rs names them).
import hashlib
os.makedirs(os.path.join(media, ".pimedia", "thumbs"), exist_ok=True)
for path, c in cache.items():
    pid = hashlib.sha256(f"{path}\0{c['size']}\0{c['modified']}".encode()).hexdigest()[:16]
    open(os.path.join(media, ".pimedia", "thumbs", pid + ".jpg"), "wb").write(b"\xff\xd8\xff\xd9")
PY

PPORT=$(free_port); NPORT=$(free_port)
# First start: everything is in the metadata cache; time to a healthy server.
start=$(date +%s.%N)
"$BIN" --media-dir "$WORK/media" --listen "127.0.0.1:$PPORT" 2>"$WORK/pimedia.log" &
PPID_=$!; PIDS="$PIDS $PPID_"
until curl -fs "http://127.0.0.1:$PPORT/healthz" >/dev/null 2>&1; do sleep 0.01; done
RESTART=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
start_nginx "server { listen 127.0.0.1:$NPORT; sendfile on; tcp_nopush on; location /videos/ { alias $WORK/media/; } }"
wait_http "http://127.0.0.1:$PPORT/healthz"; wait_http "http://127.0.0.1:$NPORT/videos/Show%20000%20-%20Episode%2000.mp4"
sleep 1
IDLE_RSS=$(rss_kib $PPID_)

SIZE=$(stat -c %s "$WORK/media/big.mp4")
cat > "$WORK/range.lua" <<LUA
math.randomseed(os.time())
request = function()
  local off = math.random(0, $SIZE / 1048576 - 1) * 1048576
  return wrk.format("GET", "/videos/big.mp4", { Range = "bytes=" .. off .. "-" .. (off + 1048575) })
end
LUA
# Warm the page cache so both read from memory, as a Pi serving a film does.
cat "$WORK/media/big.mp4" > /dev/null
mibps() { # wrk's Transfer/sec line -> MiB/s
    awk '/Transfer\/sec/ { v=$2; u=v; gsub(/[0-9.]/,"",u); gsub(/[A-Za-z]/,"",v);
         if (u=="GB") v*=1024; if (u=="KB") v/=1024; printf "%.0f", v }'
}
N=$(wrk -t2 -c16 -d"${SECS}s" -s "$WORK/range.lua" "http://127.0.0.1:$NPORT" | mibps)
P=$(wrk -t2 -c16 -d"${SECS}s" -s "$WORK/range.lua" "http://127.0.0.1:$PPORT" | mibps)

set -- $(lat "http://127.0.0.1:$PPORT/")
P50=$1; P99=$2
set -- $(lat "http://127.0.0.1:$PPORT/?q=episode%2042&sort=date")
S50=$1; S99=$2
LOAD_RSS=$(rss_kib $PPID_)
HWM=$(hwm_kib $PPID_)

echo
echo "| measure | pimedia | reference | ratio / target |"
echo "|---|---|---|---|"
echo "| /videos/ 1 MiB ranges, 16 connections | ${P} MiB/s | nginx sendfile ${N} MiB/s | $(python3 -c "print(f'{$P/$N:.2f}x')") (target ≥ 0.3x) |"
echo "| GET / with 10,000 files, p50 / p99 | ${P50} / ${P99} ms | | p99 target < 20 ms |"
echo "| GET /?q=…&sort=date, p50 / p99 | ${S50} / ${S99} ms | | |"
echo "| start to healthy /healthz, 10,000 cached files | ${RESTART} s | | target < 1 s |"
echo "| RSS idle with 10,000 files | $((IDLE_RSS / 1024)) MiB | | target < 15 MiB (and < 40 MiB) |"
echo "| RSS after the load (peak) | $((LOAD_RSS / 1024)) MiB ($((HWM / 1024)) MiB) | | |"
