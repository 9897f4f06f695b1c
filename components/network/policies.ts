/**
 * Network policies: data stays in the jurisdiction at run time too. Plain Kubernetes
 * NetworkPolicy (networking.k8s.io/v1), so they hold on any cluster; K3s enforces them with its
 * embedded kube-router network-policy controller.
 *
 * Every namespace the platform runs workloads in gets a default deny of both directions; each
 * component then gets what it really needs, with the reason in the policy's
 * `sovereign-faas.io/why` annotation. What we verified in the sources (kube-router v2.5.0 and
 * v2.6.3-k3s1 pkg/controllers/netpol; OpenFaaS chart 15.0.6 templates; faas-netes 0.18.17;
 * nats-queue-worker 0.14.2; NGINX Ingress Controller 5.5.4; cert-manager v1.21.1):
 *
 * - kube-router filters after kube-proxy's DNAT, so a pod's call to the `kubernetes` Service is
 *   judged as a call to the API server's advertise address on 6443, not to 10.43.0.1:443: the
 *   policies allow `<node address>/32` TCP 6443.
 * - DNS is judged the same way: CoreDNS pods (`k8s-app: kube-dns` in kube-system) on 53 UDP/TCP.
 * - Traffic from the node itself (kubelet probes, host processes, the API server calling a
 *   webhook) is always allowed into pods; hostNetwork pods are not subject to policies. On one
 *   node, host processes are therefore not limited by these policies: the host firewall is.
 * - ipBlock rules with named ports produce nothing in kube-router: every port here is a number.
 * - kube-router expands `::/0` to 2000::/3 and fd00::/8 only; we never write `/0`.
 * - Only the `app` label is on OpenFaaS pods (the chart's pod templates), `faas_function` on
 *   functions (faas-netes deploy.go).
 */
import * as ipaddr from "ipaddr.js";

import { FUNCTION_PORT } from "../functions/manifests";
import { FUNCTION_NAMESPACE, OPENFAAS_NAMESPACE } from "../shared/edition";
import { Location, locationLabels } from "../shared/labels";
import { isRecord, Problem } from "../shared/validation";

export const NETWORK_POLICY_API = "networking.k8s.io/v1";
/** Why a policy allows what it allows (one sentence, for operators and the report). */
export const WHY_ANNOTATION = "sovereign-faas.io/why";
/**
 * A policy that must reach the internet by name (no IP ranges exist to allow): the exception's
 * name, one of EGRESS_EXCEPTIONS. The policy pack accepts only those, in their exact shape, and
 * the sovereignty report names each.
 */
export const EXCEPTION_ANNOTATION = "sovereign-faas.io/egress-exception";
/** A function's declared destinations, in its stack.yml annotations (see parseEgressAnnotation). */
export const EGRESS_ANNOTATION = "sovereign-faas.io/egress";

export const KUBE_SYSTEM = "kube-system";
export const API_SERVER_PORT = 6443;
export const GATEWAY_PORT = 8080;
export const GATEWAY_METRICS_PORT = 8082;
export const NATS_PORT = 4222;
export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;
export const QUEUE_WORKER_METRICS_PORT = 8081;
export const ACME_SOLVER_PORT = 8089;
export const CERT_MANAGER_WEBHOOK_PORT = 10250;

/**
 * Every IPv4 and IPv6 address outside special-purpose space, as blocks with the private,
 * shared, loopback and link-local ranges excepted: "the internet", for the two exceptions
 * below. Spelled out because kube-router's `::/0` covers only 2000::/3 and fd00::/8.
 */
export const INTERNET_BLOCKS: ReadonlyArray<{ cidr: string; except?: string[] }> = [
    { cidr: "0.0.0.0/1", except: ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8"] },
    { cidr: "128.0.0.0/1", except: ["169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/3"] },
    { cidr: "2000::/3" },
];

export interface EgressException {
    readonly namespace: string;
    readonly podSelector: Record<string, unknown>;
    readonly ports: readonly number[];
    readonly why: string;
}

/**
 * The only destinations the platform reaches by name, abroad, with the reason. The pack accepts
 * a policy that opens the internet only when it carries one of these names and exactly its
 * namespace, pods and ports.
 */
export const EGRESS_EXCEPTIONS: Readonly<Record<string, EgressException>> = {
    acme: {
        namespace: "cert-manager",
        podSelector: { matchLabels: { "app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller" } },
        ports: [80, 443],
        why: "tls.mode acme: cert-manager's controller calls Let's Encrypt's ACME API (acme-v02.api.letsencrypt.org:443, which publishes no IP ranges) and runs the HTTP-01 self-check against the domain on 80 and 443",
    },
    "openfaas-ce-connectivity": {
        namespace: OPENFAAS_NAMESPACE,
        podSelector: { matchLabels: { app: "gateway" } },
        ports: [443],
        why: "OpenFaaS CE: faas-netes checks https://checkip.amazonaws.com at start and exits when it cannot reach it (faas-netes connectivity.go); OpenFaaS Pro has no such check",
    },
};

/** One external destination: an IP range and the ports a function or component may reach there. */
export interface EgressDestination {
    readonly cidr: string;
    readonly ports: readonly number[];
    /** @default "TCP" */
    readonly protocol?: "TCP" | "UDP";
    /** Why, for the report. */
    readonly description?: string;
}

type Peer = Record<string, unknown>;
type Rule = { readonly to?: Peer[]; readonly from?: Peer[]; readonly ports?: Array<{ protocol: string; port: number }> };

const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));
const inNamespace = (name: string): Peer => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
const pods = (namespace: string, labels: Record<string, string>): Peer => ({ ...inNamespace(namespace), podSelector: { matchLabels: labels } });
const app = (namespace: string, name: string): Peer => pods(namespace, { app: name });
const FUNCTIONS: Peer = { ...inNamespace(FUNCTION_NAMESPACE), podSelector: { matchExpressions: [{ key: "faas_function", operator: "Exists" }] } };
const DNS: Rule = { to: [pods(KUBE_SYSTEM, { "k8s-app": "kube-dns" })], ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] };

function apiServer(nodeAddress: string): Rule {
    return { to: [{ ipBlock: { cidr: hostCidr(nodeAddress) } }], ports: tcp(API_SERVER_PORT) };
}

function hostCidr(address: string): string {
    return address.includes(":") ? `${address}/128` : `${address}/32`;
}

function destinationRule(d: EgressDestination): Rule {
    return { to: [{ ipBlock: { cidr: d.cidr } }], ports: d.ports.map((port) => ({ protocol: d.protocol ?? "TCP", port })) };
}

function internetRule(ports: readonly number[]): Rule {
    return { to: INTERNET_BLOCKS.map((b) => ({ ipBlock: { ...b, ...(b.except ? { except: [...b.except] } : {}) } })), ports: tcp(...ports) };
}

/** A NetworkPolicy object. */
export function networkPolicy(
    name: string,
    namespace: string,
    podSelector: Record<string, unknown>,
    rules: { ingress?: Rule[]; egress?: Rule[] },
    why: string,
    location: Location,
    exception?: string,
): Record<string, unknown> {
    const policyTypes = [...(rules.ingress !== undefined ? ["Ingress"] : []), ...(rules.egress !== undefined ? ["Egress"] : [])];
    return {
        apiVersion: NETWORK_POLICY_API,
        kind: "NetworkPolicy",
        metadata: {
            name,
            namespace,
            labels: locationLabels(location),
            annotations: { [WHY_ANNOTATION]: why, ...(exception !== undefined ? { [EXCEPTION_ANNOTATION]: exception } : {}) },
        },
        spec: {
            podSelector,
            policyTypes,
            ...(rules.ingress !== undefined && rules.ingress.length > 0 ? { ingress: rules.ingress } : {}),
            ...(rules.egress !== undefined && rules.egress.length > 0 ? { egress: rules.egress } : {}),
        },
    };
}

/** The baseline of a namespace: nothing in or out, then DNS for every pod. */
export function renderNamespaceBaseline(namespace: string, location: Location): Record<string, unknown>[] {
    return [
        networkPolicy("default-deny", namespace, {}, { ingress: [], egress: [] }, "baseline: no pod here sends or receives anything another policy does not allow", location),
        networkPolicy("allow-dns", namespace, {}, { egress: [DNS] }, "every pod resolves Service names through CoreDNS (kube-system, k8s-app=kube-dns)", location),
    ];
}

export interface FunctionNetworkOptions {
    readonly location: Location;
    /** Each function's declared destinations (from its sovereign-faas.io/egress annotation). */
    readonly functionEgress: Readonly<Record<string, readonly EgressDestination[]>>;
    /** Destinations every function may reach (sovereign-faas:network.egress). */
    readonly globalEgress: readonly EgressDestination[];
}

/**
 * The functions' namespace: only the gateway and the queue-workers reach functions (faas-netes
 * proxies to the function pods on 8080; the queue-worker calls through the gateway, and with
 * direct functions the gateway itself dials them); functions reach DNS, the gateway (to call
 * other functions) and what they declare, nothing else.
 */
export function renderFunctionNetworkPolicies(opts: FunctionNetworkOptions): Record<string, unknown>[] {
    const fnSelector = { matchExpressions: [{ key: "faas_function", operator: "Exists" }] };
    const out = [
        ...renderNamespaceBaseline(FUNCTION_NAMESPACE, opts.location),
        networkPolicy(
            "functions-from-gateway",
            FUNCTION_NAMESPACE,
            fnSelector,
            { ingress: [{ from: [app(OPENFAAS_NAMESPACE, "gateway"), app(OPENFAAS_NAMESPACE, "queue-worker")], ports: tcp(FUNCTION_PORT) }] },
            "the gateway (faas-netes proxies to function pods on 8080) and the queue-workers invoke functions; nothing else does",
            opts.location,
        ),
        networkPolicy(
            "functions-to-gateway",
            FUNCTION_NAMESPACE,
            fnSelector,
            { egress: [{ to: [app(OPENFAAS_NAMESPACE, "gateway")], ports: tcp(GATEWAY_PORT) }] },
            "a function may call other functions through the gateway",
            opts.location,
        ),
    ];
    if (opts.globalEgress.length > 0) {
        out.push(networkPolicy("declared-egress", FUNCTION_NAMESPACE, fnSelector, { egress: opts.globalEgress.map(destinationRule) }, "destinations every function may reach (sovereign-faas:network.egress)", opts.location));
    }
    for (const [fn, destinations] of Object.entries(opts.functionEgress).sort(([a], [b]) => a.localeCompare(b))) {
        if (destinations.length > 0) {
            out.push(
                networkPolicy(`function-${fn}-egress`, FUNCTION_NAMESPACE, { matchLabels: { faas_function: fn } }, { egress: destinations.map(destinationRule) }, `what function ${fn} declares in its ${EGRESS_ANNOTATION} annotation`, opts.location),
            );
        }
    }
    return out;
}

export interface CoreNetworkOptions {
    readonly location: Location;
    readonly edition: "ce" | "pro";
    /** The API server's advertise address (the node's address): pods reach the API there on 6443. */
    readonly nodeAddress: string;
    /** Whether a NATS connector is installed (topics). */
    readonly connector: boolean;
    /** Where queue-workers may post X-Callback-Url results: the declared destinations. */
    readonly callbackEgress: readonly EgressDestination[];
    /** Whether cert-manager's HTTP-01 solver pods run in the openfaas namespace (tls.mode acme). */
    readonly acme: boolean;
    /** The edge controller's namespace. */
    readonly edgeNamespace: string;
}

/** The OpenFaaS core namespace, component by component. */
export function renderCoreNetworkPolicies(o: CoreNetworkOptions): Record<string, unknown>[] {
    const ns = OPENFAAS_NAMESPACE;
    const pro = o.edition === "pro";
    const gatewayCallers: Peer[] = [app(ns, "queue-worker"), ...(pro ? [app(ns, "autoscaler"), app(ns, "dashboard")] : [app(ns, "alertmanager")]), ...(o.connector ? [app(ns, "nats-connector")] : [])];
    const out = [
        ...renderNamespaceBaseline(ns, o.location),
        networkPolicy(
            "gateway",
            ns,
            { matchLabels: { app: "gateway" } },
            {
                ingress: [
                    { from: [inNamespace(o.edgeNamespace)], ports: tcp(GATEWAY_PORT) },
                    { from: gatewayCallers, ports: tcp(GATEWAY_PORT) },
                    { from: [app(ns, "prometheus")], ports: tcp(GATEWAY_METRICS_PORT, ...(pro ? [QUEUE_WORKER_METRICS_PORT] : [])) },
                ],
                egress: [apiServer(o.nodeAddress), { to: [app(ns, "nats")], ports: tcp(NATS_PORT) }, { to: [app(ns, "prometheus")], ports: tcp(PROMETHEUS_PORT) }, { to: [FUNCTIONS], ports: tcp(FUNCTION_PORT) }],
            },
            "the edge and the platform's own callers reach the gateway; it reaches the API (faas-netes), NATS (async), Prometheus (/system/functions) and the function pods",
            o.location,
        ),
        networkPolicy(
            "queue-worker",
            ns,
            { matchLabels: { app: "queue-worker" } },
            {
                ...(pro ? { ingress: [{ from: [app(ns, "prometheus")], ports: tcp(QUEUE_WORKER_METRICS_PORT) }] } : {}),
                egress: [{ to: [app(ns, "nats")], ports: tcp(NATS_PORT) }, { to: [app(ns, "gateway")], ports: tcp(GATEWAY_PORT) }, { to: [FUNCTIONS], ports: tcp(FUNCTION_PORT) }, ...o.callbackEgress.map(destinationRule)],
            },
            "queue-workers read NATS and invoke functions (through the gateway, or directly); an X-Callback-Url may go only to the declared destinations",
            o.location,
        ),
        networkPolicy(
            "nats",
            ns,
            { matchLabels: { app: "nats" } },
            { ingress: [{ from: [app(ns, "gateway"), app(ns, "queue-worker"), ...(o.connector ? [app(ns, "nats-connector")] : [])], ports: tcp(NATS_PORT) }], egress: [] },
            "NATS only answers the gateway, the queue-workers and the connector; it calls nobody",
            o.location,
        ),
        networkPolicy(
            "prometheus",
            ns,
            { matchLabels: { app: "prometheus" } },
            {
                ingress: [{ from: [app(ns, "gateway"), ...(pro ? [app(ns, "autoscaler"), app(ns, "dashboard")] : [])], ports: tcp(PROMETHEUS_PORT) }],
                egress: [
                    apiServer(o.nodeAddress),
                    { to: [app(ns, "gateway")], ports: tcp(GATEWAY_METRICS_PORT, ...(pro ? [QUEUE_WORKER_METRICS_PORT] : [])) },
                    ...(pro ? [{ to: [app(ns, "queue-worker")], ports: tcp(QUEUE_WORKER_METRICS_PORT) }] : [{ to: [app(ns, "alertmanager")], ports: tcp(ALERTMANAGER_PORT) }]),
                ],
            },
            "Prometheus discovers targets through the API and scrapes the gateway (and in Pro the queue-workers); the gateway and the autoscaler query it",
            o.location,
        ),
    ];
    if (!pro) {
        out.push(
            networkPolicy(
                "alertmanager",
                ns,
                { matchLabels: { app: "alertmanager" } },
                { ingress: [{ from: [app(ns, "prometheus")], ports: tcp(ALERTMANAGER_PORT) }], egress: [{ to: [app(ns, "gateway")], ports: tcp(GATEWAY_PORT) }] },
                "CE scaling: Prometheus alerts Alertmanager, which calls the gateway's /system/alert",
                o.location,
            ),
            networkPolicy("gateway-connectivity-check", ns, { matchLabels: { app: "gateway" } }, { egress: [internetRule(EGRESS_EXCEPTIONS["openfaas-ce-connectivity"].ports)] }, EGRESS_EXCEPTIONS["openfaas-ce-connectivity"].why, o.location, "openfaas-ce-connectivity"),
        );
    } else {
        out.push(
            networkPolicy(
                "autoscaler-dashboard",
                ns,
                { matchExpressions: [{ key: "app", operator: "In", values: ["autoscaler", "dashboard"] }] },
                { egress: [{ to: [app(ns, "gateway")], ports: tcp(GATEWAY_PORT) }, { to: [app(ns, "prometheus")], ports: tcp(PROMETHEUS_PORT) }] },
                "the Pro autoscaler and dashboard read Prometheus and call the gateway",
                o.location,
            ),
        );
    }
    if (o.connector) {
        out.push(
            networkPolicy(
                "nats-connector",
                ns,
                { matchLabels: { app: "nats-connector" } },
                { egress: [{ to: [app(ns, "nats")], ports: tcp(NATS_PORT) }, { to: [app(ns, "gateway")], ports: tcp(GATEWAY_PORT) }] },
                "the connector subscribes to NATS topics and invokes functions through the gateway",
                o.location,
            ),
        );
    }
    if (o.acme) {
        out.push(
            networkPolicy(
                "acme-solver",
                ns,
                { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } },
                { ingress: [{ from: [inNamespace(o.edgeNamespace)], ports: tcp(ACME_SOLVER_PORT) }], egress: [] },
                "cert-manager's HTTP-01 solver pods (in the Certificate's namespace, port 8089) answer the edge only",
                o.location,
            ),
        );
    }
    return out;
}

export interface EdgeNetworkOptions {
    readonly location: Location;
    readonly namespace: string;
    readonly nodeAddress: string;
    readonly acme: boolean;
    readonly certManagerNamespace: string;
}

/** The edge controller's namespace, and cert-manager's when ACME is on. */
export function renderEdgeNetworkPolicies(o: EdgeNetworkOptions): Record<string, unknown>[] {
    const out = [
        ...renderNamespaceBaseline(o.namespace, o.location),
        networkPolicy(
            "controller",
            o.namespace,
            {},
            {
                ingress: [{ from: INTERNET_BLOCKS.map((b) => ({ ipBlock: { cidr: b.cidr } })), ports: tcp(80, 443) }],
                egress: [
                    apiServer(o.nodeAddress),
                    { to: [app(OPENFAAS_NAMESPACE, "gateway")], ports: tcp(GATEWAY_PORT) },
                    ...(o.acme ? [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } } }], ports: tcp(ACME_SOLVER_PORT) }] : []),
                ],
            },
            "clients reach the controller on 80/443 (host ports keep their addresses); it watches the API and proxies to the gateway pods (and to ACME solver pods)",
            o.location,
        ),
    ];
    if (o.acme) {
        const ns = o.certManagerNamespace;
        out.push(
            ...renderNamespaceBaseline(ns, o.location),
            networkPolicy("api", ns, {}, { egress: [apiServer(o.nodeAddress)] }, "the controller, webhook, cainjector and startupapicheck all work through the API", o.location),
            networkPolicy(
                "webhook",
                ns,
                { matchLabels: { "app.kubernetes.io/name": "webhook" } },
                { ingress: [{ from: [{ ipBlock: { cidr: hostCidr(o.nodeAddress) } }], ports: tcp(CERT_MANAGER_WEBHOOK_PORT) }] },
                "the API server calls the admission webhook on 10250 (from the node: always allowed on one node, written for any cluster)",
                o.location,
            ),
            networkPolicy("acme", ns, EGRESS_EXCEPTIONS.acme.podSelector, { egress: [internetRule(EGRESS_EXCEPTIONS.acme.ports)] }, EGRESS_EXCEPTIONS.acme.why, o.location, "acme"),
        );
    }
    return out;
}

/**
 * A function's `sovereign-faas.io/egress` annotation: destinations separated by whitespace, `;`
 * or newlines, each `<cidr>=<ports>[/udp]` with ports a comma list of numbers
 * (`203.0.113.0/24=443`, `2001:db8::/32=443,8443`, `198.51.100.7/32=5432`). Returns the problems
 * as text, for the caller to name the key.
 */
export function parseEgressAnnotation(value: string): { destinations: EgressDestination[]; problems: string[] } {
    const destinations: EgressDestination[] = [];
    const problems: string[] = [];
    for (const entry of value.split(/[\s;]+/).filter((e) => e !== "")) {
        const m = /^([^=]+)=([0-9,]+)(?:\/(tcp|udp))?$/i.exec(entry);
        if (m === null) {
            problems.push(`${JSON.stringify(entry)} is not <cidr>=<port>[,<port>...][/udp]`);
            continue;
        }
        const ports = m[2].split(",").map(Number);
        if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
            problems.push(`${JSON.stringify(entry)} has a port that is not a number from 1 to 65535`);
            continue;
        }
        destinations.push({ cidr: m[1], ports: [...new Set(ports)], ...(m[3] !== undefined ? { protocol: m[3].toUpperCase() as "TCP" | "UDP" } : {}) });
    }
    return { destinations, problems };
}

/**
 * Every problem of declared destinations: each is a CIDR with its host bits clear, smaller than
 * the whole address space of its family, with 1 to 64 ports from 1 to 65535. Whether it is
 * registered in an allowed country is the policy pack's question (registry evidence).
 */
export function egressDestinationProblems(destinations: readonly unknown[], key: string): Problem[] {
    const out: Problem[] = [];
    destinations.forEach((d, i) => {
        const at = `${key}[${i}]`;
        if (!isRecord(d)) {
            out.push({ key: at, value: d, rule: "must be a map { cidr, ports, protocol?, description? }", fix: "write e.g. { cidr: 203.0.113.0/24, ports: [443] }" });
            return;
        }
        for (const k of Object.keys(d)) {
            if (!["cidr", "ports", "protocol", "description"].includes(k)) {
                out.push({ key: `${at}.${k}`, value: "[not shown]", rule: "is not a destination setting", fix: "use cidr, ports, protocol or description" });
            }
        }
        const cidr = d.cidr;
        if (typeof cidr !== "string" || !ipaddr.isValidCIDR(cidr)) {
            out.push({ key: `${at}.cidr`, value: cidr, rule: "must be an IPv4 or IPv6 CIDR block (NetworkPolicy matches addresses, not names)", fix: "resolve the name and write its range, e.g. 203.0.113.0/24" });
        } else {
            const [addr, prefix] = ipaddr.parseCIDR(cidr);
            const network = addr.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
            if (prefix === 0) {
                out.push({ key: `${at}.cidr`, value: cidr, rule: "allows every address: a default-deny egress that allows everything denies nothing", fix: "list the ranges the function really reaches" });
            } else if (network.toString() !== addr.toString()) {
                out.push({ key: `${at}.cidr`, value: cidr, rule: "has host bits set (the API server refuses such an ipBlock)", fix: `write ${network.toString()}/${prefix}` });
            }
        }
        const ports = d.ports;
        if (!Array.isArray(ports) || ports.length === 0 || ports.length > 64 || !ports.every((p) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535)) {
            out.push({ key: `${at}.ports`, value: ports, rule: "must list 1 to 64 port numbers from 1 to 65535", fix: "write e.g. ports: [443]" });
        }
        if (d.protocol !== undefined && d.protocol !== "TCP" && d.protocol !== "UDP") {
            out.push({ key: `${at}.protocol`, value: d.protocol, rule: "must be TCP or UDP", fix: "remove it for TCP" });
        }
        if (d.description !== undefined && typeof d.description !== "string") {
            out.push({ key: `${at}.description`, value: d.description, rule: "must be text", fix: "quote it" });
        }
    });
    return out;
}
