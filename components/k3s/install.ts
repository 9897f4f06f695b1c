import { Location } from "../shared/labels";
import { heredoc, renderScript, shellQuote } from "../shared/script";
import { INSTALL_FILE_FUNCTION } from "../host/kernel";
import { K3S_CONFIG_PATH, K3S_KUBECONFIG_PATH } from "./config";
import { K3S_SECRET_DROPIN_PATH } from "./flags";

/** The upstream installer, fetched only in online mode. */
export const K3S_INSTALLER_URL = "https://get.k3s.io";
/** Where the air-gapped mode expects the pre-staged installer script. */
export const AIRGAP_INSTALLER_PATH = "/usr/local/bin/k3s-install.sh";
/** Where the air-gapped mode expects the pre-staged binary. */
export const AIRGAP_BINARY_PATH = "/usr/local/bin/k3s";
/** Where the air-gapped mode expects the images tarball(s). */
export const AIRGAP_IMAGES_DIR = "/var/lib/rancher/k3s/agent/images";
/** What the install step last completed with; the air-gapped mode cannot tell it from the staged binary. */
export const K3S_VERSION_MARKER = "/var/lib/sovereign-faas/k3s-version";
/** The label K3s's ServiceLB puts on the DaemonSets it creates (pkg/cloudprovider/servicelb.go). */
export const SERVICELB_LABEL = "svccontroller.k3s.cattle.io/svcname";
/** How long to wait for the node to become Ready. */
export const DEFAULT_READY_TIMEOUT_SECONDS = 300;

export interface K3sInstallScriptOptions {
    readonly location: Location;
    /** Pinned version, e.g. v1.33.5+k3s1. */
    readonly version: string;
    /** The rendered config.yaml. */
    readonly config: string;
    /** Install from pre-staged files only (no download). */
    readonly airgap: boolean;
    /** Optional channel, passed to the installer (the pinned version wins). */
    readonly channel?: string;
    readonly readyTimeoutSeconds: number;
    /** The node name, when config.yaml sets `node-name`; otherwise the host name. */
    readonly nodeName?: string;
    /**
     * Whether the step's standard input carries the secret drop-in (renderK3sSecretDropIn). Without
     * it, a drop-in left by an earlier run is removed: it is ours, and its flags were removed.
     * @default false
     */
    readonly secretDropIn?: boolean;
}

/**
 * Renders the K3s install/upgrade script. Flags live in config.yaml, so re-running the installer
 * keeps them. It installs when K3s is missing or at another version (an in-place upgrade),
 * restarts when the running server is not the installed version or only the config changed,
 * does nothing otherwise, and always waits for the node to be Ready.
 */
export function renderK3sInstallScript(opts: K3sInstallScriptOptions): string {
    const installerEnv = [
        `INSTALL_K3S_VERSION=${shellQuote(opts.version)}`,
        ...(opts.channel !== undefined ? [`INSTALL_K3S_CHANNEL=${shellQuote(opts.channel)}`] : []),
        ...(opts.airgap ? ["INSTALL_K3S_SKIP_DOWNLOAD=true"] : []),
    ].join(" ");
    const fetchInstaller = opts.airgap
        ? `# Air-gapped: nothing is downloaded. The binary, the images and the installer are staged by hand.
  [ -x ${AIRGAP_BINARY_PATH} ] || fail "air-gapped install: ${AIRGAP_BINARY_PATH} is missing. Copy the k3s binary of $K3S_VERSION there (chmod 755)"
  staged="$(${AIRGAP_BINARY_PATH} --version 2>/dev/null | awk 'NR==1 {print $3}')"
  [ "$staged" = "$K3S_VERSION" ] || fail "air-gapped install: ${AIRGAP_BINARY_PATH} is \${staged:-unreadable}, expected $K3S_VERSION. Stage the matching binary"
  ls ${AIRGAP_IMAGES_DIR}/k3s-airgap-images-*.tar* >/dev/null 2>&1 || fail "air-gapped install: no k3s-airgap-images-<arch>.tar.zst in ${AIRGAP_IMAGES_DIR}. Copy the images of $K3S_VERSION there"
  [ -f ${AIRGAP_INSTALLER_PATH} ] || fail "air-gapped install: ${AIRGAP_INSTALLER_PATH} is missing. Copy install.sh of $K3S_VERSION there"
  installer=${AIRGAP_INSTALLER_PATH}`
        : `installer="$(mktemp)"
  trap 'rm -f "$installer"' EXIT
  curl -sfL --retry 3 ${K3S_INSTALLER_URL} -o "$installer" </dev/null || fail "cannot download the K3s installer from ${K3S_INSTALLER_URL}; for hosts without internet use k3s.airgap"`;
    const body = `${INSTALL_FILE_FUNCTION}
K3S_VERSION=${shellQuote(opts.version)}
READY_TIMEOUT=${opts.readyTimeoutSeconds}

mkdir -p ${K3S_CONFIG_PATH.slice(0, K3S_CONFIG_PATH.lastIndexOf("/"))} ${K3S_SECRET_DROPIN_PATH.slice(0, K3S_SECRET_DROPIN_PATH.lastIndexOf("/"))} ${AIRGAP_IMAGES_DIR}
config_changed=0
if install_file ${K3S_CONFIG_PATH} 600 ${heredoc(opts.config, "FILE")}
then
  config_changed=1
fi
${
    opts.secretDropIn === true
        ? `# The secret flags arrive on standard input, never on a command line.
secret_dropin="$(cat)"
if install_file ${K3S_SECRET_DROPIN_PATH} 600 <<<"$secret_dropin"; then
  config_changed=1
fi
unset secret_dropin`
        : `if [ -e ${K3S_SECRET_DROPIN_PATH} ]; then
  rm -f ${K3S_SECRET_DROPIN_PATH}
  changed "removed ${K3S_SECRET_DROPIN_PATH}: no secret K3s flags are configured any more"
  config_changed=1
fi`
}

# What our last install completed with (the marker), else the binary on disk: in air-gapped mode
# the new binary is staged before the upgrade, so the binary alone cannot say "not installed yet".
installed=""
if command -v k3s >/dev/null 2>&1 && [ -f /etc/systemd/system/k3s.service ]; then
  installed="$(cat ${K3S_VERSION_MARKER} 2>/dev/null || k3s --version 2>/dev/null | awk 'NR==1 {print $3}')"
fi

# The version of the server that is running now: /proc/<pid>/exe is the binary it started from,
# even after the file on disk was replaced.
running_version() {
  local pid
  pid="$(systemctl show -p MainPID --value k3s 2>/dev/null || true)"
  if [ -n "$pid" ] && [ "$pid" != 0 ] && [ -e "/proc/$pid/exe" ]; then
    "/proc/$pid/exe" --version 2>/dev/null | awk 'NR==1 {print $3}'
  fi
}

if [ "$installed" != "$K3S_VERSION" ]; then
  if [ -n "$installed" ]; then log "upgrading K3s in place: $installed -> $K3S_VERSION"; else log "installing K3s $K3S_VERSION"; fi
  # A backup of the cluster state before every upgrade, where backups are set up (SovereignBackups).
  if [ -n "$installed" ] && [ -f /etc/systemd/system/sovereign-backup.service ]; then
    log "backing up the cluster state before the upgrade (sovereign-backup.service)"
    systemctl start sovereign-backup.service || fail "the backup before the K3s upgrade failed, so K3s was not upgraded: see journalctl -u sovereign-backup, fix the cause and re-run pulumi up"
  fi
  ${fetchInstaller}
  ${installerEnv} sh "$installer" </dev/null || fail "the K3s installer failed (see above); re-run pulumi up after fixing the cause"
  mkdir -p ${K3S_VERSION_MARKER.slice(0, K3S_VERSION_MARKER.lastIndexOf("/"))}
  printf '%s\\n' "$K3S_VERSION" > ${K3S_VERSION_MARKER}
  changed "K3s $K3S_VERSION installed"
fi
running="$(running_version)"
if [ -z "$running" ]; then
  systemctl start k3s || fail "K3s did not start; see journalctl -u k3s"
  changed "K3s started"
elif [ "$running" != "$K3S_VERSION" ]; then
  # The binary on disk is the new one but the old process still runs (an air-gapped upgrade
  # whose binary was staged, or an installer that did not restart it).
  systemctl restart k3s || fail "K3s did not restart on $K3S_VERSION; see journalctl -u k3s"
  changed "K3s restarted: it ran $running, the installed version is $K3S_VERSION"
elif [ "$config_changed" -eq 1 ]; then
  systemctl restart k3s || fail "K3s did not restart with the new ${K3S_CONFIG_PATH}; see journalctl -u k3s"
  changed "K3s restarted for the new ${K3S_CONFIG_PATH}"
fi

# K3s lower-cases the node name, derived or given (k3s pkg/util/net.go GetHostnameAndIPs).
node=${opts.nodeName !== undefined ? shellQuote(opts.nodeName.toLowerCase()) : `"$(hostname | tr '[:upper:]' '[:lower:]')"`}
deadline=$(( $(date +%s) + READY_TIMEOUT ))
until [ "$(k3s kubectl get node "$node" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = "True" ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    journalctl -u k3s --no-pager -n 30 >&2 || true
    fail "node $node not Ready after \${READY_TIMEOUT}s; the K3s log is above"
  fi
  sleep 5
done
[ "$(stat -c %a ${K3S_KUBECONFIG_PATH})" = "600" ] || fail "${K3S_KUBECONFIG_PATH} is not mode 600"

# ServiceLB is off (config.yaml disable), but the DaemonSets it made for LoadBalancer Services
# before stay behind and hold their host ports (80/443 for the edge of program 0.1). They are
# the servicelb controller's (k3s pkg/cloudprovider/servicelb.go, label svcname), not the user's.
leftover="$(k3s kubectl -n kube-system get daemonset -l ${SERVICELB_LABEL} -o name 2>/dev/null | tr '\\n' ' ' || true)"
if [ -n "\${leftover// /}" ]; then
  k3s kubectl -n kube-system delete daemonset -l ${SERVICELB_LABEL} --wait=false >/dev/null || fail "cannot remove the ServiceLB DaemonSets left from before ServiceLB was turned off: $leftover"
  changed "removed ServiceLB DaemonSets left behind: $leftover"
fi
log "node $node is Ready (K3s $K3S_VERSION)"`;
    return renderScript({ step: "k3s", location: opts.location, body });
}

/**
 * Renders the delete script, used only with `uninstallOnDestroy: true`: uninstalls K3s, which
 * removes /var/lib/rancher. Sovereign data lives outside it, so it survives.
 */
export function renderK3sUninstallScript(location: Location): string {
    return renderScript({
        step: "k3s-uninstall",
        location,
        body: `if [ -x /usr/local/bin/k3s-uninstall.sh ]; then
  /usr/local/bin/k3s-uninstall.sh </dev/null
  changed "K3s uninstalled (data under /var/lib/rancher removed; sovereign data directories kept)"
else
  log "K3s is not installed"
fi`,
    });
}

/**
 * Renders the script that prints the admin kubeconfig. It runs once, when the step is created:
 * see K3sCluster for why it does not run again on an upgrade.
 */
export function renderKubeconfigScript(location: Location): string {
    return renderScript({
        step: "kubeconfig",
        location,
        body: `[ -r ${K3S_KUBECONFIG_PATH} ] || fail "${K3S_KUBECONFIG_PATH} not found; is K3s installed?"
cat ${K3S_KUBECONFIG_PATH}`,
    });
}
