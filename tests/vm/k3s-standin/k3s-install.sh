#!/bin/sh
# A stand-in for K3s's install.sh in the real-host tests, air-gapped mode only: like the upstream
# installer with INSTALL_K3S_SKIP_DOWNLOAD=true, it writes the k3s systemd unit and
# k3s-uninstall.sh, enables the service and (re)starts it. It is not K3s's installer.
set -eu
[ "${INSTALL_K3S_SKIP_DOWNLOAD:-}" = true ] || { echo "k3s-install stand-in: only the air-gapped mode (INSTALL_K3S_SKIP_DOWNLOAD=true)" >&2; exit 1; }
cat > /etc/systemd/system/k3s.service <<'UNIT'
[Unit]
Description=K3s stand-in (sovereign-faas real-host tests)
After=network-online.target

[Service]
Type=simple
ExecStart=/usr/local/bin/k3s server
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT
cat > /usr/local/bin/k3s-uninstall.sh <<'UNINSTALL'
#!/bin/sh
set -eu
systemctl disable --now k3s >/dev/null 2>&1 || true
rm -f /etc/systemd/system/k3s.service /etc/rancher/k3s/k3s.yaml
rm -rf /var/lib/rancher
systemctl daemon-reload
echo "$(date -u +%FT%TZ) uninstalled" >> /var/log/k3s-standin.log
rm -f /usr/local/bin/k3s-uninstall.sh
UNINSTALL
chmod 755 /usr/local/bin/k3s-uninstall.sh
systemctl daemon-reload
systemctl enable k3s >/dev/null 2>&1
systemctl restart k3s
echo "$(date -u +%FT%TZ) installed ${INSTALL_K3S_VERSION:-}" >> /var/log/k3s-standin.log
