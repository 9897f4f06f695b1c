import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

import { Location } from "../shared/labels";
import { childOptions } from "../shared/options";
import { remoteStep } from "../shared/remote-step";
import { renderScript, shellQuote } from "../shared/script";
import { Connection } from "./connection";

/** Oldest kernel K3s supports well (cgroup v2, overlayfs, nftables). */
export const MIN_KERNEL_VERSION = "5.4";
/** Free disk (GiB) below which K3s, images and function data do not fit. */
export const DEFAULT_MIN_FREE_DISK_GIB = 10;
/** Memory (MiB) below which K3s and OpenFaaS do not fit, when the caller does not know what the stack requests. */
export const DEFAULT_MIN_MEMORY_MIB = 1536;
/**
 * What K3s and the OS need before any workload, in MiB. docs.k3s.io/reference/resource-profiling
 * measures a K3s server with SQLite and a small workload at 1596M; the workload's own requests are
 * added to this floor by `requiredMemoryMiB`.
 */
export const K3S_BASE_MEMORY_MIB = 1024;

/** The memory floor for a stack whose workloads request `requestsMiB` in total. */
export function requiredMemoryMiB(requestsMiB: number): number {
    return K3S_BASE_MEMORY_MIB + Math.ceil(requestsMiB);
}
/** CPU steal (percent) above which the report warns of a noisy neighbour. */
export const DEFAULT_MAX_CPU_STEAL_PERCENT = 10;
/** The marker before the JSON report on the script's standard output. */
export const PREFLIGHT_REPORT_MARKER = "SOVEREIGN_FAAS_PREFLIGHT ";

export interface PreflightArgs {
    readonly connection: Connection;
    /** SSH user; scripts run through sudo when it is not root. */
    readonly user: string;
    readonly location: Location;
    /**
     * Minimum free disk space, in GiB, on the filesystem holding /var/lib.
     * @default 10 (DEFAULT_MIN_FREE_DISK_GIB)
     */
    readonly minFreeDiskGiB?: number;
    /**
     * Minimum total memory in MiB.
     * @default 1536 (DEFAULT_MIN_MEMORY_MIB)
     */
    readonly minMemoryMiB?: number;
    /**
     * Directory whose disk is the data disk (checked for NVMe).
     * @default "/data/sovereign"
     */
    readonly dataPath?: string;
}

/** What the preflight found on the host. */
export interface PreflightReport {
    readonly os: string;
    readonly kernel: string;
    readonly arch: string;
    readonly cgroup: "v1" | "v2";
    readonly overlayfs: boolean;
    readonly freeDiskGiB: number;
    readonly memoryMiB: number;
    readonly cpuStealPercent: number;
    readonly rootDiskNvme: boolean;
    readonly dataDiskNvme: boolean;
    readonly warnings: string[];
}

export interface PreflightScriptOptions {
    readonly location: Location;
    readonly minFreeDiskGiB: number;
    readonly minMemoryMiB: number;
    readonly dataPath: string;
}

/** Renders the read-only preflight script. It changes nothing; it fails where K3s cannot run. */
export function renderPreflightScript(opts: PreflightScriptOptions): string {
    const [minMajor, minMinor] = MIN_KERNEL_VERSION.split(".");
    const body = `MIN_FREE_DISK_GIB=${opts.minFreeDiskGiB}
MIN_MEMORY_MIB=${opts.minMemoryMiB}
MAX_CPU_STEAL=${DEFAULT_MAX_CPU_STEAL_PERCENT}
DATA_PATH=${shellQuote(opts.dataPath)}
problems=()
warnings=()

os="unknown"
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  os="$(. /etc/os-release && printf '%s %s' "\${ID:-unknown}" "\${VERSION_ID:-}")"
fi
case "$os" in
  "debian 12"|"debian 13"|"ubuntu 24.04"|"ubuntu 22.04") ;;
  *) warnings+=("untested OS '$os' (tested: Debian 12, Ubuntu 24.04)") ;;
esac

command -v systemctl >/dev/null 2>&1 || problems+=("systemd is required (systemctl not found)")

kernel="$(uname -r)"
major="\${kernel%%.*}"; rest="\${kernel#*.}"; minor="\${rest%%.*}"; minor="\${minor%%[!0-9]*}"
if [ "$major" -lt ${minMajor} ] || { [ "$major" -eq ${minMajor} ] && [ "\${minor:-0}" -lt ${minMinor} ]; }; then
  problems+=("kernel $kernel is older than ${MIN_KERNEL_VERSION}; upgrade the kernel")
fi

arch="$(uname -m)"
case "$arch" in
  x86_64|aarch64|armv7l) ;;
  *) problems+=("architecture $arch is not supported by K3s") ;;
esac

if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null || true)" = "cgroup2fs" ]; then
  cgroup="v2"
elif [ -d /sys/fs/cgroup/memory ]; then
  cgroup="v1"
  warnings+=("cgroup v1 in use; cgroup v2 is recommended (systemd.unified_cgroup_hierarchy=1)")
else
  cgroup="none"
  problems+=("no usable cgroup hierarchy at /sys/fs/cgroup; K3s needs cgroups (v2 recommended)")
fi

overlayfs=false
if grep -qw overlay /proc/filesystems || modprobe -n overlay >/dev/null 2>&1; then
  overlayfs=true
else
  problems+=("overlayfs is not available (no 'overlay' in /proc/filesystems and no module); containerd needs it")
fi

free_kib="$(df -Pk /var/lib | awk 'NR==2 {print $4}')"
free_gib=$((free_kib / 1024 / 1024))
if [ "$free_gib" -lt "$MIN_FREE_DISK_GIB" ]; then
  problems+=("only \${free_gib} GiB free on /var/lib; at least $MIN_FREE_DISK_GIB GiB needed for K3s and images")
fi

mem_kib="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
mem_mib=$((mem_kib / 1024))
if [ "$mem_mib" -lt "$MIN_MEMORY_MIB" ]; then
  problems+=("only \${mem_mib} MiB of memory; at least $MIN_MEMORY_MIB MiB needed for K3s and OpenFaaS")
fi

steal=0
if command -v vmstat >/dev/null 2>&1; then
  # The last sample of three; the first one is the average since boot.
  steal="$(vmstat 1 3 | awk 'NR==2 { for (i = 1; i <= NF; i++) if ($i == "st") col = i } END { print (col ? $col : 0) }')"
else
  warnings+=("vmstat not found (package procps); CPU steal not measured")
fi
if [ "$steal" -gt "$MAX_CPU_STEAL" ]; then
  warnings+=("CPU steal is \${steal}%: a noisy neighbour takes CPU time from this VPS")
fi

disk_of() {
  local source parent
  source="$(findmnt -no SOURCE --target "$1" 2>/dev/null | head -n1)"
  parent="$(lsblk -no PKNAME "$source" 2>/dev/null | tail -n1)"
  printf '%s' "\${parent:-\${source##*/}}"
}
nvme_json() { case "$1" in nvme*) printf true ;; *) printf false ;; esac; }
root_disk="$(disk_of /)"
data_target="/"
if [ -e "$DATA_PATH" ]; then data_target="$DATA_PATH"; fi
data_disk="$(disk_of "$data_target")"
case "$root_disk" in nvme*) ;; *) warnings+=("root disk '\${root_disk:-unknown}' is not NVMe; cold starts pull images from it") ;; esac

json_list() {
  local first=1 item
  printf '['
  for item in "$@"; do
    [ "$first" -eq 1 ] || printf ','
    first=0
    printf '"%s"' "\${item//\\"/\\\\\\"}"
  done
  printf ']'
}

for w in "\${warnings[@]}"; do log "warning: $w"; done
if [ "\${#problems[@]}" -gt 0 ]; then
  for p in "\${problems[@]}"; do printf '[sovereign-faas:preflight] ERROR: %s\\n' "$p" >&2; done
  fail "this host cannot run K3s (\${#problems[@]} problem(s) above)"
fi

printf '${PREFLIGHT_REPORT_MARKER}{"arch":"%s","cgroup":"%s","cpuStealPercent":%s,"dataDiskNvme":%s,"freeDiskGiB":%s,"kernel":"%s","memoryMiB":%s,"os":"%s","overlayfs":%s,"rootDiskNvme":%s,"warnings":%s}\\n' \\
  "$arch" "$cgroup" "$steal" "$(nvme_json "$data_disk")" "$free_gib" "$kernel" "$mem_mib" "$os" "$overlayfs" "$(nvme_json "$root_disk")" "$(json_list "\${warnings[@]}")"`;
    return renderScript({ step: "preflight", location: opts.location, body });
}

/** Extracts the JSON report from the preflight's standard output. */
export function parsePreflightReport(stdout: string): PreflightReport {
    const line = stdout.split("\n").find((l) => l.startsWith(PREFLIGHT_REPORT_MARKER));
    if (line === undefined) {
        throw new Error("preflight printed no report; see the command's output for the reason");
    }
    return JSON.parse(line.slice(PREFLIGHT_REPORT_MARKER.length)) as PreflightReport;
}

/**
 * Checks that K3s can run on the host: kernel, cgroups, overlayfs, disk, memory, CPU steal, NVMe.
 * Runs on the first `pulumi up` and whenever its script changes (thresholds, library upgrades),
 * changes nothing, and fails with the list of problems when K3s cannot run.
 */
export class Preflight extends pulumi.ComponentResource {
    /** The parsed report. */
    readonly report: pulumi.Output<PreflightReport>;
    /** The command, for `dependsOn`. */
    readonly command: command.remote.Command;

    constructor(name: string, args: PreflightArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sovereign-faas:host:Preflight", name, {}, opts);
        const script = renderPreflightScript({
            location: args.location,
            minFreeDiskGiB: args.minFreeDiskGiB ?? DEFAULT_MIN_FREE_DISK_GIB,
            minMemoryMiB: args.minMemoryMiB ?? DEFAULT_MIN_MEMORY_MIB,
            dataPath: args.dataPath ?? "/data/sovereign",
        });
        this.command = remoteStep(`${name}-check`, { connection: args.connection, user: args.user, step: "preflight", script }, childOptions(this, opts));
        this.report = this.command.stdout.apply(parsePreflightReport);
        this.registerOutputs({ report: this.report });
    }
}
