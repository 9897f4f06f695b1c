/** `sovereign-faas:domain`, `tls` and `ingress`: the public edge in front of the gateway. */
import * as pulumi from "@pulumi/pulumi";

import {
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_PROXY_BUFFER_SIZE,
    DEFAULT_PROXY_BUFFERS,
    DEFAULT_RATE_LIMIT,
    defaultEdgeTimeoutSeconds,
    EdgeTls,
    GatewayIngressOptions,
    gatewayWriteTimeoutSeconds,
    isCidr,
    isDnsName,
    isRecord,
    parseDurationSeconds,
    RateLimit,
} from "../../components";
import { ConfigReader, fullKey, PLAN_SECRET_PLACEHOLDER } from "../config-reader";

/** What the edge needs: the Ingress options (less the Secret name the component chooses) and the TLS mode. */
export type IngressSettings = Omit<GatewayIngressOptions, "tlsSecretName"> & { readonly tls: EdgeTls };

const SIZE = /^\d+[kKmMgG]?$/;
const RATE = /^[1-9]\d*r\/[sm]$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Parses the edge. Returns undefined when no domain is set (the gateway then stays internal).
 * `gatewayTimeoutSeconds` is the OpenFaaS upstream timeout; the ingress must outlast the gateway's write timeout.
 */
export function parseIngressConfig(r: ConfigReader, gatewayTimeoutSeconds: number, secret: (v: string) => pulumi.Output<string>): IngressSettings | undefined {
    // Pulumi.yaml's defaults for domain, tls and ingress are "", {} and {}: nothing configured.
    const domain = r.string("domain") === "" ? undefined : r.string("domain");
    const t = r.object("tls", "{ mode: self-signed | provided | acme, email?, staging?, certificate?, key? }") ?? {};
    const i = r.object("ingress", "{ timeout, maxBodySize, buffers, bufferSize, rateLimit, systemAllowFrom }") ?? {};
    r.unknownKeys("tls", t, ["mode", "email", "staging", "certificate", "key"]);
    r.unknownKeys("ingress", i, ["timeout", "maxBodySize", "buffers", "bufferSize", "rateLimit", "systemAllowFrom"]);
    if (domain === undefined) {
        if (Object.keys(t).length > 0 || Object.keys(i).length > 0) {
            r.problems.add(fullKey("domain"), undefined, "is required when tls or ingress is configured", `pulumi config set ${fullKey("domain")} functions.example.no`);
        }
        return undefined;
    }
    if (!isDnsName(domain) || !domain.includes(".")) {
        r.problems.add(fullKey("domain"), domain, "must be a fully qualified DNS name (letters, digits, '-', dot-separated)", "use the name that points at the host, e.g. functions.example.no");
    }

    const mode = t.mode ?? "self-signed";
    let edgeTls: EdgeTls = { mode: "self-signed" };
    if (mode === "acme") {
        if (typeof t.email !== "string" || !EMAIL.test(t.email)) {
            r.problems.add(fullKey("tls.email"), t.email, "acme needs a contact e-mail for Let's Encrypt (expiry and revocation notices)", "set tls.email: ops@example.no");
        }
        if (t.staging !== undefined && typeof t.staging !== "boolean") {
            r.problems.add(fullKey("tls.staging"), t.staging, "must be true or false", "write it without quotes");
        }
        edgeTls = { mode: "acme", email: typeof t.email === "string" ? t.email : "", staging: t.staging === true };
    } else if (mode === "provided") {
        if (typeof t.key !== "string" || t.key === "") {
            r.problems.add(fullKey("tls.key"), t.key === undefined ? undefined : "[secret]", "provided mode needs the certificate's private key, as a secret", `pulumi config set --secret --path '${fullKey("tls.key")}' < key.pem`);
        } else if (t.key !== PLAN_SECRET_PLACEHOLDER && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(t.key)) {
            r.problems.add(fullKey("tls.key"), "[secret]", "must be a PEM private key", "paste the PEM file's content");
        }
        if (typeof t.certificate !== "string" || !t.certificate.includes("-----BEGIN CERTIFICATE-----")) {
            r.problems.add(fullKey("tls.certificate"), t.certificate === undefined ? undefined : "(not a PEM certificate)", "provided mode needs the PEM certificate chain", `pulumi config set --path '${fullKey("tls.certificate")}' < fullchain.pem`);
        }
        edgeTls = {
            mode: "provided",
            certificate: typeof t.certificate === "string" ? t.certificate : "",
            privateKey: secret(typeof t.key === "string" ? t.key : ""),
        };
    } else if (mode !== "self-signed") {
        r.problems.add(fullKey("tls.mode"), mode, "must be self-signed, provided or acme", "use self-signed for first boot, acme once DNS points at the host");
    }

    const writeTimeout = gatewayWriteTimeoutSeconds(gatewayTimeoutSeconds);
    const timeoutSeconds = i.timeout === undefined ? defaultEdgeTimeoutSeconds(gatewayTimeoutSeconds) : parseDurationSeconds(i.timeout);
    if (timeoutSeconds === undefined || timeoutSeconds === 0) {
        r.problems.add(fullKey("ingress.timeout"), i.timeout, "must be a duration such as 300s or 5m", "write a number with a unit (s, m, h)");
    } else if (timeoutSeconds <= writeTimeout) {
        r.problems.add(
            fullKey("ingress.timeout"),
            i.timeout,
            `must be longer than the gateway's write timeout (${writeTimeout}s: the gateway timeout ${gatewayTimeoutSeconds}s plus ${writeTimeout - gatewayTimeoutSeconds}s): otherwise NGINX answers 504 while the gateway is still answering (openfaas/faas#1016, #1196)`,
            `set ingress.timeout to ${defaultEdgeTimeoutSeconds(gatewayTimeoutSeconds)}s or more (or leave it unset), or lower openfaas.gateway.timeout`,
        );
    }
    const maxBodySize = i.maxBodySize === undefined ? DEFAULT_MAX_BODY_SIZE : String(i.maxBodySize);
    if (!SIZE.test(maxBodySize)) {
        r.problems.add(fullKey("ingress.maxBodySize"), i.maxBodySize, "must be an NGINX size such as 50m or 512k", "write a number with k, m or g");
    }
    let buffers: { number: number; size: string } = { ...DEFAULT_PROXY_BUFFERS };
    if (i.buffers !== undefined) {
        const b = isRecord(i.buffers) ? i.buffers : {};
        const n = r.integer("ingress.buffers.number", b.number, 1, 1024);
        if (typeof b.size !== "string" || !SIZE.test(b.size)) {
            r.problems.add(fullKey("ingress.buffers.size"), b.size, "must be an NGINX size such as 16k", "write e.g. 16k");
        }
        buffers = { number: n ?? DEFAULT_PROXY_BUFFERS.number, size: typeof b.size === "string" ? b.size : DEFAULT_PROXY_BUFFERS.size };
    }
    const bufferSize = i.bufferSize === undefined ? DEFAULT_PROXY_BUFFER_SIZE : String(i.bufferSize);
    if (!SIZE.test(bufferSize)) {
        r.problems.add(fullKey("ingress.bufferSize"), i.bufferSize, "must be an NGINX size such as 32k", "write e.g. 32k");
    }
    let rateLimit: RateLimit = { ...DEFAULT_RATE_LIMIT };
    if (i.rateLimit !== undefined) {
        const rl = isRecord(i.rateLimit) ? i.rateLimit : {};
        const rate = rl.rate ?? DEFAULT_RATE_LIMIT.rate;
        if (typeof rate !== "string" || !RATE.test(rate)) {
            r.problems.add(fullKey("ingress.rateLimit.rate"), rate, "must be a positive rate like 10r/s or 600r/m (zero would refuse every request)", "set e.g. 10r/s");
        }
        const burst = rl.burst === undefined ? DEFAULT_RATE_LIMIT.burst : r.integer("ingress.rateLimit.burst", rl.burst, 0, 100000);
        if (rl.noDelay !== undefined && typeof rl.noDelay !== "boolean") {
            r.problems.add(fullKey("ingress.rateLimit.noDelay"), rl.noDelay, "must be true or false", "write it without quotes");
        }
        rateLimit = { rate: typeof rate === "string" ? rate : DEFAULT_RATE_LIMIT.rate, burst: burst ?? DEFAULT_RATE_LIMIT.burst, noDelay: rl.noDelay !== false };
    }
    const allow = r.stringList("ingress.systemAllowFrom", i.systemAllowFrom) ?? [];
    allow.forEach((c, idx) => {
        if (!isCidr(c)) {
            r.problems.add(fullKey(`ingress.systemAllowFrom[${idx}]`), c, "must be an IPv4 or IPv6 CIDR block", "write it like 198.51.100.0/24");
        }
    });
    return {
        domain,
        tls: edgeTls,
        timeoutSeconds: timeoutSeconds ?? defaultEdgeTimeoutSeconds(gatewayTimeoutSeconds),
        maxBodySize,
        buffers,
        bufferSize,
        rateLimit,
        systemAllowFrom: allow,
    };
}
