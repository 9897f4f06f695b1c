import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * Registers rendered NetworkPolicies (policies.ts) as `<prefix>-<policy name>`: the one place the
 * components turn policy objects into resources, so their names (and URNs) are made one way.
 */
export function registerNetworkPolicies(prefix: string, policies: readonly Record<string, unknown>[], opts: pulumi.CustomResourceOptions): k8s.networking.v1.NetworkPolicy[] {
    return policies.map((policy) => new k8s.networking.v1.NetworkPolicy(`${prefix}-${(policy.metadata as { name: string }).name}`, policy as unknown as k8s.networking.v1.NetworkPolicyArgs, opts));
}
