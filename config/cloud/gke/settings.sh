# shellcheck shell=bash
# The settings gke/up.sh and gke/down.sh share (sourced after parse_common_flags): the project, where
# the cluster lives, its name, Zot's name, the local state folder and the gcloud wrappers. A dry run
# needs no real project.
if [ "$DRY_RUN" = 1 ]; then PROJECT="${PROJECT:-my-project}"; fi
: "${PROJECT:?set PROJECT to your Google Cloud project id}"
REGION=${REGION:-us-central1}
ZONE=${ZONE:-us-central1-a}
NAME=${NAME:-blackfriday}
ZOT_NAME=${ZOT_NAME:-zot.blackfriday.internal}
# shellcheck disable=SC2034  # read by up.sh and down.sh
STATE="$(state_dir "gke-$PROJECT-$NAME")"
gc() { run gcloud --project "$PROJECT" "$@"; }
gc_exists() { exists gcloud --project "$PROJECT" "$@"; }
