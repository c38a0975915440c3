#!/usr/bin/env bash
# Builds (once per version) the real control plane and the chart tooling from the Go module
# proxy and PyPI: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok,
# helm 3, helm 4, ct, helmfile, yamllint and yamale. A second run finds everything cached and takes seconds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mkdir -p "$EJ_CACHE"
exec 9>"$EJ_CACHE/.build.lock"; flock 9   # two concurrent callers build once

started=$SECONDS
timed() { # name version builder...
  local name=$1 version=$2; shift 2
  local out; out="$(tool_dir "$name" "$version")"
  if [[ -f "$out/.done" ]]; then log "$name $version: cached"; return; fi
  log "$name $version: building"
  local t=$SECONDS work="$EJ_CACHE/src/$name-$version"
  rm -rf "$out" "$work"; mkdir -p "$out" "$work"
  ( cd "$work" && "$@" "$out" )
  touch "$out/.done"
  log "$name $version: built in $((SECONDS - t)) s"
}

build_kubernetes() { # out
  local v=${KUBERNETES_VERSION#v} minor; minor=$(cut -d. -f2 <<<"$v")
  # k8s.io/kubernetes replaces its staging modules with local paths, so `go install` refuses it;
  # a wrapper module pins each staging module to the matching v0.<minor>.<patch> instead.
  local kmod; kmod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  {
    echo "module local/kubernetes-build"; echo; echo "go 1.25.0"; echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"; echo
    grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging/' "$kmod" | awk -v v="v0.${v#1.}" '{print "replace " $1 " => " $1 " " v}'
  } > go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go mod tidy
  local pkg=k8s.io/component-base/version cg=k8s.io/client-go/pkg/version
  local ld="-s -w"
  for p in $pkg $cg; do
    ld+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  go build -trimpath -ldflags "$ld" -o "$1/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
}

build_etcd() { # out
  cat > go.mod <<GO
module local/etcd-build

go 1.25.0
GO
  cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$1/etcd" .
}

build_goinstall() { # module@version out
  GOBIN="$2" go install -trimpath -ldflags "-s -w" "$1"
}

build_ct() { # out
  # `go install ct@version` asks for the version list, which the proxy refuses; a wrapper works.
  printf 'module local/ct-build\n\ngo 1.25.0\n' > go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/helm/chart-testing/v3/ct"\n' > tools.go
  go get "github.com/helm/chart-testing/v3@$CT_VERSION"
  go mod tidy
  go build -trimpath -ldflags "-s -w -X github.com/helm/chart-testing/v3/ct/cmd.Version=$CT_VERSION" -o "$1/ct" github.com/helm/chart-testing/v3/ct
  # ct's own default chart schema and lint config, for `ct lint --chart-yaml-schema/--lint-conf`.
  local src; src=$(go list -m -f '{{.Dir}}' github.com/helm/chart-testing/v3)
  mkdir -p "$1/../etc" && cp "$src/etc/chart_schema.yaml" "$src/etc/lintconf.yaml" "$1/../etc/"
}

build_helmfile() { # out
  # helmfile's go.mod replaces some k8s.io modules, so `go install` refuses it; a wrapper module
  # carries the same replaces (read from helmfile's own go.mod).
  local hmod; hmod=$(go mod download -json "github.com/helmfile/helmfile@$HELMFILE_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  {
    printf 'module local/helmfile-build\n\n'; grep -E '^go [0-9.]+$' "$hmod"; echo
    echo "require github.com/helmfile/helmfile $HELMFILE_VERSION"; echo
    sed -n '/^replace (/,/^)/p' "$hmod"; grep -E '^replace [^(]' "$hmod" || true
  } > go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/helmfile/helmfile"\n' > tools.go
  go mod tidy
  go build -trimpath -ldflags "-s -w -X go.szostok.io/version.version=$HELMFILE_VERSION" -o "$1/helmfile" github.com/helmfile/helmfile
}

build_pytools() { # out
  python3 -m venv "$1/../venv"
  "$1/../venv/bin/pip" install --quiet "yamllint==$YAMLLINT_VERSION" "yamale==$YAMALE_VERSION"
  ln -sf ../venv/bin/yamllint "$1/yamllint"; ln -sf ../venv/bin/yamale "$1/yamale"
}

timed pytools "$YAMLLINT_VERSION-$YAMALE_VERSION" build_pytools
timed etcd "$ETCD_VERSION" build_etcd
timed kubernetes "$KUBERNETES_VERSION" build_kubernetes
timed kwok "$KWOK_VERSION" build_goinstall "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
timed helm "$HELM3_VERSION" build_goinstall "helm.sh/helm/v3/cmd/helm@$HELM3_VERSION"
timed helm "$HELM4_VERSION" build_goinstall "helm.sh/helm/v4/cmd/helm@$HELM4_VERSION"
timed ct "$CT_VERSION" build_ct
timed helmfile "$HELMFILE_VERSION" build_helmfile
log "all tools ready in $((SECONDS - started)) s (cache: $EJ_CACHE)"
