/**
 * What the offline plan pretends providers return. Only outputs the program reads are faked,
 * and each is shaped like the real provider's (a kubeconfig, a preflight report, a password).
 * The Pulumi CLI and provider plugins cannot run here; everything else is the real SDK.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

/** The step name a remote command's invocation ends with (`... sovereign-faas-<step>`). */
export function remoteStep(create: unknown): string | undefined {
    if (typeof create !== "string") {
        return undefined;
    }
    return /sovereign-faas-([a-z0-9-]+)\n?$/.exec(create)?.[1];
}

const FAKE_KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: UExBTi1QTEFDRUhPTERFUg==
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
users:
- name: default
  user:
    client-certificate-data: UExBTi1QTEFDRUhPTERFUg==
    client-key-data: UExBTi1QTEFDRUhPTERFUg==
`;

const FAKE_PREFLIGHT =
    'SOVEREIGN_FAAS_PREFLIGHT {"arch":"x86_64","cgroup":"v2","cpuStealPercent":0,"dataDiskNvme":true,"freeDiskGiB":80,' +
    '"kernel":"6.1.0-plan","memoryMiB":8192,"os":"debian 12","overlayfs":true,"rootDiskNvme":true,"warnings":[]}\n';

function stableHex(seed: string, length: number): string {
    return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** Fake provider state for a resource: its inputs plus the outputs the program reads. */
export function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case "command:remote:Command": {
            const step = remoteStep(inputs.create);
            const stdout = step === "kubeconfig" ? FAKE_KUBECONFIG : step === "preflight" ? FAKE_PREFLIGHT : "";
            return { ...inputs, stdout, stderr: "" };
        }
        case "random:index/randomPassword:RandomPassword":
            // Stable per name, like a password kept in state: two evaluations give the same value.
            return { ...inputs, result: stableHex(`password:${name}`, Number(inputs.length ?? 32)) };
        case "tls:index/privateKey:PrivateKey":
            return { ...inputs, privateKeyPem: "-----BEGIN PRIVATE KEY-----\nplan\n-----END PRIVATE KEY-----\n", publicKeyPem: "plan" };
        case "tls:index/selfSignedCert:SelfSignedCert":
            return {
                ...inputs,
                certPem: "-----BEGIN CERTIFICATE-----\nplan\n-----END CERTIFICATE-----\n",
                validityEndTime: "2027-11-22T00:00:00Z",
                validityStartTime: "2026-11-22T00:00:00Z",
            };
        default:
            return { ...inputs };
    }
}

/** The mocks the plan runner and the tests use. */
export const planMocks: pulumi.runtime.Mocks = {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        return args.inputs;
    },
};
