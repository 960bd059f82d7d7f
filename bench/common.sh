# Shared helpers for bench scripts (sourced, not run).
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/target/release/pimedia"
WORK="$(mktemp -d /tmp/pimedia-bench.XXXXXX)"
# nginx workers run as www-data and must read the files.
chmod 755 "$WORK"
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

need() {
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || {
            SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$c" >/dev/null
        }
    done
}

build() { (cd "$ROOT" && cargo build --release -q); }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() {
    i=0
    until curl -fs "$1" >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 200 ] || { echo "no answer from $1" >&2; cat "$WORK"/nginx/*.log "$WORK"/nginx/stderr 2>/dev/null >&2; exit 1; }
        sleep 0.05
    done
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# Starts Debian's nginx as a plain user process with the given server block.
start_nginx() {
    mkdir -p "$WORK/nginx/tmp"
    cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path $WORK/nginx/tmp;
    proxy_temp_path $WORK/nginx/tmp;
    fastcgi_temp_path $WORK/nginx/tmp;
    uwsgi_temp_path $WORK/nginx/tmp;
    scgi_temp_path $WORK/nginx/tmp;
    $1
}
CONF
    nginx -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" 2>"$WORK/nginx/stderr" &
    PIDS="$PIDS $!"
}

lat() { # p50 p99 in ms from wrk --latency
    wrk -t1 -c1 -d"${SECS}s" --latency "$1" | awk '
      function ms(x) { if (x ~ /us$/) return x/1000; if (x ~ /ms$/) return x+0; if (x ~ /s$/) return x*1000; return x }
      $1=="50%" {p50=ms($2)} $1=="99%" {p99=ms($2)} END {printf "%.2f %.2f", p50, p99}'
}

# Makes fsync(2) of a file part of a timed run, as pimedia's own is.
fsync_file() { python3 -c "import os,sys; f=os.open(sys.argv[1], os.O_RDONLY); os.fsync(f)" "$1"; }

# The physical limit for a page: nginx serving the bytes $1 returns now as
# a static file, at $NURL once it answers. (Not in a subshell: start_nginx
# records nginx in $PIDS for the cleanup.)
nginx_copy_of() {
    mkdir -p "$WORK/static"
    curl -fs "$1" > "$WORK/static/page.html"
    port=$(free_port)
    start_nginx "server { listen 127.0.0.1:$port; root $WORK/static; }"
    NURL="http://127.0.0.1:$port/page.html"
    wait_http "$NURL"
}
