# Source me: `. tools/engine/env.sh` (bash or zsh). Puts the locally built
# Pulumi engine (see tools/engine/build.sh) first on PATH and keeps all Pulumi
# state inside the repository, offline.
if [ -n "${BASH_SOURCE:-}" ]; then _lp_env_src="${BASH_SOURCE[0]}"
elif [ -n "${ZSH_VERSION:-}" ]; then _lp_env_src="${(%):-%x}"
else _lp_env_src="$0"; fi
LAUNCHPLAN_ROOT="$(cd "$(dirname "$_lp_env_src")/../.." && pwd)"
unset _lp_env_src
export LAUNCHPLAN_ROOT

_lp_engine="$LAUNCHPLAN_ROOT/.engine"
mkdir -p "$_lp_engine/bin" "$_lp_engine/home" "$_lp_engine/state"
case ":$PATH:" in
  *":$_lp_engine/bin:"*) ;;
  *) PATH="$_lp_engine/bin:$PATH" ;;
esac
export PATH
export PULUMI_HOME="$_lp_engine/home"
export PULUMI_BACKEND_URL="file://$_lp_engine/state"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Provider plugins are picked from $PULUMI_HOME/plugins at the exact version the
# SDK asks for (build.sh installs them there), not from PATH: without this the
# copies in .engine/bin would be used whatever their version, with a warning.
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
unset _lp_engine
