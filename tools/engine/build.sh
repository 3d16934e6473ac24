#!/usr/bin/env bash
# Builds the offline Pulumi engine into <repo>/.engine/bin from Go modules:
#   pulumi                         CLI (github.com/pulumi/pulumi/pkg/v3)
#   pulumi-language-python         language host (tools/engine/langhost)
#   pulumi-language-python-exec    script from the sdk/v3 module
#   pulumi-resource-pulumi-python  script from the sdk/v3 module
#   pulumi-resource-random         provider (tools/engine/providers/random)
#   pulumi-resource-vercel         provider (tools/engine/providers/vercel)
#   pulumi-resource-postgresql     launchplan's own provider (tools/engine/providers/launchplan)
#   pulumi-resource-heroku         launchplan's own provider (tools/engine/providers/launchplan)
# and installs the provider plugins into <repo>/.engine/home/plugins so that
# `pulumi plugin ls` lists them and the engine picks them by exact version.
#
# Up-to-date binaries are skipped: each has a stamp keyed on its version, the
# Go version, its module's go.mod/go.sum and sources. FORCE=1 rebuilds all.
# Usage: tools/engine/build.sh            (then: . tools/engine/env.sh)
set -euo pipefail

ENGINE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$ENGINE_DIR/../.." && pwd)"
OUT="$ROOT/.engine/bin"
STAMPS="$ROOT/.engine/stamps"
PULUMI_HOME_DIR="$ROOT/.engine/home"
mkdir -p "$OUT" "$STAMPS" "$PULUMI_HOME_DIR/plugins"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly"
GO_P="${GO_P:-2}"   # parallel compile jobs (machine has 2 cores)

T0=$(date +%s)
say() { printf '[engine %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
die() { printf 'engine build: ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH"

# ---------------------------------------------------------------- pins ----
# shellcheck source=/dev/null
. "$ENGINE_DIR/versions.env"

# requirement name -> versions.env variable
declare -A PIN_VAR=(
  [pulumi]=PULUMI_VERSION
  [pulumi-random]=PULUMI_RANDOM_VERSION
  [pulumi-postgresql]=PULUMI_POSTGRESQL_VERSION
  [pulumiverse-heroku]=PULUMIVERSE_HEROKU_VERSION
  [pulumiverse-vercel]=PULUMIVERSE_VERCEL_VERSION
)
REQ="${ENGINE_REQUIREMENTS:-$ROOT/requirements.txt}"
mismatch=0
if [[ -f "$REQ" ]]; then
  for name in "${!PIN_VAR[@]}"; do
    # Accept pulumi_random / Pulumi-Random spellings; only exact == pins count.
    pat="^[[:space:]]*$(sed 's/[-_]/[-_]/g' <<<"$name")[[:space:]]*==[[:space:]]*"
    req_ver=$(grep -iE "$pat" "$REQ" | head -n1 | sed -E "s/$pat//I; s/[[:space:];#].*$//" || true)
    [[ -z "$req_ver" ]] && continue
    var=${PIN_VAR[$name]}
    built=${!var:-}
    if [[ -z "$built" ]]; then
      if [[ "${ENGINE_ALLOW_MISSING:-0}" == 1 ]]; then
        say "WARNING: requirements.txt pins $name==$req_ver but no $name plugin is built here (ENGINE_ALLOW_MISSING=1)"
      else
        printf 'engine build: ERROR: requirements.txt pins %s==%s, but tools/engine cannot build a %s plugin (see tools/engine/README.md; ENGINE_ALLOW_MISSING=1 builds the rest).\n' \
          "$name" "$req_ver" "$name" >&2
        mismatch=1
      fi
    elif [[ "$req_ver" != "$built" ]]; then
      printf 'engine build: ERROR: requirements.txt pins %s==%s, but tools/engine builds %s %s (%s in tools/engine/versions.env).\n' \
        "$name" "$req_ver" "$name" "$built" "$var" >&2
      mismatch=1
    fi
  done
  [[ $mismatch == 0 ]] || die "pinned Python SDK versions and engine versions differ (names above)"
  say "pins in requirements.txt match tools/engine/versions.env"
else
  say "no requirements.txt: using pins from tools/engine/versions.env"
fi

# -------------------------------------------------------------- helpers ----
GO_VER=$(go env GOVERSION)

stamp_key() { # module_dir version -> hash
  local dir=$1 ver=$2
  {
    echo "$ver $GO_VER $GO_P"
    (cd "$dir" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 \
      | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

# build NAME MODULE_DIR VERSION LDFLAGS PACKAGE
build() {
  local name=$1 dir=$2 ver=$3 ldflags=$4 pkg=$5
  local key stamp="$STAMPS/$name.stamp"
  key=$(stamp_key "$dir" "$ver")
  if [[ "${FORCE:-0}" != 1 && -x "$OUT/$name" && -f "$stamp" && "$(cat "$stamp")" == "$key" ]]; then
    say "$name $ver: up to date"
    return 0
  fi
  say "$name $ver: building (go build -p $GO_P) ..."
  local t=$(date +%s)
  rm -f "$stamp"
  (cd "$dir" && go build -p "$GO_P" -trimpath -ldflags "-s -w $ldflags" -o "$OUT/$name.tmp" "$pkg") \
    || die "building $name failed"
  mv -f "$OUT/$name.tmp" "$OUT/$name"
  echo "$key" > "$stamp"
  say "$name $ver: built in $(( $(date +%s) - t ))s"
}

check_version() { # name expected actual
  [[ "$2" == "$3" ]] || die "$1 reports version '$3' but the pin is '$2'"
}

# ---------------------------------------------------------------- build ----
VX="github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"

build pulumi "$ENGINE_DIR/cli" "$PULUMI_VERSION" "-X $VX" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
check_version pulumi "v$PULUMI_VERSION" "$("$OUT/pulumi" version)"

build pulumi-language-python "$ENGINE_DIR/langhost" "$PULUMI_VERSION" "-X $VX" .
check_version pulumi-language-python "v$PULUMI_VERSION" "$("$OUT/pulumi-language-python" -version)"

# The two Python scripts ship inside the sdk/v3 module (same version as the CLI).
SDK_DIR=$(cd "$ENGINE_DIR/cli" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
[[ -n "$SDK_DIR" && -d "$SDK_DIR/python" ]] || die "sdk/v3 module not found in the module cache"
case "$SDK_DIR" in *"@v$PULUMI_VERSION") ;; *) die "cli/go.mod resolves sdk/v3 to $SDK_DIR, expected v$PULUMI_VERSION" ;; esac
install -m 755 "$SDK_DIR/python/cmd/pulumi-language-python-exec" "$OUT/pulumi-language-python-exec"
install -m 755 "$SDK_DIR/python/dist/pulumi-resource-pulumi-python" "$OUT/pulumi-resource-pulumi-python"
say "python helper scripts copied from sdk/v3@v$PULUMI_VERSION"

build pulumi-resource-random "$ENGINE_DIR/providers/random" "$PULUMI_RANDOM_VERSION" \
  "-X main.version=$PULUMI_RANDOM_VERSION" .
check_version pulumi-resource-random "$PULUMI_RANDOM_VERSION" "$("$OUT/pulumi-resource-random" -version)"

build pulumi-resource-vercel "$ENGINE_DIR/providers/vercel" "$PULUMIVERSE_VERCEL_VERSION" \
  "-X main.version=$PULUMIVERSE_VERCEL_VERSION" .
check_version pulumi-resource-vercel "$PULUMIVERSE_VERCEL_VERSION" "$("$OUT/pulumi-resource-vercel" -version)"

# launchplan's own implementation of the pulumi-postgresql schema: the SDK pin
# plus "+launchplan" (build metadata, ignored by the engine's version match).
if [[ -n "$PULUMI_POSTGRESQL_VERSION" ]]; then
  build pulumi-resource-postgresql "$ENGINE_DIR/providers/launchplan" "$PULUMI_POSTGRESQL_VERSION+launchplan" \
    "-X main.version=$PULUMI_POSTGRESQL_VERSION+launchplan" ./cmd/pulumi-resource-postgresql
  check_version pulumi-resource-postgresql "$PULUMI_POSTGRESQL_VERSION+launchplan" "$("$OUT/pulumi-resource-postgresql" -version)"
fi

# launchplan's own implementation of the pulumiverse-heroku schema, likewise.
if [[ -n "$PULUMIVERSE_HEROKU_VERSION" ]]; then
  build pulumi-resource-heroku "$ENGINE_DIR/providers/launchplan" "$PULUMIVERSE_HEROKU_VERSION+launchplan" \
    "-X main.version=$PULUMIVERSE_HEROKU_VERSION+launchplan" ./cmd/pulumi-resource-heroku
  check_version pulumi-resource-heroku "$PULUMIVERSE_HEROKU_VERSION+launchplan" "$("$OUT/pulumi-resource-heroku" -version)"
fi

# ------------------------------------------------- install into PULUMI_HOME ----
# Layout the CLI uses for installed plugins: plugins/resource-NAME-vX.Y.Z/ + .lock.
install_plugin() { # name version
  local name=$1 ver=$2 d="$PULUMI_HOME_DIR/plugins/resource-$1-v$2"
  mkdir -p "$d"
  if ! cmp -s "$OUT/pulumi-resource-$name" "$d/pulumi-resource-$name"; then
    ln -f "$OUT/pulumi-resource-$name" "$d/pulumi-resource-$name" 2>/dev/null \
      || cp -f "$OUT/pulumi-resource-$name" "$d/pulumi-resource-$name"
  fi
  rm -f "$d.partial"
  touch "$d.lock"
  # Drop other versions of the same plugin we installed earlier.
  local other
  for other in "$PULUMI_HOME_DIR"/plugins/resource-"$name"-v*; do
    [[ "$other" == "$d" || "$other" == "$d.lock" ]] && continue
    rm -rf "$other"
  done
}
install_plugin random "$PULUMI_RANDOM_VERSION"
install_plugin vercel "$PULUMIVERSE_VERCEL_VERSION"
[[ -n "$PULUMI_POSTGRESQL_VERSION" ]] && install_plugin postgresql "$PULUMI_POSTGRESQL_VERSION+launchplan"
[[ -n "$PULUMIVERSE_HEROKU_VERSION" ]] && install_plugin heroku "$PULUMIVERSE_HEROKU_VERSION+launchplan"
say "plugins installed in $PULUMI_HOME_DIR/plugins"

for n in PULUMI_POSTGRESQL_VERSION PULUMIVERSE_HEROKU_VERSION; do
  [[ -z "${!n}" ]] && say "note: $n is empty: that plugin is not built here (tools/engine/README.md)"
done

say "done in $(( $(date +%s) - T0 ))s; binaries in $OUT:"
ls -l "$OUT" | tail -n +2 | awk '{printf "    %-32s %6.1f MB\n", $9, $5/1048576}'
echo "Use them with:  . tools/engine/env.sh"
