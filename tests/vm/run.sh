#!/usr/bin/env bash
# npm run test:vm: the real-host test. Needs root, debootstrap, qemu-system-x86_64 and ssh.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in debootstrap qemu-system-x86_64 qemu-img ssh ssh-keygen nc mkfs.ext4 go /usr/sbin/sshd; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test:vm needs $tool (apt-get install debootstrap qemu-system-x86 qemu-utils openssh-client openssh-server netcat-openbsd e2fsprogs; go builds the k3s stand-in; sshd is the backup target)" >&2; exit 1; }
done
exec node_modules/.bin/tsx tests/vm/vm.ts
