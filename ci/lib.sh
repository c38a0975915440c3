# Shared by the ci/ scripts: pinned versions and the tool cache location.
set -euo pipefail
CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$CI_DIR/.." && pwd)"
# shellcheck source=versions.env
source "$CI_DIR/versions.env"
EJ_CACHE="${EJ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/elastic-jupyter}"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Removes all but the KEEP most recently used of the cache entries given (a glob): without it, the
# image cache gains an entry of ~150 MB for every change of an image's inputs. Users touch theirs.
prune_cache() { # keep entries...
  local keep=$1; shift
  ls -1dt -- "$@" 2>/dev/null | tail -n +$((keep + 1)) | xargs -r -d '\n' rm -rf --
}

# Directory that holds the binaries of one tool at one version.
tool_dir() { echo "$EJ_CACHE/$1-$2/bin"; }

# The bin directories of every pinned tool, for PATH.
tools_path() {
  local p="$(tool_dir kubernetes "$KUBERNETES_VERSION"):$(tool_dir etcd "$ETCD_VERSION"):$(tool_dir kwok "$KWOK_VERSION"):$(tool_dir ct "$CT_VERSION"):$(tool_dir helmfile "$HELMFILE_VERSION"):$(tool_dir pytools "$YAMLLINT_VERSION-$YAMALE_VERSION")"
  echo "$p:$(tool_dir helm "$HELM3_VERSION")"
}
helm3_bin() { echo "$(tool_dir helm "$HELM3_VERSION")/helm"; }
helm4_bin() { echo "$(tool_dir helm "$HELM4_VERSION")/helm"; }
