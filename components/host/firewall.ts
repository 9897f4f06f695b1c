import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as ipaddr from "ipaddr.js";

import { Location } from "../shared/labels";
import { childOptions } from "../shared/options";
import { remoteStep } from "../shared/remote-step";
import { heredoc, renderScript, shellQuote } from "../shared/script";
import { isCidr, isIPv4, Problems } from "../shared/validation";
import { Connection, DEFAULT_SSH_PORT } from "./connection";
import { INSTALL_FILE_FUNCTION } from "./kernel";

/** Our own nftables table. We never touch the tables K3s, flannel or kube-proxy manage. */
export const FIREWALL_TABLE = "sovereign_faas";
/** The rules file, loaded atomically with `nft -f`, at apply time and at boot. */
export const FIREWALL_RULES_PATH = "/etc/sovereign-faas/firewall.nft";
/** The systemd unit that loads the rules at boot, before the network comes up. */
export const FIREWALL_UNIT_PATH = "/etc/systemd/system/sovereign-faas-firewall.service";
/** K3s's default pod network: pods reach the host (DNS, kubelet, API) from here. */
export const K3S_POD_CIDR = "10.42.0.0/16";
/** K3s's default service network. */
export const K3S_SERVICE_CIDR = "10.43.0.0/16";
/** The Kubernetes API port, opened only to `apiSources`. */
export const K3S_API_PORT = 6443;
/** Public web ports, for the NGINX ingress. */
export const PUBLIC_TCP_PORTS = [80, 443] as const;
/**
 * Ports that must never be opened to the world (kubelet, flannel VXLAN, etcd, NodePorts).
 * The renderer asserts that no rule opens them; the policy pack and tests read this list.
 */
export const NEVER_PUBLIC_PORTS = ["10250/tcp", "8472/udp", "2379-2380/tcp", "30000-32767/tcp", "30000-32767/udp"] as const;
/**
 * Ports SSH may not use, with what owns them: opening one to the SSH sources would expose it,
 * and sshd could not bind a port K3s holds. The edge's 80/443; etcd 2379-2381; the API 6443
 * and its proxy 6444; VXLAN 8472; containerd streams 10010; kubelet, kube-proxy and the control
 * plane 10248-10259; WireGuard 51820-51821 (flannel wireguard-native); the NodePorts
 * 30000-32767 (docs.k3s.io/installation/requirements "Inbound Rules").
 */
export const CLUSTER_PORTS: ReadonlyArray<{ readonly from: number; readonly to: number; readonly owner: string }> = [
    { from: 80, to: 80, owner: "the NGINX edge (HTTP)" },
    { from: 443, to: 443, owner: "the NGINX edge (HTTPS)" },
    { from: 2379, to: 2381, owner: "etcd" },
    { from: 6443, to: 6443, owner: "the Kubernetes API" },
    { from: 6444, to: 6444, owner: "the K3s API proxy" },
    { from: 8472, to: 8472, owner: "flannel VXLAN" },
    { from: 10010, to: 10010, owner: "containerd streams" },
    { from: 10248, to: 10259, owner: "the kubelet, kube-proxy and the control plane" },
    { from: 30000, to: 32767, owner: "Kubernetes NodePorts" },
    { from: 51820, to: 51821, owner: "flannel WireGuard" },
];

/** The owner of a port SSH may not use, or undefined. */
export function clusterPortOwner(port: number): string | undefined {
    return CLUSTER_PORTS.find((p) => port >= p.from && port <= p.to)?.owner;
}

/** Every problem of the firewall's arguments: the sources are CIDRs, SSH is on a port of its own. */
export function validateFirewallArgs(args: { readonly sshSources?: readonly string[]; readonly apiSources?: readonly string[]; readonly sshPort?: number }): Problems {
    const problems = new Problems();
    for (const name of ["sshSources", "apiSources"] as const) {
        (args[name] ?? []).forEach((cidr, i) => {
            if (typeof cidr !== "string" || !isCidr(cidr)) {
                problems.add(`${name}[${i}]`, cidr, "must be an IPv4 or IPv6 CIDR block", "write it like 203.0.113.0/24 or 2001:db8::/32");
            }
        });
    }
    const port = args.sshPort ?? DEFAULT_SSH_PORT;
    const owner = Number.isInteger(port) ? clusterPortOwner(port) : undefined;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        problems.add("sshPort", port, "must be a whole number from 1 to 65535", "use 22, or the port sshd listens on");
    } else if (owner !== undefined) {
        problems.add("sshPort", port, `is a port of ${owner}: the firewall would open it to the SSH sources, and sshd could not bind it`, "run sshd on 22 or another free port (not 80, 443, 2379-2381, 6443-6444, 8472, 10010, 10248-10259, 30000-32767, 51820-51821)");
    }
    return problems;
}

/**
 * The smallest list of blocks with the same union: host bits cleared, duplicates and blocks
 * inside another dropped. nft refuses overlapping elements in an interval set ("interval
 * overlaps"), so overlapping sources would fail only at deploy time.
 */
export function normalizeCidrs(cidrs: readonly string[]): string[] {
    const blocks = cidrs.map((c) => {
        const [addr, prefix] = c.includes("/") ? ipaddr.parseCIDR(c) : [ipaddr.parse(c), ipaddr.parse(c).kind() === "ipv4" ? 32 : 128];
        const network = addr.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${prefix}`) : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${prefix}`);
        return { addr: network, prefix, text: `${network.toString()}/${prefix}` };
    });
    blocks.sort((a, b) => a.prefix - b.prefix || a.text.localeCompare(b.text));
    const kept: typeof blocks = [];
    for (const b of blocks) {
        if (!kept.some((k) => k.addr.kind() === b.addr.kind() && b.addr.match([k.addr, k.prefix] as [ipaddr.IPv4 & ipaddr.IPv6, number]))) {
            kept.push(b);
        }
    }
    return kept.map((k) => k.text).sort();
}

/** SSH from anywhere, when no allow-list is given. Narrow it in production. */
export const DEFAULT_SSH_SOURCES = ["0.0.0.0/0", "::/0"] as const;

export interface FirewallRulesOptions {
    /** CIDRs allowed to reach SSH. */
    readonly sshSources: readonly string[];
    /** CIDRs allowed to reach the Kubernetes API (6443). */
    readonly apiSources: readonly string[];
    /** The SSH port. */
    readonly sshPort: number;
}

function splitFamilies(cidrs: readonly string[]): { v4: string[]; v6: string[] } {
    const v4 = cidrs.filter((c) => isIPv4(c.split("/")[0])).sort();
    const v6 = cidrs.filter((c) => !isIPv4(c.split("/")[0])).sort();
    return { v4, v6 };
}

function setDecl(name: string, type: "ipv4_addr" | "ipv6_addr", elements: readonly string[]): string {
    const elems = elements.length > 0 ? `\n        elements = { ${elements.join(", ")} }` : "";
    return `    set ${name} {\n        type ${type}\n        flags interval${elems}\n    }`;
}

/**
 * Renders the nftables ruleset. Loading it replaces our table atomically (`table` + `delete table`
 * + definition in one transaction), so there is no moment without rules and established
 * connections (the SSH session applying it) are never cut.
 */
export function renderFirewallRules(opts: FirewallRulesOptions): string {
    for (const cidr of [...opts.sshSources, ...opts.apiSources]) {
        if (!isCidr(cidr)) {
            throw new Error(`firewall: ${JSON.stringify(cidr)} is not a CIDR`);
        }
    }
    const ssh = splitFamilies(normalizeCidrs(opts.sshSources));
    const api = splitFamilies(normalizeCidrs(opts.apiSources));
    return `#!/usr/sbin/nft -f
# Managed by sovereign-faas (pulumi). Loaded by sovereign-faas-firewall.service at boot.
# Only this table is replaced; the tables of K3s, flannel and kube-proxy are left alone.
table inet ${FIREWALL_TABLE}
delete table inet ${FIREWALL_TABLE}
table inet ${FIREWALL_TABLE} {
${setDecl("ssh_v4", "ipv4_addr", ssh.v4)}
${setDecl("ssh_v6", "ipv6_addr", ssh.v6)}
${setDecl("api_v4", "ipv4_addr", api.v4)}
${setDecl("api_v6", "ipv6_addr", api.v6)}

    chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        ct state invalid drop
        iifname "lo" accept
        # ICMP and ICMPv6 by number: protocol names need /etc/protocols, which minimal hosts lack.
        meta l4proto 1 accept
        meta l4proto 58 accept
        # Pods and services talk to the node (DNS, API, metrics) over the cluster networks.
        ip saddr ${K3S_POD_CIDR} accept
        ip saddr ${K3S_SERVICE_CIDR} accept
        iifname { "cni0", "flannel.1" } accept
        tcp dport ${opts.sshPort} ip saddr @ssh_v4 accept
        tcp dport ${opts.sshPort} ip6 saddr @ssh_v6 accept
        tcp dport { ${PUBLIC_TCP_PORTS.join(", ")} } accept
        tcp dport ${K3S_API_PORT} ip saddr @api_v4 accept
        tcp dport ${K3S_API_PORT} ip6 saddr @api_v6 accept
        # Everything else, including 10250 (kubelet), 8472/udp (VXLAN), 2379-2380 (etcd)
        # and the NodePort range, is dropped by the policy.
        counter comment "dropped by sovereign-faas"
    }
}
`;
}

/** The systemd unit that restores the rules at boot. */
export function renderFirewallUnit(): string {
    return `# Managed by sovereign-faas (pulumi).
[Unit]
Description=sovereign-faas host firewall (nftables table inet ${FIREWALL_TABLE})
DefaultDependencies=no
Before=network-pre.target
Wants=network-pre.target
After=local-fs.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f ${FIREWALL_RULES_PATH}
ExecStop=/usr/sbin/nft delete table inet ${FIREWALL_TABLE}

[Install]
WantedBy=multi-user.target
`;
}

export interface FirewallScriptOptions extends FirewallRulesOptions {
    readonly location: Location;
    /**
     * Refuse to apply when the SSH client is not in `apiSources`: the machine running `pulumi up`
     * reaches the Kubernetes API directly, and would time out on every cluster resource.
     * @default false
     */
    readonly requireClientApiAccess?: boolean;
}

/**
 * Shell functions: the address of the SSH client running the script, and whether an IPv4 or
 * IPv6 address lies in a CIDR. Used to refuse rules that would lock the runner out.
 *
 * Under `sudo`, env_reset strips SSH_CLIENT (sudoers(5), env_reset), so the address is read from
 * the nearest ancestor process that still has it: sudo itself runs with the caller's environment.
 */
export const CLIENT_ADDRESS_FUNCTIONS = `ssh_client_address() {
  local pid="$$" client="\${SSH_CLIENT:-}"
  client="\${client%% *}"
  while [ -z "$client" ] && [ "$pid" -gt 1 ]; do
    pid="$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
    pid="\${pid:-1}"
    [ -r "/proc/$pid/environ" ] || continue
    client="$(tr '\\0' '\\n' < "/proc/$pid/environ" | sed -n 's/^SSH_CLIENT=\\([^ ]*\\) .*/\\1/p' | head -n 1)"
  done
  # An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
  case "$client" in ::ffff:*.*) client="\${client#::ffff:}" ;; esac
  printf '%s' "$client"
}
ip4_to_int() { local IFS=.; read -r a b c d <<< "$1"; printf '%s' $(( (a << 24) + (b << 16) + (c << 8) + d )); }
ip4_in_cidr() {
  local ip="$1" net="\${2%/*}" bits="\${2#*/}" mask
  [ "$bits" = "$2" ] && bits=32
  mask=$(( bits == 0 ? 0 : (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF ))
  [ $(( $(ip4_to_int "$ip") & mask )) -eq $(( $(ip4_to_int "$net") & mask )) ]
}
# An IPv6 address as 32 hex digits ("::" expanded, an IPv4 tail converted); fails when malformed.
ip6_hex() {
  local addr="\${1%%%*}" head tail out="" g i n v4 a b c d
  local -a hg=() tg=()
  if [[ "$addr" == *.* ]]; then
    v4="\${addr##*:}"
    IFS=. read -r a b c d <<< "$v4"
    addr="\${addr%:*}:$(printf '%x' $(( (a << 8) + b ))):$(printf '%x' $(( (c << 8) + d )))"
  fi
  if [[ "$addr" == *::* ]]; then head="\${addr%%::*}"; tail="\${addr#*::}"; else head="$addr"; tail=""; fi
  if [ -n "$head" ]; then IFS=: read -r -a hg <<< "$head"; fi
  if [ -n "$tail" ]; then IFS=: read -r -a tg <<< "$tail"; fi
  n=$(( 8 - \${#hg[@]} - \${#tg[@]} ))
  if [[ "$addr" != *::* ]] && [ "$n" -ne 0 ]; then return 1; fi
  [ "$n" -ge 0 ] || return 1
  for g in "\${hg[@]}" ; do [[ "$g" =~ ^[0-9A-Fa-f]{1,4}$ ]] || return 1; out+="$(printf '%04x' "0x$g")"; done
  for (( i = 0; i < n; i++ )); do out+="0000"; done
  for g in "\${tg[@]}" ; do [[ "$g" =~ ^[0-9A-Fa-f]{1,4}$ ]] || return 1; out+="$(printf '%04x' "0x$g")"; done
  [ "\${#out}" -eq 32 ] || return 1
  printf '%s' "$out"
}
ip6_in_cidr() {
  local ip net bits nibbles rem mask
  ip="$(ip6_hex "$1")" || return 1
  net="$(ip6_hex "\${2%/*}")" || return 1
  bits="\${2#*/}"
  [ "$bits" = "$2" ] && bits=128
  nibbles=$(( bits / 4 ))
  rem=$(( bits % 4 ))
  [ "\${ip:0:nibbles}" = "\${net:0:nibbles}" ] || return 1
  [ "$rem" -eq 0 ] && return 0
  mask=$(( (0xF << (4 - rem)) & 0xF ))
  [ $(( 0x\${ip:nibbles:1} & mask )) -eq $(( 0x\${net:nibbles:1} & mask )) ]
}
# in_sources ADDRESS CIDR...: whether the address lies in one of the CIDRs of its family.
in_sources() {
  local ip="$1" cidr
  shift
  for cidr in "$@"; do
    if [[ "$ip" == *:* ]]; then
      if [[ "$cidr" == *:* ]] && ip6_in_cidr "$ip" "$cidr"; then return 0; fi
    elif [[ "$cidr" != *:* ]] && ip4_in_cidr "$ip" "$cidr"; then
      return 0
    fi
  done
  return 1
}`;

/**
 * Renders the firewall script. It refuses to apply rules that would lock out the SSH client
 * running it, validates the ruleset with `nft -c` first, loads it atomically, and enables the
 * boot unit. Unchanged rules are not reloaded.
 */
export function renderFirewallScript(opts: FirewallScriptOptions): string {
    const rules = renderFirewallRules(opts);
    const body = `${INSTALL_FILE_FUNCTION}
${CLIENT_ADDRESS_FUNCTIONS}

if ! command -v nft >/dev/null 2>&1; then
  log "installing nftables"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables </dev/null >/dev/null || fail "cannot install nftables; install it by hand (apt-get install nftables)"
  changed "installed nftables"
fi
if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q "Status: active"; then
  log "warning: ufw is active too; its rules also apply (both must accept a packet)"
fi

# Never lock out the session that applies the rules: the SSH client must be in sshSources, and
# (pulumi up reaches the Kubernetes API from the same machine) in apiSources.
ssh_sources=(${[...opts.sshSources].sort().map(shellQuote).join(" ")})
${opts.requireClientApiAccess === true ? `api_sources=(${[...opts.apiSources].sort().map(shellQuote).join(" ")})\n` : ""}client_ip="$(ssh_client_address)"
if [ -z "$client_ip" ]; then
  log "warning: the SSH client's address is not known here, so the lock-out guard cannot check it"
else
  host_prefix=32
  [[ "$client_ip" == *:* ]] && host_prefix=128
  in_sources "$client_ip" "\${ssh_sources[@]}" || fail "refusing to apply: this SSH client ($client_ip) is not in sovereign-faas:firewall.sshSources, so the next connection would be locked out. Add $client_ip/$host_prefix to sshSources"
${opts.requireClientApiAccess === true ? `  in_sources "$client_ip" "\${api_sources[@]}" || fail "refusing to apply: this SSH client ($client_ip) is not in sovereign-faas:firewall.apiSources, so pulumi up on this machine could not reach the Kubernetes API on ${K3S_API_PORT}. Add $client_ip/$host_prefix to apiSources"\n` : ""}fi

mkdir -p ${FIREWALL_RULES_PATH.slice(0, FIREWALL_RULES_PATH.lastIndexOf("/"))}
candidate="$(mktemp)"
trap 'rm -f "$candidate"' EXIT
cat > "$candidate" ${heredoc(rules, "FILE")}
nft -c -f "$candidate" || fail "nftables rejected the generated ruleset (see above); nothing was changed"

loaded=0
nft list table inet ${FIREWALL_TABLE} >/dev/null 2>&1 && loaded=1
if install_file ${FIREWALL_RULES_PATH} 600 < "$candidate" || [ "$loaded" -eq 0 ]; then
  nft -f ${FIREWALL_RULES_PATH} || fail "loading ${FIREWALL_RULES_PATH} failed; the previous rules stay in force"
  changed "firewall rules loaded (table inet ${FIREWALL_TABLE})"
fi

if install_file ${FIREWALL_UNIT_PATH} 644 ${heredoc(renderFirewallUnit(), "FILE")}
then
  systemctl daemon-reload
fi
if [ "$(systemctl is-enabled sovereign-faas-firewall.service 2>/dev/null || true)" != "enabled" ]; then
  systemctl enable sovereign-faas-firewall.service >/dev/null 2>&1
  changed "enabled sovereign-faas-firewall.service"
fi
if ! systemctl is-active --quiet sovereign-faas-firewall.service; then
  # Starting it loads the same file again; the table is replaced atomically.
  systemctl start sovereign-faas-firewall.service
fi`;
    return renderScript({ step: "firewall", location: opts.location, body });
}

export interface FirewallArgs {
    readonly connection: Connection;
    /** SSH user; scripts run through sudo when it is not root. */
    readonly user: string;
    readonly location: Location;
    /**
     * CIDRs allowed to reach SSH.
     * @default ["0.0.0.0/0", "::/0"] (DEFAULT_SSH_SOURCES)
     */
    readonly sshSources?: readonly string[];
    /**
     * CIDRs allowed to reach the Kubernetes API on 6443. The machine running `pulumi up` needs it.
     * @default [] (the API is closed to the world)
     */
    readonly apiSources?: readonly string[];
    /**
     * The SSH port to open.
     * @default 22 (DEFAULT_SSH_PORT)
     */
    readonly sshPort?: number;
    /**
     * Refuse to apply when the SSH client is not in `apiSources`: the machine that runs
     * `pulumi up` reaches the Kubernetes API on 6443 directly. Turn it on when this stack also
     * manages objects in the cluster.
     * @default false
     */
    readonly requireClientApiAccess?: boolean;
}

/**
 * The host firewall, as an nftables table of its own: default deny incoming; SSH from
 * `sshSources`; 80/443 from anywhere; 6443 from `apiSources`; kubelet, VXLAN, etcd and
 * NodePorts never from the world.
 *
 * Why nftables and not ufw: one file loaded in one atomic transaction (no window without rules,
 * no reset that drops the SSH session), an exact ruleset we can compare and test, and a table of
 * our own that coexists with the iptables-nft rules K3s writes.
 */
export class Firewall extends pulumi.ComponentResource {
    /** The rendered ruleset. */
    readonly rules: string;
    /** The command, for `dependsOn`. */
    readonly command: command.remote.Command;

    constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        validateFirewallArgs(args).throwIfAny(`Firewall ${name}: invalid arguments`);
        super("sovereign-faas:host:Firewall", name, {}, opts);
        const rulesOptions: FirewallScriptOptions = {
            location: args.location,
            sshSources: args.sshSources ?? DEFAULT_SSH_SOURCES,
            apiSources: args.apiSources ?? [],
            sshPort: args.sshPort ?? DEFAULT_SSH_PORT,
            requireClientApiAccess: args.requireClientApiAccess ?? false,
        };
        this.rules = renderFirewallRules(rulesOptions);
        const script = renderFirewallScript(rulesOptions);
        this.command = remoteStep(`${name}-apply`, { connection: args.connection, user: args.user, step: "firewall", script }, childOptions(this, opts));
        this.registerOutputs({ rules: this.rules });
    }
}
