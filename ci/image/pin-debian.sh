#!/usr/bin/env bash
# Rewrites the Debian lock files of the images (default: ci/image/debian*.lock) from Debian's
# current Packages index of each file's suite (its `# suite: <codename> <purl distro>` line): same
# package names, each at the version and sha256 the mirror serves now (a point release or a
# security update). Review the diff and commit it; the next image build takes the new packages.
#   ci/image/pin-debian.sh [lock...]
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(($#)) || set -- "$CI_DIR"/image/debian*.lock
for lock in "$@"; do
  suite=$(awk '$1 == "#" && $2 == "suite:" { print $3 }' "$lock")
  [[ -n "$suite" ]] || { log "$lock: no '# suite: <codename> <distro>' line"; exit 1; }
  index="$tmp/$suite.Packages"
  [[ -f "$index" ]] || curl -fsSL "https://deb.debian.org/debian/dists/$suite/main/binary-amd64/Packages.xz" | xz -d >"$index"
  {
    grep '^#' "$lock"
    grep -v '^#' "$lock" | awk 'NF { print $1 }' | while read -r name; do
      awk -v p="$name" 'BEGIN { RS = "" } index($0, "Package: " p "\n") == 1' "$index" |
        awk -v p="$name" -v s="$suite" '/^Version:/ { v = $2 } /^SHA256:/ { h = $2 } /^Filename:/ { f = $2 }
          END { if (!v) { print "pin-debian: " p " is not in " s " main" > "/dev/stderr"; exit 1 } print p, v, h, f }'
    done | LC_ALL=C sort
  } >"$lock.new"
  mv "$lock.new" "$lock"
done
git -C "$ROOT_DIR" diff --stat -- "$@"
