import { functionNamespacePodSecurityLabels, renderVolumeScript, validateVolumes } from "../../components";
import { planStack } from "../helpers/plan";
import { shellcheck } from "../helpers/shell";

const opts = { sovereignRoots: ["/data/sovereign"], functionNames: ["user-profile", "pay"], configKey: "sovereign-faas:volumes" };
const ok = { name: "profiles", hostPath: "/data/sovereign/profiles", mountPath: "/data/profiles", functions: ["user-profile"] };
const problems = (list: unknown): string[] => validateVolumes(list, opts).problems.items.map((p) => `${p.key} | ${JSON.stringify(p.value)} | ${p.rule}`);

describe("validateVolumes", () => {
    it("accepts a volume under the sovereign root, read-only and owned by the function uid by default", () => {
        expect(validateVolumes([ok], opts)).toEqual({
            volumes: [{ ...ok, readOnly: true, owner: 10000, requireEncryption: false }],
            problems: expect.objectContaining({ items: [] }),
        });
    });

    it("refuses /etc, '..', non-normalized paths and paths outside the roots", () => {
        expect(
            problems([
                { ...ok, name: "a", hostPath: "/etc/secrets" },
                { ...ok, name: "b", hostPath: "/data/sovereign/../../etc" },
                { ...ok, name: "c", hostPath: "/data/sovereign//x/" },
                { ...ok, name: "d", hostPath: "/srv/data" },
                { ...ok, name: "e", hostPath: "/var/lib/rancher/k3s/storage" },
                { ...ok, name: "f", hostPath: "/data/sovereign" },
                { ...ok, name: "g", hostPath: "relative/path" },
            ]),
        ).toEqual([
            'sovereign-faas:volumes[0].hostPath | "/etc/secrets" | must not be / or under /etc, /proc, /sys, /dev, /boot, /usr, /bin, /sbin, /lib, /run, /var/run, /var/lib/rancher, /root (system files and K3s state; k3s-uninstall.sh deletes /var/lib/rancher)',
            "sovereign-faas:volumes[1].hostPath | \"/data/sovereign/../../etc\" | must not contain '..' or '.' (it could escape the sovereign root)",
            "sovereign-faas:volumes[2].hostPath | \"/data/sovereign//x/\" | must be normalized (no '//' and no trailing '/')",
            'sovereign-faas:volumes[3].hostPath | "/srv/data" | must lie below a sovereign root ["/data/sovereign"]',
            'sovereign-faas:volumes[4].hostPath | "/var/lib/rancher/k3s/storage" | must not be / or under /etc, /proc, /sys, /dev, /boot, /usr, /bin, /sbin, /lib, /run, /var/run, /var/lib/rancher, /root (system files and K3s state; k3s-uninstall.sh deletes /var/lib/rancher)',
            'sovereign-faas:volumes[5].hostPath | "/data/sovereign" | must lie below a sovereign root ["/data/sovereign"]',
            'sovereign-faas:volumes[6].hostPath | "relative/path" | must be an absolute path',
        ]);
    });

    it("refuses unknown functions, bad names and mount paths that shadow /tmp, code or secrets", () => {
        expect(
            problems([
                { ...ok, name: "Profiles", functions: ["nope"] },
                { ...ok, name: "x", hostPath: "/data/sovereign/x", mountPath: "/tmp/data" },
                { ...ok, name: "y", hostPath: "/data/sovereign/y", mountPath: "/home/app" },
                { ...ok, name: "z", hostPath: "/data/sovereign/z", mountPath: "/var/openfaas/secrets/x" },
            ]),
        ).toEqual([
            "sovereign-faas:volumes[0].name | \"Profiles\" | must be a DNS-1123 label (lower-case letters, digits, '-')",
            'sovereign-faas:volumes[0].functions | "nope" | is not a function in the stack.yml',
            'sovereign-faas:volumes[1].mountPath | "/tmp/data" | must not shadow /tmp, /home/app, /var/openfaas (the writable /tmp, the function\'s code, its secrets)',
            'sovereign-faas:volumes[2].mountPath | "/home/app" | must not shadow /tmp, /home/app, /var/openfaas (the writable /tmp, the function\'s code, its secrets)',
            'sovereign-faas:volumes[3].mountPath | "/var/openfaas/secrets/x" | must not shadow /tmp, /home/app, /var/openfaas (the writable /tmp, the function\'s code, its secrets)',
        ]);
    });
});

describe("volume script", () => {
    const script = renderVolumeScript(
        [
            { ...ok, readOnly: true, functions: ["user-profile"], owner: 10000, requireEncryption: true },
            { name: "receipts", hostPath: "/data/sovereign/receipts", mountPath: "/data/receipts", readOnly: false, functions: ["pay"], owner: 10001, requireEncryption: false },
        ],
        { country: "NO", region: "NO-03" },
        ["/data/sovereign"],
    );

    it("is clean under shellcheck", () => {
        expect(shellcheck(script)).toBe("");
    });

    it("passes each volume as arguments and never creates a directory through a symlink", () => {
        expect(script).toContain("  profiles /data/sovereign/profiles 10000 1 \\\n  receipts /data/sovereign/receipts 10001 0\n");
        expect(script).toContain('if [ -L "$dir" ]; then');
        expect(script).toContain('resolved="$(realpath -e "$dir")"');
    });

    it("matches the snapshot", () => {
        expect(script).toMatchSnapshot();
    });
});

describe("Pod Security of the functions' namespace", () => {
    it("is restricted without hostPath volumes, privileged (audited at restricted, no warnings) with them", () => {
        expect(functionNamespacePodSecurityLabels(false)["pod-security.kubernetes.io/enforce"]).toBe("restricted");
        expect(functionNamespacePodSecurityLabels(true)).toEqual({
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "privileged",
        });
    });
});

describe("prod plan: the user-profile reader and its volume", () => {
    const plan = planStack("prod");
    const resources = plan.resources();
    const byName = new Map(resources.map((r) => [r.name, r]));

    it("mounts /data/sovereign/... read-only, pinned to the Norwegian node", () => {
        const d = byName.get("functions-user-profile")?.inputs as { spec: { template: { spec: Record<string, unknown> } } };
        const spec = d.spec.template.spec as { volumes: unknown[]; nodeSelector: unknown; containers: Array<{ volumeMounts: unknown[] }> };
        expect(spec.volumes).toEqual([{ hostPath: { path: "/data/sovereign/user-profiles", type: "Directory" }, name: "user-profiles" }]);
        expect(spec.containers[0].volumeMounts).toEqual([{ mountPath: "/data/profiles", name: "user-profiles", readOnly: true }]);
        expect(spec.nodeSelector).toEqual({ "sovereign-faas.io/jurisdiction": "NO", "topology.kubernetes.io/region": "NO-03" });
    });

    it("creates the host directory before the workload, and only that workload waits for it", () => {
        expect(byName.get("functions-user-profile")?.dependsOn).toContain("volumes-dirs");
        expect(byName.get("functions-image-resizer")?.dependsOn).not.toContain("volumes-dirs");
        expect(byName.get("volumes-dirs")?.dependsOn).toEqual(["preflight-check"]);
    });

    it("labels the functions' namespace privileged only because hostPath needs it", () => {
        const ns = byName.get("openfaas-fn-ns")?.inputs as { metadata: { labels: Record<string, string> } };
        expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
        expect(ns.metadata.labels["pod-security.kubernetes.io/warn"]).toBe("privileged");
        expect(ns.metadata.labels["pod-security.kubernetes.io/audit"]).toBe("restricted");
    });
});
