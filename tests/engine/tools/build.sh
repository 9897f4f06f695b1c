#!/usr/bin/env bash
# Builds the real Pulumi engine tools, providers and a Kubernetes control plane
# (etcd, kube-apiserver, kube-controller-manager) from Go modules served by the
# Go module proxy, into a cache outside the repository, keyed by version.
#
#   bash tests/engine/tools/build.sh            # build what is missing
#   bash tests/engine/tools/build.sh --print-path
#
# Exit status: non-zero when a part fails to build (a compile or tidy error).
# A part the Go proxy refuses is reported as "refused", with the module and
# the proxy's answer, and is not a failure of this script: the proxy's
# allow-list is not ours. The tests read <cache>/status (one "name status
# version" line per part) and say which of their parts those refusals block.
#
# Only wrapper go.mod files and tiny main.go files of our own are written (into
# the cache's build dirs); all upstream code comes from the module proxy.
# GOMODCACHE and GOCACHE stay at Go's defaults, so a warm machine builds nothing
# twice. A second run finds the binaries and skips them.
set -euo pipefail

# ---------------------------------------------------------------------------
# Pins (module paths and versions). Refusals noted here were checked against
# the proxy; the script still asks once per run, so a later "yes" is picked up.
# ---------------------------------------------------------------------------
# Pulumi CLI: newest pkg/v3 + sdk/v3 the proxy serves (v3.270.0 of pkg/v3 is not).
PULUMI_PKG_MOD=github.com/pulumi/pulumi/pkg/v3
PULUMI_SDK_MOD=github.com/pulumi/pulumi/sdk/v3
PULUMI_VERSION=v3.276.0
PULUMI_CLIPBOARD_REPLACE=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e

# nodejs language host. Its own module is untagged and the proxy refused every
# pseudo-version tried (the sdk/ and pkg/ tag commits of v3.224.0 to v3.260.0;
# the commit of v3.276.0 is unknown here). The one below is the pkg/v3.260.0
# tag commit, the newest whose hash the proxy discloses. Fallback: v3.68.0, the
# last sdk/v3 release that still carried the host inside the sdk/v3 module
# (split out in May 2023), built in a separate wrapper module.
NODEJS_HOST_MOD=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
NODEJS_HOST_PSEUDO=v3.0.0-20260828130136-22df62fcb27a
NODEJS_HOST_FALLBACK_SDK_VERSION=v3.68.0
NODEJS_HOST_FALLBACK_PKG=github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs

# pulumi-resource-command at the v1.2.1 tag commit (npm @pulumi/command 1.2.1).
COMMAND_MOD=github.com/pulumi/pulumi-command/provider
COMMAND_PSEUDO=v0.0.0-20260303235922-7f3eb6f3b77c
COMMAND_VERSION=1.2.1

# pulumi-resource-kubernetes: the only pseudo-version the proxy serves is the
# v4.25.0 tag commit (npm @pulumi/kubernetes is 4.34.2: version skew).
K8S_PROVIDER_MOD=github.com/pulumi/pulumi-kubernetes/provider/v4
K8S_PROVIDER_PSEUDO=v4.0.0-20260115033456-f47bc2d6f199
K8S_PROVIDER_VERSION=4.25.0
K8S_PROVIDER_SDK_MOD=github.com/pulumi/pulumi-kubernetes/sdk/v4
K8S_PROVIDER_SDK_VERSION=v4.25.0

# Kubernetes control plane (go 1.26.0 in its go.mod: builds with Go 1.26.x).
KUBE_MOD=k8s.io/kubernetes
KUBE_VERSION=v1.37.2
KUBE_STAGING_VERSION=v0.37.2
ETCD_MOD=go.etcd.io/etcd/server/v3
ETCD_VERSION=v3.7.3

# Bridged Terraform providers (lowest priority; probed only). Even if served,
# their provider/go.mod replaces a fake shim module with ./shim, a directory
# with its own go.mod that is not part of the provider's module zip.
# random: provider pseudo-version at the sdk/v4.21.2 tag commit (refused).
RANDOM_MOD=github.com/pulumi/pulumi-random/provider/v4
RANDOM_PSEUDO=v4.0.0-20260917112258-b62f810278b9
# tls: the commit of 5.6.1 is only known through its sdk tag (refused).
TLS_SDK_MOD=github.com/pulumi/pulumi-tls/sdk/v5
TLS_VERSION=v5.6.1

# ---------------------------------------------------------------------------
ROOT=${SOVEREIGN_FAAS_ENGINE_CACHE:-$HOME/.cache/sovereign-faas/engine}
BIN=$ROOT/bin
BUILD=$ROOT/build
LOGS=$ROOT/logs
CURRENT=$BIN/current
WRAPPER_PREFIX=sovereignfaas.local/enginebuild
export CGO_ENABLED=0
export GOTOOLCHAIN=local
export GOFLAGS=-buildvcs=false

if [[ ${1:-} == --print-path ]]; then
  echo "export PATH=\"$CURRENT:\$PATH\""
  exit 0
fi

mkdir -p "$BIN" "$BUILD" "$LOGS" "$CURRENT"
# go mod download runs outside any module of the caller.
cd "$BUILD"
command -v go >/dev/null || { echo "build.sh: go is not on PATH" >&2; exit 1; }

declare -a ROWS=()
declare -A STATUS_OF=()
MANDATORY_FAILED=()
MANDATORY_REFUSED=()

log() { printf '%s\n' "$*"; }

# gobuild OUTDIR LDFLAGS PKG... : build packages of the current wrapper module.
gobuild() {
  local out=$1 ldflags=$2
  shift 2
  mkdir -p "$out"
  go build -trimpath -ldflags "-s -w $ldflags" -o "$out/" "$@"
}

# fresh_wrapper DIR : an empty build dir for a wrapper module.
fresh_wrapper() {
  rm -rf "$1"
  mkdir -p "$1"
}

# module_dir MOD@VER : download a module and print its directory.
module_dir() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# probe MOD@VER : fail with the go command's own error if the proxy refuses it.
probe() {
  local out
  if ! out=$(go mod download -json "$1" 2>&1); then
    printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Error": "\(.*\)"$/\1/p' | sed 's/\\n/ /g; s/\\t/ /g'
    return 1
  fi
}

# run_part NAME MODVER MANDATORY(yes|no) FUNCTION BINARY... : build one part,
# skip it if every binary is there, and record a row for the summary.
run_part() {
  local name=$1 modver=$2 mandatory=$3 fn=$4
  shift 4
  local bins=("$@") all=1 b
  for b in "${bins[@]}"; do
    [[ -x $b ]] || all=0
  done
  local start=$SECONDS status
  if (( all )); then
    status=cached
  else
    log "== $name ($modver): building (log: $LOGS/$name.log)"
    # In the background (not in a condition) so that set -e stays in force.
    ( "$fn" ) >"$LOGS/$name.log" 2>&1 &
    local pid=$! rc=0
    wait "$pid" || rc=$?
    if (( rc == 0 )); then
      status=built
      for b in "${bins[@]}"; do
        [[ -x $b ]] || status=failed
      done
    elif grep -q '^REFUSED' "$LOGS/$name.log"; then
      status=refused
    else
      status=failed
    fi
  fi
  local secs=$(( SECONDS - start ))
  if [[ $status == built || $status == cached ]]; then
    for b in "${bins[@]}"; do
      ln -sfn "$b" "$CURRENT/$(basename "$b")"
    done
    log "== $name $modver: $status in ${secs}s"
  else
    log "== $name $modver: $status after ${secs}s; last lines of $LOGS/$name.log:"
    tail -n 8 "$LOGS/$name.log" | sed 's/^/   | /'
    if [[ $status == refused ]]; then
      MANDATORY_REFUSED+=("$name")
    elif [[ $mandatory == yes || $status == failed ]]; then
      MANDATORY_FAILED+=("$name")
    fi
  fi
  STATUS_OF[$name]=$status
  ROWS+=("$name|$modver|$status|$secs")
}

TOTAL_START=$SECONDS
log "== engine cache: $ROOT ($(go version))"

# ------------------------------- parts ------------------------------------
PULUMI_OUT=$BIN/pulumi-$PULUMI_VERSION
build_pulumi() {
  local w=$BUILD/pulumi-$PULUMI_VERSION
  fresh_wrapper "$w"
  cd "$w"
  cat >go.mod <<EOF
module $WRAPPER_PREFIX/pulumi

go 1.26

tool $PULUMI_PKG_MOD/cmd/pulumi

require (
	$PULUMI_PKG_MOD $PULUMI_VERSION
	$PULUMI_SDK_MOD $PULUMI_VERSION
)
EOF
  # pkg/v3's own go.mod has the same replace (only matters on Windows).
  go mod edit -replace="github.com/atotto/clipboard=$PULUMI_CLIPBOARD_REPLACE"
  go mod tidy
  gobuild "$PULUMI_OUT" "-X $PULUMI_SDK_MOD/go/common/version.Version=$PULUMI_VERSION" \
    "$PULUMI_PKG_MOD/cmd/pulumi"
}

# The host's own module if the proxy serves it, else the sdk/v3 fallback; the
# choice is made before run_part so that the cache check looks at the right dir.
NODEJS_HOST_PREFERRED_OUT=$BIN/pulumi-language-nodejs-$NODEJS_HOST_PSEUDO
NODEJS_HOST_FALLBACK_OUT=$BIN/pulumi-language-nodejs-$NODEJS_HOST_FALLBACK_SDK_VERSION
NODEJS_HOST_REFUSAL=
if [[ -x $NODEJS_HOST_PREFERRED_OUT/pulumi-language-nodejs ]] ||
  NODEJS_HOST_REFUSAL=$(probe "$NODEJS_HOST_MOD@$NODEJS_HOST_PSEUDO"); then
  NODEJS_HOST_OUT=$NODEJS_HOST_PREFERRED_OUT
  NODEJS_HOST_MODVER=$NODEJS_HOST_MOD@$NODEJS_HOST_PSEUDO
else
  NODEJS_HOST_OUT=$NODEJS_HOST_FALLBACK_OUT
  NODEJS_HOST_MODVER="$PULUMI_SDK_MOD@$NODEJS_HOST_FALLBACK_SDK_VERSION (fallback)"
  log "== pulumi-language-nodejs: proxy refused $NODEJS_HOST_MOD@$NODEJS_HOST_PSEUDO: $NODEJS_HOST_REFUSAL"
fi
build_nodejs_host() {
  local w
  if [[ $NODEJS_HOST_OUT == "$NODEJS_HOST_PREFERRED_OUT" ]]; then
    w=$BUILD/pulumi-language-nodejs-$NODEJS_HOST_PSEUDO
    fresh_wrapper "$w"
    cd "$w"
    cat >go.mod <<EOF
module $WRAPPER_PREFIX/langhost

go 1.26

tool $NODEJS_HOST_MOD

require (
	$NODEJS_HOST_MOD $NODEJS_HOST_PSEUDO
	$PULUMI_PKG_MOD $PULUMI_VERSION
	$PULUMI_SDK_MOD $PULUMI_VERSION
)
EOF
    go mod edit -replace="github.com/atotto/clipboard=$PULUMI_CLIPBOARD_REPLACE"
    go mod tidy
    gobuild "$NODEJS_HOST_OUT" "-X $PULUMI_SDK_MOD/go/common/version.Version=$PULUMI_VERSION" \
      "$NODEJS_HOST_MOD"
    return
  fi
  echo "proxy refused $NODEJS_HOST_MOD@$NODEJS_HOST_PSEUDO: $NODEJS_HOST_REFUSAL"
  echo "falling back to $NODEJS_HOST_FALLBACK_PKG from $PULUMI_SDK_MOD@$NODEJS_HOST_FALLBACK_SDK_VERSION"
  w=$BUILD/pulumi-language-nodejs-$NODEJS_HOST_FALLBACK_SDK_VERSION
  fresh_wrapper "$w"
  cd "$w"
  cat >go.mod <<EOF
module $WRAPPER_PREFIX/langhost

go 1.26

tool $NODEJS_HOST_FALLBACK_PKG

require $PULUMI_SDK_MOD $NODEJS_HOST_FALLBACK_SDK_VERSION
EOF
  go mod tidy
  gobuild "$NODEJS_HOST_OUT" \
    "-X $PULUMI_SDK_MOD/go/common/version.Version=$NODEJS_HOST_FALLBACK_SDK_VERSION" \
    "$NODEJS_HOST_FALLBACK_PKG"
}

# The CLI looks for its language hosts next to its own (symlink-resolved)
# binary and warns when the one on PATH is elsewhere: hard-link the host there
# and point current/ at that link.
bundle_nodejs_host() {
  [[ ${STATUS_OF[pulumi]:-} =~ ^(built|cached)$ ]] || return 0
  [[ ${STATUS_OF[pulumi-language-nodejs]:-} =~ ^(built|cached)$ ]] || return 0
  ln -f "$NODEJS_HOST_OUT/pulumi-language-nodejs" "$PULUMI_OUT/pulumi-language-nodejs"
  ln -sfn "$PULUMI_OUT/pulumi-language-nodejs" "$CURRENT/pulumi-language-nodejs"
}

COMMAND_OUT=$BIN/pulumi-resource-command-$COMMAND_VERSION
build_command() {
  local w=$BUILD/pulumi-resource-command-$COMMAND_VERSION err
  fresh_wrapper "$w"
  cd "$w"
  if ! err=$(probe "$COMMAND_MOD@$COMMAND_PSEUDO"); then
    echo "REFUSED $COMMAND_MOD@$COMMAND_PSEUDO: $err"
    return 1
  fi
  cat >go.mod <<EOF
module $WRAPPER_PREFIX/command

go 1.26

tool $COMMAND_MOD/cmd/pulumi-resource-command

require $COMMAND_MOD $COMMAND_PSEUDO
EOF
  go mod tidy
  gobuild "$COMMAND_OUT" "-X $COMMAND_MOD/pkg/version.Version=$COMMAND_VERSION" \
    "$COMMAND_MOD/cmd/pulumi-resource-command"
}

K8S_PROVIDER_OUT=$BIN/pulumi-resource-kubernetes-$K8S_PROVIDER_VERSION
build_k8s_provider() {
  local w=$BUILD/pulumi-resource-kubernetes-$K8S_PROVIDER_VERSION dir err
  fresh_wrapper "$w"
  cd "$w"
  if ! err=$(probe "$K8S_PROVIDER_MOD@$K8S_PROVIDER_PSEUDO"); then
    echo "REFUSED $K8S_PROVIDER_MOD@$K8S_PROVIDER_PSEUDO: $err"
    return 1
  fi
  dir=$(module_dir "$K8S_PROVIDER_MOD@$K8S_PROVIDER_PSEUDO")
  # The upstream main go:embeds generated, git-ignored copies of these two
  # committed files; our main embeds copies taken from the module directory.
  cp "$dir/cmd/pulumi-resource-kubernetes/schema.json" schema.json
  cp "$dir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" terraform-mapping.json
  chmod 0644 schema.json terraform-mapping.json
  cat >go.mod <<EOF
module $WRAPPER_PREFIX/kubernetesprovider

go 1.26

require $K8S_PROVIDER_MOD $K8S_PROVIDER_PSEUDO

replace $K8S_PROVIDER_SDK_MOD => $K8S_PROVIDER_SDK_MOD $K8S_PROVIDER_SDK_VERSION
EOF
  cat >main.go <<EOF
// Our own main for pulumi-resource-kubernetes: serves the provider with the
// committed schema (version field set, as upstream's generate step does).
package main

import (
	_ "embed"
	"encoding/json"

	"$K8S_PROVIDER_MOD/pkg/provider"
	"$K8S_PROVIDER_MOD/pkg/version"
)

//go:embed schema.json
var schema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	var spec map[string]json.RawMessage
	if err := json.Unmarshal(schema, &spec); err != nil {
		panic(err)
	}
	v, _ := json.Marshal(version.Version)
	spec["version"] = v
	versioned, err := json.Marshal(spec)
	if err != nil {
		panic(err)
	}
	provider.Serve("kubernetes", version.Version, versioned, terraformMapping)
}
EOF
  go mod tidy
  go build -trimpath \
    -ldflags "-s -w -X $K8S_PROVIDER_MOD/pkg/version.Version=$K8S_PROVIDER_VERSION" \
    -o "$K8S_PROVIDER_OUT/pulumi-resource-kubernetes" .
}

KUBE_OUT=$BIN/kubernetes-$KUBE_VERSION
build_kube() {
  local w=$BUILD/kubernetes-$KUBE_VERSION modfile staging m minor ldflags
  fresh_wrapper "$w"
  cd "$w"
  probe "$KUBE_MOD@$KUBE_VERSION" >/dev/null || { echo "REFUSED $KUBE_MOD@$KUBE_VERSION"; return 1; }
  modfile=$(go mod download -json "$KUBE_MOD@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  cat >go.mod <<EOF
module $WRAPPER_PREFIX/kubernetes

go 1.26.0

tool (
	$KUBE_MOD/cmd/kube-apiserver
	$KUBE_MOD/cmd/kube-controller-manager
)

require $KUBE_MOD $KUBE_VERSION
EOF
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them
  # with ./staging/...: replace each with its published version instead.
  staging=$(go mod edit -json "$modfile" | tr -d '[:space:]' | grep -o '"New":{"Path":"\./staging/src/[^"]*"' | sed 's|.*staging/src/||; s|"$||')
  for m in $staging; do
    go mod edit -replace="$m=$m@$KUBE_STAGING_VERSION"
  done
  echo "replaced $(wc -w <<<"$staging") staging modules with $KUBE_STAGING_VERSION"
  go mod tidy
  minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  ldflags=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  gobuild "$KUBE_OUT" "$ldflags" "$KUBE_MOD/cmd/kube-apiserver" "$KUBE_MOD/cmd/kube-controller-manager"
}

ETCD_OUT=$BIN/etcd-$ETCD_VERSION
build_etcd() {
  local w=$BUILD/etcd-$ETCD_VERSION
  fresh_wrapper "$w"
  cd "$w"
  cat >go.mod <<EOF
module $WRAPPER_PREFIX/etcd

go 1.26

require $ETCD_MOD $ETCD_VERSION
EOF
  cat >main.go <<EOF
// Our own main for etcd: the server's command line entry point.
package main

import (
	"os"

	"$ETCD_MOD/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$ETCD_OUT/etcd" .
}

# Bridged providers: probed only. Building them needs the provider module at
# the release commit and its ./shim directory module (not in the module zip).
build_random() {
  local err
  cd "$BUILD"
  if ! err=$(probe "$RANDOM_MOD@$RANDOM_PSEUDO"); then
    echo "REFUSED $RANDOM_MOD@$RANDOM_PSEUDO: $err"
    return 1
  fi
  echo "served now: $RANDOM_MOD@$RANDOM_PSEUDO; a wrapper for it is not written yet"
  return 1
}
build_tls() {
  local err
  cd "$BUILD"
  if ! err=$(probe "$TLS_SDK_MOD@$TLS_VERSION"); then
    echo "REFUSED $TLS_SDK_MOD@$TLS_VERSION (needed to find the release commit): $err"
    return 1
  fi
  echo "served now: $TLS_SDK_MOD@$TLS_VERSION; a wrapper for the provider is not written yet"
  return 1
}

# ------------------------------- run ---------------------------------------
run_part pulumi "$PULUMI_PKG_MOD@$PULUMI_VERSION" yes build_pulumi "$PULUMI_OUT/pulumi"
run_part pulumi-language-nodejs "$NODEJS_HOST_MODVER" yes build_nodejs_host \
  "$NODEJS_HOST_OUT/pulumi-language-nodejs"
bundle_nodejs_host
run_part pulumi-resource-command "$COMMAND_MOD@$COMMAND_PSEUDO" yes build_command \
  "$COMMAND_OUT/pulumi-resource-command"
run_part pulumi-resource-kubernetes "$K8S_PROVIDER_MOD@$K8S_PROVIDER_PSEUDO" no build_k8s_provider \
  "$K8S_PROVIDER_OUT/pulumi-resource-kubernetes"
run_part etcd "$ETCD_MOD@$ETCD_VERSION" no build_etcd "$ETCD_OUT/etcd"
run_part kubernetes "$KUBE_MOD@$KUBE_VERSION" no build_kube \
  "$KUBE_OUT/kube-apiserver" "$KUBE_OUT/kube-controller-manager"
run_part pulumi-resource-random "$RANDOM_MOD@$RANDOM_PSEUDO" no build_random \
  "$BIN/pulumi-resource-random-4.21.2/pulumi-resource-random"
run_part pulumi-resource-tls "$TLS_SDK_MOD@$TLS_VERSION" no build_tls \
  "$BIN/pulumi-resource-tls-5.6.1/pulumi-resource-tls"

log ""
printf '%-28s %-88s %-8s %s\n' TOOL MODULE@VERSION STATUS SECONDS
for row in "${ROWS[@]}"; do
  IFS='|' read -r name mod status secs <<<"$row"
  printf '%-28s %-88s %-8s %s\n' "$name" "$mod" "$status" "$secs"
done
log "total: $(( SECONDS - TOTAL_START ))s"
log ""
log "export PATH=\"$CURRENT:\$PATH\""

# One line per part for the tests: name, status, version.
{
  for row in "${ROWS[@]}"; do
    IFS='|' read -r name mod status secs <<<"$row"
    printf '%s %s %s\n' "$name" "$status" "${mod// /_}"
  done
} >"$ROOT/status"

if (( ${#MANDATORY_REFUSED[@]} )); then
  echo "build.sh: refused by the Go module proxy: ${MANDATORY_REFUSED[*]} (see $LOGS/); the tests that need them say BLOCKED" >&2
fi
if (( ${#MANDATORY_FAILED[@]} )); then
  echo "build.sh: failed to build: ${MANDATORY_FAILED[*]} (see $LOGS/)" >&2
  exit 1
fi
