#!/usr/bin/env bash
# Boots the Debian 12 test guest on a fresh copy-on-write disk, reachable over SSH on loopback.
#   boot.sh start <imagedir> <workdir>   writes <workdir>/vm.env, waits for SSH
#   boot.sh stop <workdir>               stops the guest
#   boot.sh reboot <workdir>             reboots the guest and waits for SSH again
# The guest can talk only to the host (user networking with restrict=on).
set -euo pipefail

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

ssh_ok() {
  # shellcheck disable=SC1091
  . "$1/vm.env"
  ssh -i "$KEY" -p "$SSH_PORT" -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=5 root@127.0.0.1 true </dev/null >/dev/null 2>&1
}

wait_ssh() {
  local work="$1" deadline=$(( $(date +%s) + ${VM_BOOT_TIMEOUT:-300} ))
  until ssh_ok "$work"; do
    if [ "$(date +%s)" -ge "$deadline" ] || ! kill -0 "$(cat "$work/qemu.pid")" 2>/dev/null; then
      echo "boot.sh: the guest did not answer on SSH in time; last lines of its console:" >&2
      tail -n 25 "$work/console.log" >&2 || true
      return 1
    fi
    sleep 2
  done
}

start() {
  local image="$1" work="$2" started
  started=$(date +%s)
  mkdir -p "$work"
  qemu-img create -q -f qcow2 -b "$image/base.raw" -F raw "$work/disk.qcow2"
  rm -f "$work/id_ed25519" "$work/id_ed25519.pub"
  ssh-keygen -q -t ed25519 -N "" -C "sovereign-faas-vm-test" -f "$work/id_ed25519"
  local ssh http https api kubelet guestfwd=""
  # The backup target (an sshd the test runs on the host's loopback) appears to the guest as
  # 10.0.2.100:22; restrict=on keeps every other address out of reach.
  if [ -n "${BACKUP_TARGET_PORT:-}" ]; then guestfwd=",guestfwd=tcp:10.0.2.100:22-cmd:nc 127.0.0.1 $BACKUP_TARGET_PORT"; fi
  # The S3 target (a local S3-compatible server on the host's loopback) as 10.0.2.101:9000.
  if [ -n "${S3_TARGET_PORT:-}" ]; then guestfwd="$guestfwd,guestfwd=tcp:10.0.2.101:9000-cmd:nc 127.0.0.1 $S3_TARGET_PORT"; fi
  ssh=$(free_port); http=$(free_port); https=$(free_port); api=$(free_port); kubelet=$(free_port)
  printf '[127.0.0.1]:%s %s\n' "$ssh" "$(cut -d' ' -f1,2 "$image/host_key.pub")" >"$work/known_hosts"
  cat >"$work/vm.env" <<ENV
SSH_PORT=$ssh
HTTP_PORT=$http
HTTPS_PORT=$https
API_PORT=$api
KUBELET_PORT=$kubelet
KEY=$work/id_ed25519
KNOWN_HOSTS=$work/known_hosts
ENV
  qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -display none -no-user-config -nodefaults \
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
    -append "console=ttyS0 root=/dev/vda rw net.ifnames=0 quiet" \
    -drive "file=$work/disk.qcow2,if=virtio,format=qcow2" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$ssh-:22,hostfwd=tcp:127.0.0.1:$http-:80,hostfwd=tcp:127.0.0.1:$https-:443,hostfwd=tcp:127.0.0.1:$api-:6443,hostfwd=tcp:127.0.0.1:$kubelet-:10250$guestfwd" \
    -device virtio-net-pci,netdev=n0 \
    -fw_cfg "name=opt/sovereign/authorized_keys,file=$work/id_ed25519.pub" \
    -serial "file:$work/console.log" -pidfile "$work/qemu.pid" -daemonize
  echo "PID=$(cat "$work/qemu.pid")" >>"$work/vm.env"
  if ! wait_ssh "$work"; then stop "$work"; return 1; fi
  echo "boot: SSH up after $(( $(date +%s) - started ))s" >&2
}

stop() {
  local work="$1" pid
  [ -f "$work/qemu.pid" ] || return 0
  pid="$(cat "$work/qemu.pid")"
  kill "$pid" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$work/qemu.pid"
}

reboot_guest() {
  local work="$1" started
  started=$(date +%s)
  # shellcheck disable=SC1091
  . "$work/vm.env"
  ssh -i "$KEY" -p "$SSH_PORT" -o UserKnownHostsFile="$KNOWN_HOSTS" -o BatchMode=yes root@127.0.0.1 'systemctl reboot' </dev/null >/dev/null 2>&1 || true
  sleep 5
  wait_ssh "$work"
  echo "reboot: SSH up again after $(( $(date +%s) - started ))s" >&2
}

case "${1:-}" in
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  reboot) reboot_guest "$2" ;;
  *) echo "usage: boot.sh start <imagedir> <workdir> | stop <workdir> | reboot <workdir>" >&2; exit 2 ;;
esac
