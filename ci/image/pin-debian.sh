#!/usr/bin/env bash
# Rewrites ci/image/debian.lock from Debian's current trixie Packages index: same package names,
# each at the version and sha256 the mirror serves now (a point release or a security update).
# Review the diff and commit it; the next image build takes the new packages.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
lock="$CI_DIR/image/debian.lock"
index=$(mktemp); trap 'rm -f "$index"' EXIT
curl -fsSL https://deb.debian.org/debian/dists/trixie/main/binary-amd64/Packages.xz | xz -d >"$index"
{
  grep '^#' "$lock"
  grep -v '^#' "$lock" | awk '{print $1}' | while read -r name; do
    awk -v p="$name" 'BEGIN { RS = "" } index($0, "Package: " p "\n") == 1' "$index" |
      awk -v p="$name" '/^Version:/ { v = $2 } /^SHA256:/ { s = $2 } /^Filename:/ { f = $2 }
        END { if (!v) { print "pin-debian: " p " is not in trixie main" > "/dev/stderr"; exit 1 } print p, v, s, f }'
  done | LC_ALL=C sort
} >"$lock.new"
mv "$lock.new" "$lock"
git -C "$ROOT_DIR" diff --stat -- "$lock"
