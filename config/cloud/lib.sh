# shellcheck shell=bash
# Shared by the cloud recipes (config/cloud/*/up.sh, down.sh, zot/*.sh, config/platform/*). Source it.
#
# Every command that talks to a cloud or a cluster (gcloud, aws, eksctl, helm, kubectl, skopeo,
# oras, docker) goes through `run` or `query`, so `--dry-run` (DRY_RUN=1) prints each of them as
# `+ <command>` and runs none of them. A real run prints the same lines before running them, so
# the dry run is exactly the list a real run would execute (tests/cloud/test_dry_run.py checks it).
#
#   run CMD...              print, then run (not in a dry run)
#   run_to FILE CMD...      the same with stdout into FILE (client-side renders: kubectl --dry-run=client)
#   query VAR PLACEHOLDER CMD...
#                           print, then VAR=$(CMD) (dry run: VAR=<PLACEHOLDER>)
#   exists CMD...           print, then run CMD quietly; true when it succeeds. In a dry run the
#                           answer is DRY_RUN_ASSUME (absent: up.sh shows every create; present:
#                           down.sh shows every delete).
#   run_tolerant WHY CMD... print, run; a failure is reported, not fatal
#   found VALUE             a query's answer names something (aws: not "None"); dry run: DRY_RUN_ASSUME
#   step TITLE              a numbered section header
#   need TOOL...            fail early (not in a dry run) when a tool is missing
#   state_dir NAME          the recipe's local state (CA, keys, passwords, rendered files), 0700
set -euo pipefail

DRY_RUN="${DRY_RUN:-0}"
DRY_RUN_ASSUME="${DRY_RUN_ASSUME:-absent}"
CLOUD_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLOUD_ROOT="$(cd "$CLOUD_LIB_DIR/../.." && pwd)"
export DRY_RUN DRY_RUN_ASSUME CLOUD_ROOT
_step_no=0
# A script run by another recipe script (install-all.sh from up.sh) shows its steps as sub-steps.
if [ "${CLOUD_NESTED:-0}" = 1 ]; then _step_nested=1; else _step_nested=0; fi
export CLOUD_NESTED=1

cmd_line() { # the command as one shell-quoted line
  local out="" a
  for a in "$@"; do out+="$(printf '%q' "$a") "; done
  printf '%s' "${out% }"
}

run() {
  echo "+ $(cmd_line "$@")"
  [ "$DRY_RUN" = 1 ] && return 0
  "$@"
}

run_to() { # run_to FILE CMD...: print, then run with stdout to FILE (0600)
  local __file="$1"
  shift
  echo "+ $(cmd_line "$@") > $__file"
  [ "$DRY_RUN" = 1 ] && return 0
  (umask 077; "$@" > "$__file")
}

run_tolerant() { # run_tolerant WHY CMD...: print, run; a failure is reported, not fatal (e.g. a rule that already exists)
  local __why="$1"
  shift
  echo "+ $(cmd_line "$@")"
  [ "$DRY_RUN" = 1 ] && return 0
  "$@" || echo "  (not fatal: $__why)"
}

query() {
  local __var="$1" __placeholder="$2"
  shift 2
  echo "+ $(cmd_line "$@")"
  if [ "$DRY_RUN" = 1 ]; then
    printf -v "$__var" '%s' "<$__placeholder>"
    return 0
  fi
  local __out
  __out="$("$@")"
  printf -v "$__var" '%s' "$__out"
}

exists() {
  echo "+ $(cmd_line "$@")"
  if [ "$DRY_RUN" = 1 ]; then
    [ "$DRY_RUN_ASSUME" = present ]
    return
  fi
  "$@" >/dev/null 2>&1
}

# found VALUE: true when a query returned an id (aws prints "None" or nothing for no match). In a
# dry run the answer is DRY_RUN_ASSUME, like exists().
found() {
  if [ "$DRY_RUN" = 1 ]; then [ "$DRY_RUN_ASSUME" = present ]; return; fi
  [ -n "$1" ] && [ "$1" != None ] && [ "$1" != null ]
}

step() {
  if [ "$_step_nested" = 1 ]; then echo "---- $* ----"; return; fi
  _step_no=$((_step_no + 1))
  echo ""
  echo "==== $_step_no. $* ===="
}

die() { echo "ERROR: $*" >&2; exit 1; }

need() {
  [ "$DRY_RUN" = 1 ] && return 0
  local t missing=()
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (see the prerequisites in docs/deploy-*.md)"
}

state_dir() {
  local d="${BF_CLOUD_STATE:-$HOME/.blackfriday-cloud}/$1"
  if [ "$DRY_RUN" != 1 ]; then mkdir -p "$d" && chmod 700 "$d"; fi
  printf '%s' "$d"
}

# Common flags of up.sh/down.sh: --dry-run and --help (the caller's header comment is the help).
parse_common_flags() { # parse_common_flags SCRIPT "$@"; leaves unknown flags in EXTRA_ARGS
  local script="$1"
  shift
  EXTRA_ARGS=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --dry-run) DRY_RUN=1; export DRY_RUN; shift ;;
      -h|--help) sed -n '2,/^set -/p' "$script" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
      *) EXTRA_ARGS+=("$1"); shift ;;
    esac
  done
}

# refuse_unknown_args --FLAG...: die on anything in EXTRA_ARGS that is not one of the FLAGs.
refuse_unknown_args() {
  local arg flag
  for arg in "${EXTRA_ARGS[@]}"; do
    for flag in "$@"; do [ "$arg" = "$flag" ] && continue 2; done
    die "unknown argument: $arg (see --help)"
  done
}

# switch_given --FLAG: 1 when EXTRA_ARGS holds FLAG, else 0 (for `var=$(switch_given --flag)`).
switch_given() {
  local arg
  for arg in "${EXTRA_ARGS[@]}"; do [ "$arg" = "$1" ] && { echo 1; return 0; }; done
  echo 0
}

# A random password kept in the state dir (so a second run reuses it).
password_file() { # password_file FILE
  if [ "$DRY_RUN" != 1 ] && [ ! -s "$1" ]; then
    (umask 077; openssl rand -hex 24 > "$1")
  fi
}

# Zot's users (config/cloud/zot/config.json): ci pushes, cluster pulls.
zot_credentials() { # zot_credentials STATE_DIR -> writes htpasswd, ci.password, cluster.password
  local dir="$1" user
  for user in ci cluster; do password_file "$dir/$user.password"; done
  if [ "$DRY_RUN" = 1 ]; then
    echo "+ htpasswd -nbB ci <password> ; htpasswd -nbB cluster <password>  > $dir/htpasswd"
    return 0
  fi
  need htpasswd
  (umask 077
   for user in ci cluster; do htpasswd -nbB "$user" "$(cat "$dir/$user.password")" | sed '/^$/d'; done > "$dir/htpasswd")
}

# A docker config.json (auth file) for one registry address, used by skopeo, oras, helm, and the
# cluster's pull Secret; never put on a command line.
auth_file() { # auth_file OUT REGISTRY USER PASSWORD_FILE
  local out="$1" registry="$2" user="$3" pwfile="$4"
  [ "$DRY_RUN" = 1 ] && { echo "+ (write $out: auth for $user@$registry)"; return 0; }
  (umask 077
   python3 - "$registry" "$user" "$pwfile" > "$out" <<'PY'
import base64, json, sys
registry, user, pwfile = sys.argv[1:]
password = open(pwfile).read().strip()
token = base64.b64encode(f"{user}:{password}".encode()).decode()
print(json.dumps({"auths": {registry: {"username": user, "password": password, "auth": token}}}))
PY
  )
}

# The laptop's public address (the only outside source allowed to reach Zot and the nodes' admin
# ports); override with LAPTOP_CIDR.
laptop_cidr() {
  if [ -n "${LAPTOP_CIDR:-}" ]; then printf '%s' "$LAPTOP_CIDR"; return; fi
  if [ "$DRY_RUN" = 1 ]; then printf '<LAPTOP_IP>/32'; return; fi
  local ip
  ip="$(curl -fsS https://checkip.amazonaws.com | tr -d '[:space:]')" || die "cannot find this machine's public IP; set LAPTOP_CIDR=a.b.c.d/32"
  printf '%s/32' "$ip"
}
