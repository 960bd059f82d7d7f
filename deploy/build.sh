#!/bin/sh
# Builds pimedia for the Raspberry Pi without Docker: 64-bit Pi OS
# (aarch64) and 32-bit Pi OS (armv7), with Debian's cross linkers. Installs
# what it needs. Binaries land in target/<triple>/release/pimedia.
#   deploy/build.sh                 both targets
#   deploy/build.sh aarch64         one of them (aarch64 or armv7)
set -eu
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

targets="${1:-aarch64 armv7}"
pkgs=""
for t in $targets; do
    case "$t" in
        aarch64) command -v aarch64-linux-gnu-gcc >/dev/null || pkgs="$pkgs gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
                 command -v qemu-aarch64 >/dev/null || pkgs="$pkgs qemu-user" ;;
        armv7)   command -v arm-linux-gnueabihf-gcc >/dev/null || pkgs="$pkgs gcc-arm-linux-gnueabihf libc6-dev-armhf-cross"
                 command -v qemu-arm >/dev/null || pkgs="$pkgs qemu-user" ;;
        *) echo "unknown target '$t': use aarch64 or armv7" >&2; exit 2 ;;
    esac
done
if [ -n "$pkgs" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $pkgs
fi

for t in $targets; do
    case "$t" in
        aarch64) triple=aarch64-unknown-linux-gnu; objdump=aarch64-linux-gnu-objdump ;;
        armv7)   triple=armv7-unknown-linux-gnueabihf; objdump=arm-linux-gnueabihf-objdump ;;
    esac
    rustup target add "$triple" >/dev/null 2>&1 || rustup target add "$triple"
    cargo build --release --locked --target "$triple"
    bin="target/$triple/release/pimedia"
    # Pi OS bookworm has glibc 2.36: no symbol may need a newer one.
    newest=$($objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -t. -k2,2n -k3,3n -u | tail -1)
    echo "$bin: $(du -h "$bin" | cut -f1), needs up to $newest"
    case "$newest" in
        GLIBC_2.3[7-9]*|GLIBC_2.[4-9]*) echo "$bin needs $newest, newer than Pi OS bookworm's 2.36" >&2; exit 1 ;;
    esac
done
