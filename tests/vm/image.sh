#!/usr/bin/env bash
# Builds (or reuses) the Debian 12 (bookworm) base image for the VM tests.
#
#   image.sh        prints the image directory on stdout; progress and timing go to stderr
#
# The image directory (${SOVEREIGN_FAAS_VM_CACHE:-$HOME/.cache/sovereign-faas/vm}/<key>) holds:
#   base.raw        ext4 root filesystem (3 GiB, sparse); boot.sh uses it as a read-only qcow2 backing file
#   vmlinuz         the guest kernel;  initrd.img  its initramfs (copied from the guest's /boot)
#   host_key.pub    the guest's SSH host key (ed25519, made at build time), for pinning
#   manifest.txt    mirror, candidate versions the key was computed over, installed packages
#   ready           written last: the image is complete
#
# <key> hashes this script's own content and the candidate versions apt sees for the main packages,
# so a warm run reuses the image and a change to the recipe or to Debian's packages rebuilds it.
# The mirror is the one this machine's apt uses (no host name is hard-coded here);
# SOVEREIGN_FAAS_VM_MIRROR overrides it. Needs root, debootstrap and e2fsprogs (mkfs.ext4 -d).
set -euo pipefail

started_ns=$(date +%s%N)
elapsed() { awk -v a="$started_ns" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
log() { echo "image: $*" >&2; }
die() { echo "image: error: $*" >&2; exit 1; }

cache="${SOVEREIGN_FAAS_VM_CACHE:-$HOME/.cache/sovereign-faas/vm}"
suite=bookworm
size=3G
# netcat-openbsd: tests run throw-away listeners in the guest to probe the firewall through the forwards.
packages="systemd,systemd-sysv,openssh-server,iproute2,procps,kmod,nftables,linux-image-amd64,initramfs-tools,udev,ifupdown,isc-dhcp-client,sudo,util-linux,e2fsprogs,netcat-openbsd"

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot)"
for tool in debootstrap mkfs.ext4 mkswap ssh-keygen chroot sha256sum flock apt-cache; do
  command -v "$tool" >/dev/null 2>&1 \
    || die "$tool not found (apt-get install debootstrap e2fsprogs openssh-client util-linux)"
done

# The Debian mirror apt uses here: deb822 "URIs:" lines or one-line "deb [opts] URI suite ..."
# entries; the first http(s)/file URI that is not the security archive. Comments are skipped.
mirror_from_apt() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -nE 's/^[[:space:]]*URIs:[[:space:]]*//p; s/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' "$f" \
      | tr ' ' '\n' | grep -E '^(https?|file)://' | grep -v -- '-security' | grep -i debian || true
  done | head -n1
}
mirror="${SOVEREIGN_FAAS_VM_MIRROR:-$(mirror_from_apt)}"
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list{,.d/*} (set SOVEREIGN_FAAS_VM_MIRROR)"

versions="$(apt-cache policy linux-image-amd64 systemd openssh-server nftables 2>/dev/null \
  | awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }' || true)"
[ -n "$versions" ] || log "warning: apt-cache knows no candidate versions (run apt-get update); keying on the recipe only"

key="$(printf '%s\n--\n%s\n' "$(cat "${BASH_SOURCE[0]}")" "$versions" | sha256sum | cut -c1-16)"
dir="$cache/$key"
build="$cache/$key.build"
mkdir -p "$cache"

# One builder per key at a time: a second caller waits, then finds the image ready.
exec 9>"$cache/$key.lock"
flock 9
if [ -f "$dir/ready" ]; then
  log "cached, $(elapsed)s: $dir"
  printf '%s\n' "$dir"
  exit 0
fi

log "cold build: debootstrap $suite from $mirror"
rm -rf "$dir" "$build" # leftovers of an interrupted build of this key (we hold its lock)
mkdir -p "$build"
trap 'rm -rf "$build"' EXIT
root="$build/root"
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$build/debootstrap.log" 2>&1; then
  tail -n 40 "$build/debootstrap.log" >&2
  die "debootstrap failed (log above)"
fi
log "debootstrap done at $(elapsed)s"

# --- identity, disks, network ---------------------------------------------------------------------
echo sovereign-test >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsovereign-test\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
cat >"$root/etc/fstab" <<'FSTAB'
# <file system> <mount point> <type> <options> <dump> <pass>
/dev/vda        /             ext4   rw,errors=remount-ro 0 1
/swapfile       none          swap   sw 0 0
FSTAB
cat >"$root/etc/network/interfaces" <<'NET'
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet dhcp
NET
: >"$root/etc/resolv.conf" # the guest talks only to the host (restrict=on); the DHCP client fills it

# A 64 MiB swap file, so tests can prove the kernel tuning turns swap off. It must not be zeros:
# mkfs.ext4 -d stores all-zero blocks as holes, and the kernel refuses a swap file with holes.
tr '\0' '\125' </dev/zero | head -c 64M >"$root/swapfile"
chmod 600 "$root/swapfile"
mkswap "$root/swapfile" >/dev/null

# --- accounts and SSH -----------------------------------------------------------------------------
chroot "$root" passwd -l root >/dev/null
rm -f "$root"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N "" -C root@sovereign-test -f "$root/etc/ssh/ssh_host_ed25519_key"
cat >"$root/etc/ssh/sshd_config.d/sovereign-test.conf" <<'CONF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
CONF

# No key is baked in. boot.sh hands each run's public key over through QEMU's fw_cfg
# (-fw_cfg name=opt/sovereign/authorized_keys,file=<pub>); this unit installs it before sshd starts,
# on every boot (the fw_cfg entry lives as long as the QEMU process, so reboots keep it).
cat >"$root/usr/local/sbin/authorize-test-key" <<'SH'
#!/bin/sh
# Installs the SSH public key QEMU passed through fw_cfg as root's only authorized key.
set -eu
src=/sys/firmware/qemu_fw_cfg/by_name/opt/sovereign/authorized_keys/raw
modprobe qemu_fw_cfg || true
i=0
while [ ! -r "$src" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
install -d -m 700 /root/.ssh
if [ -r "$src" ]; then
  umask 077
  cat "$src" >/root/.ssh/authorized_keys.new
  chmod 600 /root/.ssh/authorized_keys.new
  mv /root/.ssh/authorized_keys.new /root/.ssh/authorized_keys
  echo "authorize-test-key: root key installed from fw_cfg"
else
  rm -f /root/.ssh/authorized_keys
  echo "authorize-test-key: no $src: root cannot log in" >&2
fi
SH
chmod 755 "$root/usr/local/sbin/authorize-test-key"
cat >"$root/etc/systemd/system/authorize-test-key.service" <<'UNIT'
[Unit]
Description=Authorize the test run's SSH key (from QEMU fw_cfg)
DefaultDependencies=no
After=local-fs.target systemd-modules-load.service
Before=ssh.service sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/authorize-test-key
StandardOutput=journal+console

[Install]
WantedBy=sysinit.target
RequiredBy=ssh.service
UNIT
chroot "$root" systemctl enable authorize-test-key.service ssh.service >/dev/null 2>&1
# Quieter, faster boots: nothing here may reach for the network or the clock.
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer systemd-timesyncd.service \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer >/dev/null 2>&1 || true

# --- kernel, initramfs, root filesystem ------------------------------------------------------------
vmlinuz="$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)"
initrd="$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n1)"
{ [ -n "$vmlinuz" ] && [ -n "$initrd" ]; } || die "no kernel or initramfs in the guest's /boot"
install -m 644 "$vmlinuz" "$build/vmlinuz"
install -m 644 "$initrd" "$build/initrd.img"
install -m 644 "$root/etc/ssh/ssh_host_ed25519_key.pub" "$build/host_key.pub"
{
  printf 'suite %s\nmirror %s\ncandidates:\n%s\ninstalled:\n' "$suite" "$mirror" "$versions"
  # shellcheck disable=SC2016 # dpkg-query's format, not the shell's
  chroot "$root" dpkg-query -W -f '${Package} ${Version}\n'
} >"$build/manifest.txt"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

mkfs.ext4 -q -F -L root -d "$root" "$build/base.raw" "$size"
chmod 444 "$build/base.raw"
rm -rf "$root"
mv "$build" "$dir"
trap - EXIT
touch "$dir/ready"
log "cold build, $(elapsed)s: $dir"
printf '%s\n' "$dir"
