import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

import { Location } from "../shared/labels";
import { childOptions } from "../shared/options";
import { remoteStep } from "../shared/remote-step";
import { heredoc, renderScript, shellQuote } from "../shared/script";
import { Problems } from "../shared/validation";
import { Connection } from "./connection";

/** Where the sysctl profile is written; read by systemd-sysctl at every boot. */
export const SYSCTL_PROFILE_PATH = "/etc/sysctl.d/99-sovereign-faas.conf";
/** The interfaces that keep accepting IPv6 router advertisements, found on the host (accept_ra 2). */
export const IPV6_RA_PROFILE_PATH = "/etc/sysctl.d/98-sovereign-faas-ipv6-ra.conf";
/** Kernel modules loaded now and at every boot. */
export const MODULES_LOAD_PATH = "/etc/modules-load.d/sovereign-faas.conf";
/** Open-files limit for login sessions (pam_limits). */
export const LIMITS_PATH = "/etc/security/limits.d/99-sovereign-faas.conf";
/** Open-files limit for every systemd service. */
export const SYSTEMD_LIMITS_PATH = "/etc/systemd/system.conf.d/99-sovereign-faas.conf";
/** Open-files limit for K3s itself (a drop-in that survives K3s re-installs). */
export const K3S_LIMITS_DROPIN_PATH = "/etc/systemd/system/k3s.service.d/99-sovereign-faas-limits.conf";
/** The raised open-files limit for the host and its services (the seeds' 64000, rounded up). */
export const DEFAULT_NOFILE_LIMIT = 65536;
/** K3s runs containerd and every pod's sockets: give it the kernel's nr_open default. */
export const K3S_NOFILE_LIMIT = 1048576;
/** Modules K3s networking needs: bridge netfilter for kube-proxy, overlay for containerd. */
export const KERNEL_MODULES = ["br_netfilter", "overlay", "nf_conntrack"] as const;

/** The seeds' tuning for many short-lived connections and dense containers. */
export const SEED_SYSCTLS: Readonly<Record<string, string>> = {
    "fs.file-max": "2097152",
    "net.core.somaxconn": "4096",
    "net.ipv4.ip_local_port_range": "1024 65535",
    "net.ipv4.tcp_max_syn_backlog": "4096",
    "net.ipv4.tcp_tw_reuse": "1",
    "vm.max_map_count": "262144",
    "vm.overcommit_memory": "1",
    "vm.swappiness": "1",
};

/** What Kubernetes networking needs: forwarding, bridged traffic through netfilter, room in conntrack. */
export const K3S_SYSCTLS: Readonly<Record<string, string>> = {
    "net.bridge.bridge-nf-call-ip6tables": "1",
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.ipv4.ip_forward": "1",
    // The seeds' port range starts at 1024, so every port K3s and its parts listen on must be
    // kept out of it, or an outgoing connection can take one before its server binds it (a
    // restarted kubelet then fails on 10248). K3s: 6443 supervisor and API proxy, 6444
    // kube-apiserver, 10248 kubelet healthz, 10249/10256 kube-proxy, 10250 kubelet, 10257
    // controller-manager, 10258 cloud-controller, 10259 scheduler, 10010 containerd streams,
    // 8472/udp VXLAN, 2379-2381 etcd (with cluster-init); 30000-32767 NodePorts. Sources:
    // docs.k3s.io/installation/requirements, k3s pkg/daemons/control/server.go, pkg/agent/templates.
    // Written in the kernel's own form (sorted ranges), so sysctl -n reads back the same text.
    "net.ipv4.ip_local_reserved_ports": "2379-2381,6443-6444,8472,10010,10248-10250,10256-10259,30000-32767",
    // K3s turns IPv6 forwarding on by itself for IPv6 and dual-stack clusters (k3s
    // pkg/agent/syssetup/setup.go); an IPv4 cluster does not need it. Forwarding makes every
    // interface a router that drops RA-learned default routes unless its accept_ra is 2
    // (kernel Documentation/networking/ip-sysctl.rst, accept_ra): new interfaces get 2 here,
    // existing ones in the kernel script.
    "net.ipv6.conf.default.accept_ra": "2",
    "net.netfilter.nf_conntrack_max": "1048576",
    "fs.inotify.max_user_instances": "8192",
    "fs.inotify.max_user_watches": "524288",
};

/**
 * The values the kubelet insists on under `--protect-kernel-defaults` (K3s CIS hardening).
 * K3s never sets them; with the flag on, the kubelet refuses to start when they differ.
 * Source: kubelet `setupKernelTunables`, K3s CIS hardening guide.
 */
export const CIS_SYSCTLS: Readonly<Record<string, string>> = {
    "kernel.keys.root_maxbytes": "25000000",
    "kernel.keys.root_maxkeys": "1000000",
    "kernel.panic": "10",
    "kernel.panic_on_oops": "1",
    "vm.overcommit_memory": "1",
    "vm.panic_on_oom": "0",
};

const num = (v: string): number => (/^-?\d+$/.test(v) ? Number(v) : NaN);

/**
 * Sysctls an override may not set, or only to the values given: those that name a program the
 * kernel runs as root (kernel Documentation/admin-guide/sysctl/kernel.rst: core_pattern "|"
 * pipes every core dump to a program, modprobe, hotplug, poweroff_cmd), that lower a hardening
 * default (ptrace, kernel pointers, BPF, perf, ASLR, link protections, SysRq), or that switch off
 * what K3s networking needs. Refused overrides are listed with the reason.
 */
export const GUARDED_SYSCTLS: Readonly<Record<string, { readonly allowed: (value: string) => boolean; readonly why: string }>> = {
    "kernel.modprobe": { allowed: () => false, why: "names the program the kernel runs as root to load modules" },
    "kernel.core_pattern": { allowed: () => false, why: "can pipe every core dump to a program the kernel runs as root (a leading |), or write dumps anywhere" },
    "kernel.hotplug": { allowed: () => false, why: "names a program the kernel runs as root on device events" },
    "kernel.poweroff_cmd": { allowed: () => false, why: "names a program the kernel runs as root at power-off" },
    "kernel.usermodehelper.bset": { allowed: () => false, why: "widens the capabilities of programs the kernel starts" },
    "kernel.usermodehelper.inheritable": { allowed: () => false, why: "widens the capabilities of programs the kernel starts" },
    "fs.suid_dumpable": { allowed: (v) => v === "0", why: "lets setuid programs dump core, with their secrets" },
    "kernel.yama.ptrace_scope": { allowed: (v) => num(v) >= 1, why: "lets any process trace (and read the memory of) others of its user" },
    "kernel.kptr_restrict": { allowed: (v) => num(v) >= 1, why: "shows kernel addresses to unprivileged users" },
    "kernel.dmesg_restrict": { allowed: (v) => v === "1", why: "shows the kernel log to unprivileged users" },
    "kernel.unprivileged_bpf_disabled": { allowed: (v) => num(v) >= 1, why: "lets unprivileged users load BPF programs" },
    "net.core.bpf_jit_harden": { allowed: (v) => num(v) >= 1, why: "switches off BPF JIT hardening" },
    "kernel.perf_event_paranoid": { allowed: (v) => num(v) >= 2, why: "lets unprivileged users profile the kernel" },
    "kernel.randomize_va_space": { allowed: (v) => v === "2", why: "weakens address space layout randomisation" },
    "fs.protected_hardlinks": { allowed: (v) => v === "1", why: "switches off hard link protection" },
    "fs.protected_symlinks": { allowed: (v) => v === "1", why: "switches off symlink protection" },
    "fs.protected_fifos": { allowed: (v) => num(v) >= 1, why: "switches off FIFO protection in sticky directories" },
    "fs.protected_regular": { allowed: (v) => num(v) >= 1, why: "switches off regular file protection in sticky directories" },
    "kernel.kexec_load_disabled": { allowed: (v) => v === "1", why: "is a one-way switch; only 1 (disable kexec) is meaningful" },
    "kernel.sysrq": { allowed: (v) => v === "0" || v === "176", why: "enables every SysRq function from the console" },
    "vm.unprivileged_userfaultfd": { allowed: (v) => v === "0", why: "lets unprivileged users use userfaultfd, a common exploit aid" },
    "dev.tty.ldisc_autoload": { allowed: (v) => v === "0", why: "lets unprivileged users load TTY line disciplines" },
    "net.ipv4.ip_forward": { allowed: (v) => v === "1", why: "K3s routes pod traffic: forwarding off breaks the cluster network" },
    "net.bridge.bridge-nf-call-iptables": { allowed: (v) => v === "1", why: "kube-proxy and network policy need bridged traffic to pass netfilter" },
    "net.bridge.bridge-nf-call-ip6tables": { allowed: (v) => v === "1", why: "kube-proxy and network policy need bridged traffic to pass netfilter" },
};

const SYSCTL_KEY = /^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/;
const SYSCTL_VALUE = /^[A-Za-z0-9 ,._:/-]+$/;

/** The default profile: seeds, K3s and CIS values, sorted by key. */
export function defaultSysctlProfile(): Record<string, string> {
    return sortRecord({ ...SEED_SYSCTLS, ...K3S_SYSCTLS, ...CIS_SYSCTLS });
}

function sortRecord(r: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Validates user overrides. `configKey` is how the user typed the map, e.g. `sovereign-faas:kernel`.
 * Returns problems rather than throwing, so they join the rest of the config's.
 */
export function validateSysctlOverrides(overrides: Readonly<Record<string, unknown>>, configKey: string): Problems {
    const problems = new Problems();
    for (const [key, value] of Object.entries(overrides)) {
        const where = `${configKey}.${key}`;
        if (!SYSCTL_KEY.test(key)) {
            problems.add(where, key, "a sysctl key is dot-separated lower-case words, like net.core.somaxconn", "use the key as `sysctl -a` prints it");
            continue;
        }
        const text = typeof value === "number" ? String(value) : value;
        if (typeof text !== "string" || !SYSCTL_VALUE.test(text)) {
            problems.add(where, value, "a sysctl value is a number or a short text of letters, digits, spaces and , . _ : / -", "quote the value as `sysctl -n` prints it");
            continue;
        }
        const guarded = Object.prototype.hasOwnProperty.call(GUARDED_SYSCTLS, key) ? GUARDED_SYSCTLS[key] : undefined;
        if (guarded !== undefined && !guarded.allowed(normalizeSysctlValue(text))) {
            problems.add(where, value, `is refused: ${key} ${guarded.why}`, "remove the override (set it on the host by hand if you must, outside what this stack manages)");
            continue;
        }
        const required = Object.prototype.hasOwnProperty.call(CIS_SYSCTLS, key) ? CIS_SYSCTLS[key] : undefined;
        if (required !== undefined && normalizeSysctlValue(text) !== required) {
            problems.add(
                where,
                value,
                `K3s runs with protect-kernel-defaults, so the kubelet refuses to start unless ${key} is ${required}`,
                `remove the override or set it to ${required}`,
            );
        }
    }
    return problems;
}

/** Collapses whitespace the way the kernel prints multi-value sysctls (tabs become single spaces). */
export function normalizeSysctlValue(value: string): string {
    return value.trim().split(/\s+/).join(" ");
}

/** Merges overrides onto the default profile. Values are normalized text; keys sorted. */
export function mergeSysctlProfile(overrides: Readonly<Record<string, string | number>> = {}): Record<string, string> {
    const merged: Record<string, string> = defaultSysctlProfile();
    for (const [k, v] of Object.entries(overrides)) {
        merged[k] = normalizeSysctlValue(String(v));
    }
    return sortRecord(merged);
}

/** Renders the sysctl.d file. */
export function renderSysctlConf(profile: Readonly<Record<string, string>>): string {
    const lines = Object.entries(sortRecord({ ...profile })).map(([k, v]) => `${k} = ${v}`);
    return `# Managed by sovereign-faas (pulumi). Local edits are overwritten on the next \`pulumi up\`.\n${lines.join("\n")}\n`;
}

export interface KernelScriptOptions {
    readonly location: Location;
    readonly profile: Readonly<Record<string, string>>;
    readonly nofileLimit: number;
}

/** The files the kernel step owns, with their content. Sorted by path. */
export function renderKernelFiles(opts: Omit<KernelScriptOptions, "location">): Record<string, string> {
    const header = "# Managed by sovereign-faas (pulumi).\n";
    return {
        [K3S_LIMITS_DROPIN_PATH]: `${header}[Service]\nLimitNOFILE=${K3S_NOFILE_LIMIT}\n`,
        [LIMITS_PATH]: `${header}* soft nofile ${opts.nofileLimit}\n* hard nofile ${opts.nofileLimit}\nroot soft nofile ${opts.nofileLimit}\nroot hard nofile ${opts.nofileLimit}\n`,
        [MODULES_LOAD_PATH]: `${header}${KERNEL_MODULES.join("\n")}\n`,
        [SYSCTL_PROFILE_PATH]: renderSysctlConf(opts.profile),
        [SYSTEMD_LIMITS_PATH]: `${header}[Manager]\nDefaultLimitNOFILE=${opts.nofileLimit}\n`,
    };
}

/** Shell function that installs a file only when its content differs; shared by several steps. */
export const INSTALL_FILE_FUNCTION = `# install_file PATH MODE: content on stdin; writes atomically, only when it differs.
install_file() {
  local path="$1" mode="$2" tmp
  tmp="$(mktemp "\${path%/*}/.sovereign-faas.XXXXXX")"
  cat > "$tmp"
  chmod "$mode" "$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c %a "$path")" = "$mode" ]; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$path"
  changed "wrote $path"
  return 0
}`;

/**
 * Renders the kernel tuning script: modules, sysctls (validated key by key against the running
 * kernel before the profile is installed), swap off, open-files limits. Idempotent; a re-run
 * after a failure converges.
 */
export function renderKernelScript(opts: KernelScriptOptions): string {
    const files = renderKernelFiles(opts);
    const dirs = [...new Set(Object.keys(files).map((p) => p.slice(0, p.lastIndexOf("/"))))].sort();
    const sysctlLines = Object.entries(opts.profile)
        .map(([k, v]) => `  ${shellQuote(k)} ${shellQuote(v)}`)
        .join(" \\\n");
    const writeFile = (path: string, mode: string): string =>
        `install_file ${path} ${mode} ${heredoc(files[path], "FILE", " || true")}`;
    const body = `${INSTALL_FILE_FUNCTION}

mkdir -p ${dirs.join(" ")}

# 1. Kernel modules, now and at boot (the bridge sysctls only exist once br_netfilter is loaded).
${writeFile(MODULES_LOAD_PATH, "644")}
for module in ${KERNEL_MODULES.join(" ")}; do
  if ! grep -qw "^$module" /proc/modules && [ ! -d "/sys/module/$module" ]; then
    modprobe "$module" || fail "cannot load kernel module $module (needed by K3s networking)"
    changed "loaded module $module"
  fi
done

# 2. Sysctls: check every key exists and that the kernel accepts every value, before the profile
#    is installed for boot. A rejected value names its key and leaves the boot profile untouched.
rejected=()
set_sysctl() {
  local key="$1" want="$2" path current err
  path="/proc/sys/\${key//.//}"
  if [ ! -e "$path" ]; then
    rejected+=("$key: this kernel has no such sysctl (remove it from sovereign-faas:kernel)")
    return 0
  fi
  current="$(sysctl -n "$key" | tr -s '[:space:]' ' ' | sed 's/ $//')"
  if [ "$current" = "$want" ]; then
    return 0
  fi
  if ! err="$(sysctl -q -w "$key=$want" 2>&1)"; then
    rejected+=("$key = $want: the kernel rejected it: \${err:-invalid value}")
    return 0
  fi
  changed "sysctl $key: $current -> $want"
}
# The profile is passed as positional arguments, so no value is ever re-parsed as shell.
set -- \\
${sysctlLines}
while [ "$#" -gt 0 ]; do set_sysctl "$1" "$2"; shift 2; done
if [ "\${#rejected[@]}" -gt 0 ]; then
  for r in "\${rejected[@]}"; do printf '[sovereign-faas:kernel] ERROR: sysctl %s\\n' "$r" >&2; done
  fail "\${#rejected[@]} sysctl value(s) rejected; ${SYSCTL_PROFILE_PATH} was not changed"
fi
${writeFile(SYSCTL_PROFILE_PATH, "644")}

# 2b. IPv6 router advertisements on the existing interfaces (see net.ipv6.conf.default.accept_ra
#     in the profile): every interface that accepts RAs now (accept_ra 1) keeps accepting them
#     once forwarding is on (2), now and at boot. 0 means RAs were turned off on purpose: left so.
#     Keys use the slash form, so interface names with dots (VLANs) stay one key.
ra_conf=""
for ra_path in /proc/sys/net/ipv6/conf/*/accept_ra; do
  [ -e "$ra_path" ] || continue
  iface="\${ra_path#/proc/sys/net/ipv6/conf/}"
  iface="\${iface%/accept_ra}"
  case "$iface" in all|default|lo|cni*|flannel*|veth*|kube*) continue ;; esac
  case "$(cat "$ra_path")" in
    1) echo 2 > "$ra_path"; changed "net.ipv6.conf.$iface.accept_ra: 1 -> 2 (keeps its RA default route once forwarding is on)" ;;
    2) ;;
    *) continue ;;
  esac
  ra_conf="\${ra_conf}net/ipv6/conf/$iface/accept_ra = 2
"
done
install_file ${IPV6_RA_PROFILE_PATH} 644 < <(printf '# Managed by sovereign-faas (pulumi): interfaces that keep accepting router advertisements.\\n%s' "$ra_conf") || true

# 3. Swap off, now and at boot: the kubelet and vm.swappiness=1 assume no swap.
if [ -n "$(swapon --show --noheadings 2>/dev/null)" ]; then
  swapoff -a
  changed "swap turned off"
fi
if grep -Eq '^[[:space:]]*[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]' /etc/fstab; then
  sed -i.sovereign-faas.bak -E 's|^([[:space:]]*[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]].*)$|# disabled by sovereign-faas: \\1|' /etc/fstab
  changed "swap entries in /etc/fstab commented out"
fi
if [ "$(systemctl is-enabled swap.target 2>/dev/null || true)" != "masked" ]; then
  systemctl mask swap.target >/dev/null 2>&1
  changed "swap.target masked"
fi

# 4. Open-files limits for login sessions, every service, and K3s.
${writeFile(LIMITS_PATH, "644")}
units_changed=0
if ${writeFile(SYSTEMD_LIMITS_PATH, "644").replace(" || true", "")}
then
  units_changed=1
fi
if ${writeFile(K3S_LIMITS_DROPIN_PATH, "644").replace(" || true", "")}
then
  units_changed=1
fi
if [ "$units_changed" -eq 1 ]; then
  systemctl daemon-reexec
fi`;
    return renderScript({ step: "kernel", location: opts.location, body });
}

export interface KernelTuningArgs {
    readonly connection: Connection;
    /** SSH user; scripts run through sudo when it is not root. */
    readonly user: string;
    readonly location: Location;
    /**
     * Sysctl overrides merged over the default profile (seeds + K3s + CIS).
     * @default {} (the profile as `defaultSysctlProfile()` returns it)
     */
    readonly sysctls?: Readonly<Record<string, string | number>>;
    /**
     * Open-files limit for the host and its services.
     * @default 65536 (DEFAULT_NOFILE_LIMIT)
     */
    readonly nofileLimit?: number;
}

/**
 * Tunes the kernel for many short-lived connections and for K3s: sysctls written to
 * /etc/sysctl.d and applied, modules loaded, swap off, open-files limits raised.
 * Re-applied, in place, only when the rendered script changes.
 */
export class KernelTuning extends pulumi.ComponentResource {
    /** The applied profile (key to value). */
    readonly profile: Record<string, string>;
    /** The command, for `dependsOn`. */
    readonly command: command.remote.Command;

    constructor(name: string, args: KernelTuningArgs, opts?: pulumi.ComponentResourceOptions) {
        validateSysctlOverrides(args.sysctls ?? {}, "sysctls").throwIfAny(`KernelTuning ${name}: invalid arguments`);
        super("sovereign-faas:host:KernelTuning", name, {}, opts);
        this.profile = mergeSysctlProfile(args.sysctls);
        const script = renderKernelScript({
            location: args.location,
            profile: this.profile,
            nofileLimit: args.nofileLimit ?? DEFAULT_NOFILE_LIMIT,
        });
        this.command = remoteStep(`${name}-apply`, { connection: args.connection, user: args.user, step: "kernel", script }, childOptions(this, opts));
        this.registerOutputs({ profile: this.profile });
    }
}
