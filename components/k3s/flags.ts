/**
 * What `k3s.extraArgs` may put into K3s's config.yaml. K3s turns every config.yaml key into a
 * flag (pkg/configfilearg/parser.go: a key `k` becomes `--k`, a one-letter key `-k`, `k+`
 * appends to a list, unknown keys are skipped with a warning), so a key is exactly a flag of
 * `k3s server`. The flag set is K3s's own (pkg/cli/cmds/server.go and agent.go of the v1.33
 * line, urfave/cli v2): only those names are accepted, by their full name, never an alias (`d`,
 * `t`, `s`, `o`, `i`, `c`, `l`) and never the `key+` form, because either would slip past the
 * checks below. Pure: every function returns problems, none throws.
 */
import { isRecord, Problem } from "../shared/validation";

/** How a flag's value is typed (urfave/cli: String, Bool, Int, Duration, StringSlice). */
export type K3sFlagType = "string" | "bool" | "int" | "duration" | "list";

/** Every `k3s server` flag of the pinned line, with its type (hidden flags included: K3s accepts them). */
export const K3S_SERVER_FLAGS: Readonly<Record<string, K3sFlagType>> = Object.freeze({
    config: "string", debug: "bool", v: "int", vmodule: "string", log: "string", alsologtostderr: "bool",
    "bind-address": "string", "https-listen-port": "int", "supervisor-port": "int", "apiserver-port": "int",
    "apiserver-bind-address": "string", "advertise-address": "string", "advertise-port": "int", "tls-san": "list",
    "tls-san-security": "bool", "data-dir": "string", "cluster-cidr": "list", "service-cidr": "list",
    "service-node-port-range": "string", "cluster-dns": "list", "cluster-domain": "string", "flannel-backend": "string",
    "flannel-ipv6-masq": "bool", "flannel-external-ip": "bool", "egress-selector-mode": "string", "servicelb-namespace": "string",
    "write-kubeconfig": "string", "write-kubeconfig-mode": "string", "write-kubeconfig-group": "string", "helm-job-image": "string",
    token: "string", "token-file": "string", "agent-token": "string", "agent-token-file": "string", server: "string",
    "cluster-init": "bool", "cluster-reset": "bool", "cluster-reset-restore-path": "string", "kube-apiserver-arg": "list",
    "etcd-arg": "list", "kube-controller-manager-arg": "list", "kube-scheduler-arg": "list", "kube-cloud-controller-manager-arg": "list",
    "kine-tls": "bool", "datastore-endpoint": "string", "datastore-cafile": "string", "datastore-certfile": "string",
    "datastore-keyfile": "string", "etcd-expose-metrics": "bool", "etcd-disable-snapshots": "bool", "etcd-snapshot-name": "string",
    "etcd-snapshot-schedule-cron": "string", "etcd-snapshot-reconcile-interval": "duration", "etcd-snapshot-retention": "int",
    "etcd-snapshot-dir": "string", "etcd-snapshot-compress": "bool", "etcd-s3": "bool", "etcd-s3-endpoint": "string",
    "etcd-s3-endpoint-ca": "string", "etcd-s3-skip-ssl-verify": "bool", "etcd-s3-access-key": "string", "etcd-s3-secret-key": "string",
    "etcd-s3-session-token": "string", "etcd-s3-bucket": "string", "etcd-s3-bucket-lookup-type": "string", "etcd-s3-region": "string",
    "etcd-s3-folder": "string", "etcd-s3-retention": "int", "etcd-s3-proxy": "string", "etcd-s3-config-secret": "string",
    "etcd-s3-insecure": "bool", "etcd-s3-timeout": "duration", "default-local-storage-path": "string", disable: "list",
    "disable-scheduler": "bool", "disable-cloud-controller": "bool", "disable-kube-proxy": "bool", "disable-network-policy": "bool",
    "disable-helm-controller": "bool", "disable-apiserver": "bool", "disable-controller-manager": "bool", "disable-etcd": "bool",
    "embedded-registry": "bool", "supervisor-metrics": "bool", "node-name": "string", "with-node-id": "bool", "node-label": "list",
    "node-taint": "list", "image-credential-provider-bin-dir": "string", "image-credential-provider-config": "string", docker: "bool",
    "container-runtime-endpoint": "string", "default-runtime": "string", "image-service-endpoint": "string",
    "disable-default-registry-endpoint": "bool", "nonroot-devices": "bool", "pause-image": "string", snapshotter: "string",
    "private-registry": "string", "system-default-registry": "string", "airgap-extra-registry": "list", "node-ip": "list",
    "node-external-ip": "list", "node-internal-dns": "list", "node-external-dns": "list", "resolv-conf": "string",
    "flannel-iface": "string", "flannel-conf": "string", "flannel-cni-conf": "string", "vpn-auth": "string", "vpn-auth-file": "string",
    "kubelet-arg": "list", "kube-proxy-arg": "list", "protect-kernel-defaults": "bool", "secrets-encryption": "bool",
    "enable-pprof": "bool", rootless: "bool", "secrets-encryption-provider": "string", "prefer-bundled-bin": "bool", selinux: "bool",
    "lb-server-port": "int", "disable-agent": "bool", "kube-controller-arg": "list", "kube-cloud-controller-arg": "list",
});

/** One-letter aliases and hidden aliases, with the flag they stand for. */
export const K3S_FLAG_ALIASES: Readonly<Record<string, string>> = {
    c: "config", l: "log", d: "data-dir", t: "token", s: "server", o: "write-kubeconfig", i: "node-ip",
    "kube-controller-arg": "kube-controller-manager-arg", "kube-cloud-controller-arg": "kube-cloud-controller-manager-arg",
};

/** The config keys sovereign-faas sets itself (security and location); extraArgs may not set them. */
export const MANAGED_K3S_KEYS = ["disable", "node-label", "protect-kernel-defaults", "secrets-encryption", "tls-san", "write-kubeconfig-mode"] as const;

/** Flags whose values are credentials: accepted only as secure config values, written to a 0600 drop-in from stdin. */
export const SECRET_K3S_FLAGS = ["token", "agent-token", "etcd-s3-access-key", "etcd-s3-secret-key", "etcd-s3-session-token"] as const;

/**
 * Flags the platform cannot run with, and why. Each either switches off something the platform
 * relies on, moves the cluster's state or control plane where the stack does not manage it, or
 * breaks a step that reads a fixed path or port.
 */
export const REFUSED_K3S_FLAGS: Readonly<Record<string, string>> = {
    config: "sovereign-faas writes /etc/rancher/k3s/config.yaml itself",
    "data-dir": "moves the cluster state away from /var/lib/rancher/k3s, where the install, kubeconfig, backup and uninstall steps look for it",
    server: "joins the control plane of another server: the cluster state would live there, outside this stack and its location checks",
    "cluster-reset": "forgets the cluster's peers or restores a snapshot on every start: run it by hand (docs.k3s.io/datastore/backup-restore), never from config",
    "cluster-reset-restore-path": "restores an etcd snapshot on every start: run it by hand, never from config",
    "disable-network-policy": "switches off K3s's network-policy controller: every NetworkPolicy of the platform would be ignored in silence (pkg/agent/run.go: DisableNPC)",
    "disable-kube-proxy": "switches off Services: the gateway could not reach functions or NATS",
    "disable-cloud-controller": "switches off the embedded cloud controller, which initialises the node's addresses (nodes stay tainted uninitialized without another one)",
    "disable-scheduler": "no pod would ever be scheduled",
    "disable-apiserver": "removes the Kubernetes API the platform is deployed through",
    "disable-controller-manager": "removes the controllers Deployments and namespaces need",
    "disable-etcd": "removes the datastore of an etcd cluster",
    "disable-agent": "runs no kubelet: no workload would run on the node",
    "write-kubeconfig": "moves the admin kubeconfig, which the kubeconfig step reads from /etc/rancher/k3s/k3s.yaml",
    "write-kubeconfig-group": "hands the cluster-admin kubeconfig to a group of local users",
    "https-listen-port": "moves the API from 6443, which the firewall opens and the kubeconfig names",
    "supervisor-port": "moves the supervisor from 6443, which the firewall opens",
    "apiserver-port": "moves the API server behind the supervisor: the firewall and the kubeconfig name 6443",
    "lb-server-port": "moves the agent's load balancer from 6444, which the firewall reserves",
    rootless: "rootless K3s has no host networking for the edge's host ports and no cgroup limits the platform relies on",
    docker: "needs Docker, which sovereign-faas does not install; K3s runs containerd itself",
    "vpn-auth": "routes the cluster network through a VPN provider's coordination service, outside this stack's location checks",
    "vpn-auth-file": "routes the cluster network through a VPN provider's coordination service, outside this stack's location checks",
    "kine-tls": "is a hidden flag for an external kine; set datastore-endpoint with its CA, certificate and key instead",
};

/**
 * Values of otherwise accepted flags that weaken the platform: flag -> [refused values, why].
 * A boolean given as text ("true") counts as the boolean.
 */
export const REFUSED_K3S_VALUES: Readonly<Record<string, { readonly values: readonly (string | boolean)[]; readonly why: string }>> = {
    "flannel-backend": { values: ["none"], why: "leaves the cluster without the CNI whose network policies the platform relies on" },
    "tls-san-security": { values: [false], why: "lets any client add names to the API server's certificate (the default true refuses them)" },
    "etcd-s3-skip-ssl-verify": { values: [true], why: "sends the cluster's snapshots without verifying the server's certificate" },
    "etcd-s3-insecure": { values: [true], why: "sends the cluster's snapshots over plain HTTP" },
    "egress-selector-mode": { values: ["disabled"], why: "lets the API server dial pods and nodes directly, past the agent tunnel" },
};

/** The accepted values of enumerated flags. */
const ENUM_VALUES: Readonly<Record<string, readonly string[]>> = {
    "flannel-backend": ["vxlan", "host-gw", "wireguard-native", "none"],
    "secrets-encryption-provider": ["aescbc", "secretbox"],
    "egress-selector-mode": ["agent", "cluster", "pod", "disabled"],
    "etcd-s3-bucket-lookup-type": ["auto", "dns", "path"],
};

/** The pass-through flags: each item `name=value` goes to a Kubernetes component's own flags. */
export const PASS_THROUGH_FLAGS = ["kube-apiserver-arg", "etcd-arg", "kube-controller-manager-arg", "kube-scheduler-arg", "kube-cloud-controller-manager-arg", "kubelet-arg", "kube-proxy-arg"] as const;

/**
 * Pass-through items that reach what sovereign-faas manages, switch off authentication or
 * authorisation, move state, or send data to endpoints of their own. Keyed by the component's
 * flag name (leading dashes removed); a value test is optional.
 */
const REFUSED_PASS_THROUGH: Readonly<Record<string, Readonly<Record<string, { readonly why: string; readonly when?: (value: string) => boolean }>>>> = {
    "kube-apiserver-arg": {
        "anonymous-auth": { why: "lets unauthenticated requests in", when: (v) => v !== "false" },
        "authorization-mode": { why: "replaces Node,RBAC authorisation", when: (v) => !/^(Node,RBAC|RBAC,Node)$/.test(v) },
        "etcd-servers": { why: "points the API server at another datastore, past datastore-endpoint and its location check: use datastore-endpoint" },
        "etcd-prefix": { why: "moves the cluster's keys in the datastore" },
        "encryption-provider-config": { why: "replaces the secrets encryption sovereign-faas turns on (secrets-encryption)" },
        "disable-admission-plugins": { why: "switches off admission plugins such as PodSecurity and NodeRestriction" },
        "admission-control-config-file": { why: "replaces K3s's admission configuration, which carries Pod Security" },
        "enable-admission-plugins": { why: "replaces the admission plugins K3s enables: add a plugin through admission configuration instead" },
        "token-auth-file": { why: "accepts static bearer tokens from a file" },
        "authentication-token-webhook-config-file": { why: "sends every bearer token to a webhook of its own" },
        "authorization-webhook-config-file": { why: "asks a webhook of its own to authorise requests" },
        "audit-webhook-config-file": { why: "sends the API audit log, with request bodies, to a webhook of its own" },
        "oidc-issuer-url": { why: "trusts an external identity provider for cluster access" },
        "authentication-config": { why: "replaces the API server's authentication" },
        "authorization-config": { why: "replaces the API server's authorisation" },
        "service-account-issuer": { why: "replaces the service account token issuer" },
        "insecure-port": { why: "opens an unauthenticated API port" },
        "kubelet-certificate-authority": { why: "replaces how the API server verifies kubelets" },
        "profiling": { why: "exposes profiling data", when: (v) => v !== "false" },
    },
    "kubelet-arg": {
        "node-labels": { why: "sets node labels past node-label, which carries the jurisdiction and region sovereign-faas manages" },
        "anonymous-auth": { why: "lets unauthenticated requests reach the kubelet", when: (v) => v !== "false" },
        "authorization-mode": { why: "replaces Webhook authorisation of the kubelet", when: (v) => v !== "Webhook" },
        "read-only-port": { why: "opens the kubelet's unauthenticated read-only port", when: (v) => v !== "0" },
        "protect-kernel-defaults": { why: "switches off protect-kernel-defaults, which sovereign-faas manages", when: (v) => v !== "true" },
        "root-dir": { why: "moves the kubelet's data, with every pod volume" },
        "hostname-override": { why: "renames the node: use node-name" },
        "register-node": { why: "stops the node from registering", when: (v) => v !== "true" },
        "kubeconfig": { why: "points the kubelet at another API server" },
        "config": { why: "replaces the kubelet configuration K3s writes" },
    },
    "kube-proxy-arg": {
        "kubeconfig": { why: "points kube-proxy at another API server" },
        "metrics-bind-address": { why: "exposes kube-proxy metrics beyond the node", when: (v) => !/^(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?$/.test(v) },
    },
    "kube-controller-manager-arg": {
        "kubeconfig": { why: "points the controller manager at another API server" },
        "controllers": { why: "switches controllers off or on past K3s's set" },
    },
    "kube-scheduler-arg": {
        "kubeconfig": { why: "points the scheduler at another API server" },
    },
    "kube-cloud-controller-manager-arg": {
        "kubeconfig": { why: "points the cloud controller at another API server" },
    },
    "etcd-arg": {
        "listen-client-urls": { why: "opens etcd's client port beyond the node" },
        "initial-cluster": { why: "joins etcd members of its own" },
        "data-dir": { why: "moves etcd's data" },
    },
};

/** A value as config.yaml holds it. */
export type K3sArgValue = string | number | boolean | readonly string[];

const asBool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : v === "true" ? true : v === "false" ? false : undefined);

/** Why a value does not fit the flag's type, or undefined. */
function typeProblem(type: K3sFlagType, v: unknown): string | undefined {
    switch (type) {
        case "bool":
            return asBool(v) === undefined ? "must be true or false" : undefined;
        case "int":
            return (typeof v === "number" && Number.isInteger(v)) || (typeof v === "string" && /^-?\d{1,9}$/.test(v)) ? undefined : "must be a whole number";
        case "duration":
            return typeof v === "string" && /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v) ? undefined : 'must be a Go duration such as "10m" or "1h30m"';
        case "list":
            return (Array.isArray(v) && v.every((x) => typeof x === "string")) || typeof v === "string" ? undefined : "must be a text or a list of texts";
        case "string":
            return typeof v === "string" || typeof v === "number" ? undefined : "must be a text";
    }
}

const hasControl = (s: string): boolean => /[\u0000-\u001f\u007f]/.test(s);

/**
 * Every problem of a set of extraArgs: `key` names the config key for messages (e.g.
 * `sovereign-faas:k3s.extraArgs`); `secret` lists the keys whose values are secure config values.
 * Plain values are shown in messages; secret ones never.
 */
export function k3sArgsProblems(args: Readonly<Record<string, unknown>>, key: string, secret: ReadonlySet<string> = new Set()): Problem[] {
    const problems: Problem[] = [];
    const add = (k: string, value: unknown, rule: string, fix: string): void => {
        problems.push({ key: `${key}.${k}`, value: secret.has(k) ? "[secret]" : value, rule, fix });
    };
    for (const [k, v] of Object.entries(args)) {
        if (k.endsWith("+")) {
            add(k, v, "the `key+` form appends to K3s's own list past the checks sovereign-faas makes", `write the flag's name, ${k.slice(0, -1)}, with the whole list`);
            continue;
        }
        if (K3S_FLAG_ALIASES[k] !== undefined) {
            add(k, v, `is an alias of ${K3S_FLAG_ALIASES[k]}; aliases are not accepted`, `write the full name, ${K3S_FLAG_ALIASES[k]}`);
            continue;
        }
        const name = k.replace(/^--?/, "");
        if (name !== k) {
            add(k, v, "config.yaml keys have no dashes", `write ${name}`);
            continue;
        }
        const type = K3S_SERVER_FLAGS[name];
        if (type === undefined || !Object.prototype.hasOwnProperty.call(K3S_SERVER_FLAGS, name)) {
            add(k, v, "is not a flag of k3s server (K3s would skip it with only a warning in its log)", "use a flag from `k3s server --help` of the pinned version, by its full name");
            continue;
        }
        if ((MANAGED_K3S_KEYS as readonly string[]).includes(name)) {
            add(k, v, `${name} is managed by sovereign-faas (security and location settings)`, "remove it; see the K3s section of the README for what is set");
            continue;
        }
        if (Object.prototype.hasOwnProperty.call(REFUSED_K3S_FLAGS, name)) {
            add(k, v, `is refused: it ${REFUSED_K3S_FLAGS[name]}`, "remove it");
            continue;
        }
        if ((SECRET_K3S_FLAGS as readonly string[]).includes(name) && !secret.has(k)) {
            problems.push({ key: `${key}.${k}`, value: "[not shown: a credential]", rule: "is a credential and must be a secure value: in plain config it would be written into the install script and the state", fix: `pulumi config set --secret --path '${key}.${k}' <value>` });
            continue;
        }
        if (v === undefined) {
            // A value not known yet (a secret Output): its name was checked, its value is checked where it is known.
            continue;
        }
        const tp = typeProblem(type, v);
        if (tp !== undefined) {
            add(k, v, tp, `write it as K3s config.yaml expects a ${type}`);
            continue;
        }
        const items = (Array.isArray(v) ? v : [v]).map((x) => String(x));
        if (items.some(hasControl)) {
            add(k, v, "holds a control character (a newline, NUL or escape)", "write one value per list item, without control characters");
            continue;
        }
        const refusedValue = Object.prototype.hasOwnProperty.call(REFUSED_K3S_VALUES, name) ? REFUSED_K3S_VALUES[name] : undefined;
        if (refusedValue !== undefined) {
            const given = typeof refusedValue.values[0] === "boolean" ? asBool(v) : String(v);
            if (refusedValue.values.includes(given as string | boolean)) {
                add(k, v, `${name}: ${String(v)} is refused: it ${refusedValue.why}`, "remove it or choose another value");
                continue;
            }
        }
        const allowed = Object.prototype.hasOwnProperty.call(ENUM_VALUES, name) ? ENUM_VALUES[name] : undefined;
        if (allowed !== undefined && !allowed.includes(String(v))) {
            add(k, v, `must be one of ${allowed.join(", ")}`, "use one of them");
            continue;
        }
        if ((PASS_THROUGH_FLAGS as readonly string[]).includes(name)) {
            for (const [i, item] of items.entries()) {
                const m = /^-{0,2}([A-Za-z0-9][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(item);
                if (m === null) {
                    add(`${k}[${i}]`, item, "must be `flag=value` (the component's flag name, then =, then its value)", "e.g. kube-apiserver-arg: [\"audit-log-maxage=30\"]");
                    continue;
                }
                const table = REFUSED_PASS_THROUGH[name] ?? {};
                const refused = Object.prototype.hasOwnProperty.call(table, m[1]) ? table[m[1]] : undefined;
                if (refused !== undefined && (refused.when === undefined || refused.when(m[2] ?? "true"))) {
                    add(`${k}[${i}]`, item, `is refused: ${m[1]} ${refused.why}`, "remove it");
                }
            }
        }
    }
    return problems;
}

/** Whether a value is a plain map of extraArgs. */
export function isK3sArgs(v: unknown): v is Record<string, K3sArgValue> {
    return isRecord(v);
}

/** Where the secret flags go: a drop-in K3s reads after config.yaml (parser.go dotDFiles: `<config>.d/*.yaml`), mode 0600. */
export const K3S_SECRET_DROPIN_PATH = "/etc/rancher/k3s/config.yaml.d/90-sovereign-faas-secret.yaml";
