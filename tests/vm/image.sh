#!/usr/bin/env bash
# Builds (or reuses) a Debian 12 guest image for the real-host test, from Debian's packages:
# debootstrap root filesystem, Debian's kernel and initramfs, openssh-server, nftables.
# Cached by a key over this recipe and the candidate package versions.
# Usage: image.sh  -> prints the image directory (base.raw, vmlinuz, initrd.img, host key).
set -euo pipefail

cache="${SOVEREIGN_FAAS_VM_CACHE:-$HOME/.cache/sovereign-faas/vm}"
packages="systemd,systemd-sysv,openssh-server,iproute2,procps,kmod,nftables,linux-image-amd64,initramfs-tools,udev,ifupdown,isc-dhcp-client,sudo,util-linux,netcat-openbsd,e2fsprogs,restic,sqlite3,openssh-client"

# The mirror this machine's apt uses (deb822 or one-line format).
mirror="$( { grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list || true; } \
  | grep -v security | head -n1 | sed -E 's/^URIs: *//; s/^deb (\[[^]]*\] )?//' | awk '{print $1}')"
[ -n "$mirror" ] || { echo "image.sh: no Debian mirror found in apt's sources" >&2; exit 1; }

versions="$(apt-cache policy linux-image-amd64 systemd openssh-server nftables 2>/dev/null | grep -E '^[a-z]|Candidate' | tr -s ' ' || true)"
key="$(printf '%s\n%s\n%s\n' "$(cat "$0")" "$packages" "$versions" | sha256sum | cut -c1-16)"
dir="$cache/$key"
if [ -f "$dir/base.raw" ] && [ -f "$dir/vmlinuz" ] && [ -f "$dir/ready" ]; then
  echo "image: cached ($dir)" >&2
  printf '%s\n' "$dir"
  exit 0
fi

started=$(date +%s)
mkdir -p "$dir"
work="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"

echo "image: debootstrap bookworm from $mirror (cold build)" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

echo sovereign-test >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 sovereign-test\n' >"$root/etc/hosts"
printf '/dev/vda / ext4 rw,relatime 0 1\n/swapfile none swap sw 0 0\n' >"$root/etc/fstab"
printf 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n' >"$root/etc/network/interfaces"
chroot "$root" passwd -l root >/dev/null
# A second login with passwordless sudo: the components run their scripts through `sudo -n` for
# any user but root, and the tests run them that way too.
chroot "$root" useradd --create-home --shell /bin/bash deploy
printf 'deploy ALL=(ALL) NOPASSWD: ALL\n' >"$root/etc/sudoers.d/deploy"
chmod 440 "$root/etc/sudoers.d/deploy"
# A small swap file, so the test can prove the kernel step turns swap off for good. Not zeros:
# mkfs.ext4 -d stores zero blocks as holes, and the kernel refuses a swap file with holes.
head -c 64M /dev/zero | tr '\0' '\125' >"$root/swapfile"
chmod 600 "$root/swapfile"
mkswap "$root/swapfile" >/dev/null

# SSH: keys only; a host key made now and pinned by the test.
rm -f "$root"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N "" -C sovereign-test -f "$root/etc/ssh/ssh_host_ed25519_key"
cat >"$root/etc/ssh/sshd_config.d/sovereign-test.conf" <<'CONF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
CONF
cp "$root/etc/ssh/ssh_host_ed25519_key.pub" "$dir/host_key.pub"

# The per-run public key arrives through QEMU's fw_cfg, before sshd starts.
echo qemu_fw_cfg >"$root/etc/modules-load.d/qemu-fw-cfg.conf"
cat >"$root/etc/systemd/system/authorize-test-key.service" <<'UNIT'
[Unit]
Description=Authorize the test run's SSH key (from QEMU fw_cfg)
After=systemd-modules-load.service
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'modprobe qemu_fw_cfg; for h in /root /home/deploy; do mkdir -p -m 700 $$h/.ssh; cat /sys/firmware/qemu_fw_cfg/by_name/opt/sovereign/authorized_keys/raw > $$h/.ssh/authorized_keys; chmod 600 $$h/.ssh/authorized_keys; done; chown -R deploy:deploy /home/deploy/.ssh'

[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable authorize-test-key.service >/dev/null 2>&1
chroot "$root" systemctl enable ssh.service >/dev/null 2>&1 || true
chroot "$root" systemctl mask systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true

cp "$root"/boot/vmlinuz-* "$dir/vmlinuz"
cp "$root"/boot/initrd.img-* "$dir/initrd.img"
chmod 644 "$dir/vmlinuz" "$dir/initrd.img"
# mkfs prints "Creating regular file" even with -q; stdout carries only the image path.
mkfs.ext4 -q -F -L root -d "$root" "$work/base.raw" 3G >&2
mv "$work/base.raw" "$dir/base.raw"
touch "$dir/ready"
echo "image: built in $(( $(date +%s) - started ))s ($dir)" >&2
printf '%s\n' "$dir"
