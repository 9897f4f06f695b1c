#!/usr/bin/env bash
# Runs a command in the test guest as root over SSH, with the run's key and the pinned host key.
#
#   ssh.sh <workdir> <command...>    stdin is passed through; the exit status is the command's
#                                    (255: SSH itself failed). With no command: an interactive shell.
#
# Like ssh(1), the command words are joined with spaces and run by the guest's shell, so quote a
# whole script as one argument:  ssh.sh "$work" 'uname -a; swapon --show'
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: ssh.sh <workdir> <command...>" >&2; exit 2; }
work="$1"
shift
[ -f "$work/vm.env" ] || { echo "ssh.sh: no $work/vm.env (boot.sh start $work first)" >&2; exit 2; }
# shellcheck disable=SC1091
. "$work/vm.env"
exec ssh -i "$KEY" -p "$SSH_PORT" -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
  -o BatchMode=yes -o ConnectTimeout=10 root@127.0.0.1 "$@"
