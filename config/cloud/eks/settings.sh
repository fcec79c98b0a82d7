# shellcheck shell=bash
# The settings eks/up.sh and eks/down.sh share (sourced after parse_common_flags): the region, the
# cluster's name, Zot's name, the local state folder and the aws wrappers. A dry run needs no AWS
# account.
export REGION="${REGION:-us-east-1}" NAME="${NAME:-blackfriday}"
ZOT_NAME=${ZOT_NAME:-zot.blackfriday.internal}
# shellcheck disable=SC2034  # read by up.sh and down.sh
STATE="$(state_dir "eks-$REGION-$NAME")"
# shellcheck disable=SC2034
DNS_ZONE="${ZOT_NAME#*.}"
aws_() { run aws --region "$REGION" "$@"; }
aws_q() { local var="$1" ph="$2"; shift 2; query "$var" "$ph" aws --region "$REGION" "$@" --output text; }
