#!/usr/bin/env bash
# Boots the Debian 12 test guest (see image.sh) under QEMU, reachable over SSH on a loopback port.
#
#   boot.sh start  <workdir>   fresh qcow2 overlay and ed25519 key pair, free loopback ports, boots
#                              in the background, writes <workdir>/vm.env, waits until SSH works
#   boot.sh stop   <workdir>   kills the guest (by pidfile); a no-op when none is running
#   boot.sh reboot <workdir>   `systemctl reboot` in the guest, waits until SSH answers from the new boot
#
#   (boot.sh start <imagedir> <workdir> is accepted too: it skips image.sh and uses that image.)
#
# <workdir>/vm.env (shell-sourceable): SSH_PORT HTTP_PORT HTTPS_PORT API_PORT KUBELET_PORT
#   (loopback ports forwarded to guest ports 22 80 443 6443 10250), KEY (private key), KNOWN_HOSTS
#   (pins the guest's host key for [127.0.0.1]:SSH_PORT), PID (QEMU), SERIAL_LOG, IMAGE.
# Other files in <workdir>: disk.qcow2, id_ed25519{,.pub}, known_hosts, qemu.pid, serial.log, qemu.err.
#
# Environment: SOVEREIGN_FAAS_VM_IMAGE (image dir; default: run image.sh), VM_BOOT_TIMEOUT (seconds,
# default 180), VM_MEMORY (MiB, default 1024), VM_CPUS (default 1).
# Networking is QEMU user mode with restrict=on: the guest can talk to the host only.
# Timing and progress go to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
timeout_s="${VM_BOOT_TIMEOUT:-180}"

log() { echo "boot: $*" >&2; }
die() { echo "boot: error: $*" >&2; exit 1; }
now_ns() { date +%s%N; }
since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# A loopback TCP port nobody listens on, not among those already picked ("$@").
# QEMU may still lose a race for it; start() then retries with new ports.
free_port() {
  local port used
  used="$(ss -Htln 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')"
  while :; do
    port=$(( 20000 + RANDOM % 40000 ))
    grep -qx "$port" <<<"$used" && continue
    case " $* " in *" $port "*) continue ;; esac
    echo "$port"
    return
  done
}

# The QEMU pid of <workdir>, if it is alive and really that QEMU (not a recycled pid).
vm_pid() {
  local work="$1" pid
  [ -s "$work/qemu.pid" ] || return 1
  pid="$(tr -dc '0-9' <"$work/qemu.pid")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$work/disk.qcow2" || return 1
  echo "$pid"
}

guest() { # guest <workdir> <command>: one bounded SSH attempt, output on stdout
  local work="$1"
  shift
  # shellcheck disable=SC1091,SC2153 # vm.env defines KEY, SSH_PORT, KNOWN_HOSTS
  (. "$work/vm.env" && timeout 25 ssh -i "$KEY" -p "$SSH_PORT" -o UserKnownHostsFile="$KNOWN_HOSTS" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR \
    root@127.0.0.1 "$@" </dev/null 2>/dev/null)
}

# Waits until SSH answers with a boot id other than "$2" (empty: any boot). Bounded by $timeout_s.
wait_ssh() {
  local work="$1" old="$2" deadline id
  deadline=$(( $(date +%s) + timeout_s ))
  while :; do
    id="$(guest "$work" 'cat /proc/sys/kernel/random/boot_id' || true)"
    if [ -n "$id" ] && [ "$id" != "$old" ]; then return 0; fi
    if ! vm_pid "$work" >/dev/null; then
      echo "boot: error: QEMU exited; last lines of the serial console ($work/serial.log):" >&2
      tail -n 40 "$work/serial.log" >&2 2>/dev/null || true
      cat "$work/qemu.err" >&2 2>/dev/null || true
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "boot: error: no SSH login within ${timeout_s}s; last lines of the serial console ($work/serial.log):" >&2
      tail -n 40 "$work/serial.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 2
  done
}

stop() {
  local work="$1" pid _
  if pid="$(vm_pid "$work")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    if [ -d "/proc/$pid" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 50); do
        [ -d "/proc/$pid" ] || break
        sleep 0.1
      done
    fi
    [ ! -d "/proc/$pid" ] || die "QEMU (pid $pid) did not die"
    log "stopped (pid $pid)"
  fi
  rm -f "$work/qemu.pid"
}

start() {
  local image="$1" work="$2" t0 attempt ssh_port http https api kubelet pid
  t0="$(now_ns)"
  if ! command -v qemu-system-x86_64 >/dev/null || ! command -v qemu-img >/dev/null; then
    die "qemu-system-x86_64/qemu-img not found (apt-get install qemu-system-x86 qemu-utils)"
  fi
  mkdir -p "$work"
  work="$(cd "$work" && pwd -P)"
  if vm_pid "$work" >/dev/null; then die "a VM is already running for $work (boot.sh stop $work)"; fi
  if [ -z "$image" ]; then
    image="$("$here/image.sh")" || die "image.sh failed"
  fi
  for f in base.raw vmlinuz initrd.img host_key.pub ready; do
    [ -e "$image/$f" ] || die "$image is not a complete image (no $f)"
  done

  rm -f "$work"/{disk.qcow2,id_ed25519,id_ed25519.pub,known_hosts,qemu.pid,serial.log,qemu.err,vm.env}
  qemu-img create -q -f qcow2 -b "$image/base.raw" -F raw "$work/disk.qcow2"
  ssh-keygen -q -t ed25519 -N "" -C "sovereign-faas-vm-test" -f "$work/id_ed25519"

  # If the boot is interrupted, do not leave the VM behind.
  trap 'stop "$work"; exit 130' INT TERM HUP

  for attempt in 1 2 3 4 5; do
    ssh_port="$(free_port)"
    http="$(free_port "$ssh_port")"
    https="$(free_port "$ssh_port" "$http")"
    api="$(free_port "$ssh_port" "$http" "$https")"
    kubelet="$(free_port "$ssh_port" "$http" "$https" "$api")"
    printf '[127.0.0.1]:%s %s\n' "$ssh_port" "$(cut -d' ' -f1,2 "$image/host_key.pub")" >"$work/known_hosts"
    {
      printf 'SSH_PORT=%s\nHTTP_PORT=%s\nHTTPS_PORT=%s\nAPI_PORT=%s\nKUBELET_PORT=%s\n' \
        "$ssh_port" "$http" "$https" "$api" "$kubelet"
      printf 'KEY=%q\nKNOWN_HOSTS=%q\nSERIAL_LOG=%q\nIMAGE=%q\n' \
        "$work/id_ed25519" "$work/known_hosts" "$work/serial.log" "$image"
    } >"$work/vm.env"
    if qemu-system-x86_64 -name sovereign-test -accel tcg -m "${VM_MEMORY:-1024}" -smp "${VM_CPUS:-1}" \
      -nodefaults -no-user-config -display none \
      -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
      -append "console=ttyS0 root=/dev/vda rw net.ifnames=0" \
      -drive "file=$work/disk.qcow2,if=virtio,format=qcow2" \
      -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$ssh_port-:22,hostfwd=tcp:127.0.0.1:$http-:80,hostfwd=tcp:127.0.0.1:$https-:443,hostfwd=tcp:127.0.0.1:$api-:6443,hostfwd=tcp:127.0.0.1:$kubelet-:10250" \
      -device virtio-net-pci,netdev=n0 \
      -device virtio-rng-pci \
      -fw_cfg "name=opt/sovereign/authorized_keys,file=$work/id_ed25519.pub" \
      -serial "file:$work/serial.log" \
      -pidfile "$work/qemu.pid" -daemonize 2>"$work/qemu.err"; then
      break
    fi
    if grep -q 'host forwarding rule' "$work/qemu.err" && [ "$attempt" -lt 5 ]; then
      log "a picked port was taken, retrying with others"
      continue
    fi
    cat "$work/qemu.err" >&2
    die "QEMU did not start"
  done
  pid="$(vm_pid "$work")" || die "QEMU started but $work/qemu.pid names no live QEMU"
  echo "PID=$pid" >>"$work/vm.env"
  log "QEMU pid $pid, SSH on 127.0.0.1:$ssh_port; waiting for login (at most ${timeout_s}s)"

  if ! wait_ssh "$work" ""; then
    stop "$work"
    die "the guest did not come up (VM killed)"
  fi
  trap - INT TERM HUP
  log "SSH up after $(since "$t0")s ($work/vm.env)"
}

reboot_guest() {
  local work="$1" t0 old
  t0="$(now_ns)"
  [ -f "$work/vm.env" ] || die "no $work/vm.env (boot.sh start first)"
  vm_pid "$work" >/dev/null || die "no VM running for $work"
  old="$(guest "$work" 'cat /proc/sys/kernel/random/boot_id')" || die "cannot reach the guest over SSH"
  # The connection may drop before ssh returns: its status says nothing.
  guest "$work" 'systemctl reboot' >/dev/null || true
  wait_ssh "$work" "$old" || die "the guest did not come back after the reboot"
  log "rebooted, SSH up again after $(since "$t0")s"
}

usage() { echo "usage: boot.sh start <workdir> | stop <workdir> | reboot <workdir>" >&2; exit 2; }

case "${1:-}" in
  start)
    case $# in
      2) start "${SOVEREIGN_FAAS_VM_IMAGE:-}" "$2" ;;
      3) start "$2" "$3" ;;
      *) usage ;;
    esac ;;
  stop) [ $# -eq 2 ] || usage; stop "$(cd "$2" 2>/dev/null && pwd -P || echo "$2")" ;;
  reboot) [ $# -eq 2 ] || usage; reboot_guest "$(cd "$2" && pwd -P)" ;;
  *) usage ;;
esac
