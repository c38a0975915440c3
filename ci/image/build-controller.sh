#!/usr/bin/env bash
# The controller image: ci/image/build-image.sh controller (kept for the scripts and docs that name it).
exec "$(dirname "${BASH_SOURCE[0]}")/build-image.sh" controller "$@"
