#!/usr/bin/env bash
# The differential oracle: builds tests/functions/oracle (the real github.com/drone/envsubst and
# github.com/openfaas/go-sdk/stack that faas-cli 0.18.12 vendors), runs it over the cases of
# cases.ts, and then
#   run.sh            checks tests/functions/fixtures/envsubst-oracle.json against the live run
#                     (exit 1 naming every case that differs), then runs the jest test that holds
#                     the TypeScript port to that fixture;
#   run.sh --write    regenerates the fixture instead (review the diff before committing it).
# Needs Go and the Go module proxy (or a filled module cache); without Go it says so and exits 0.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
mode="${1:-check}"
case "$mode" in
  check | --check) mode="check" ;;
  write | --write) mode="write" ;;
  *) echo "usage: $0 [--check | --write]" >&2; exit 64 ;;
esac

if ! command -v go >/dev/null 2>&1; then
  echo "oracle skipped: go is not installed (the committed fixture is still checked by: npx jest tests/functions)"
  exit 0
fi
node_dir="${HOME}/.cache/sovereign-faas/node-22.23.3/bin"
if [ -x "${node_dir}/node" ]; then
  export PATH="${node_dir}:${PATH}"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# -mod=mod: resolve the pinned versions of go.mod/go.sum through the module proxy.
(cd "$here" && GOFLAGS=-mod=mod go build -o "$tmp/oracle" .)
echo "oracle modules:"
(cd "$here" && GOFLAGS=-mod=mod go list -m github.com/drone/envsubst github.com/openfaas/go-sdk gopkg.in/yaml.v3)

cd "$repo"
npx tsx tests/functions/oracle/cases.ts >"$tmp/cases.json"
"$tmp/oracle" <"$tmp/cases.json" >"$tmp/answers.json"

if [ "$mode" = write ]; then
  npx tsx tests/functions/oracle/fixture.ts "$tmp/answers.json" --write
else
  npx tsx tests/functions/oracle/fixture.ts "$tmp/answers.json" --check
  npx jest tests/functions/envsubst-oracle.test.ts
fi
