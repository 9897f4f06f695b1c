/**
 * The upgrade test: a stack planned at one version and then at the next must only update in
 * place. Nothing whose delete touches the host may be replaced or deleted, whatever changes: the
 * K3s version, a kernel value, the site stamped into every script, or the library itself (the
 * committed baseline against this checkout).
 */
import { destructiveChanges } from "../../program/plan/compare";
import { prodConfig, REPO_ROOT } from "../helpers/plan";
import { checkoutAt, planProject, summary, upgrade, UPGRADE_BASELINE } from "../helpers/upgrade";

/** The prod example stack, with overrides. */
function prod(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...prodConfig(), ...overrides };
}

describe("upgrades update in place and never replace a host step", () => {
    const base = planProject(REPO_ROOT, prod());

    it.each([
        ["a K3s version bump", { "sovereign-faas:k3s": { version: "v1.33.6+k3s1" } }, ["k3s-install"]],
        ["a kernel value", { "sovereign-faas:kernel": { "net.core.somaxconn": 16384 } }, ["kernel-apply"]],
        ["the site stamped into every script", { "sovereign-faas:location": { country: "NO", region: "NO-03", site: "Oslo DC2", provider: "Example VPS AS" } }, ["k3s-install", "kernel-apply", "firewall-apply", "preflight-check"]],
    ])("%s is an in-place update", (_label, change, updated) => {
        const changes = upgrade(base, planProject(REPO_ROOT, prod(change)));
        expect(summary(changes).filter((s) => !s.endsWith(": update"))).toEqual([]);
        expect(destructiveChanges(changes)).toEqual([]);
        for (const name of updated) {
            expect(changes.find((c) => c.name === name)?.change).toBe("update");
        }
    });

    it(`upgrades a stack deployed with the committed baseline ${UPGRADE_BASELINE} without a replacement or a delete`, () => {
        const dir = checkoutAt(UPGRADE_BASELINE);
        // The baseline's Pulumi.yaml makes these keys required: a stack deployed with it has them all.
        const deployed = prod({
            "sovereign-faas:sshHostKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIupgradetest",
            "sovereign-faas:allowedCountries": ["NO"],
        });
        // substituteEnv is new: the baseline refuses it, and the upgrade adds it (its stack.yml substitutes one variable).
        const { "sovereign-faas:substituteEnv": added, "sovereign-faas:backups": backups, ...before } = deployed;
        // Backups are new too: the upgrade adds them (a create, never a replacement).
        const changes = upgrade(planProject(dir, before), planProject(REPO_ROOT, { ...before, "sovereign-faas:substituteEnv": added, "sovereign-faas:backups": backups }));
        expect(summary(changes).filter((s) => !/: (update|create)$/.test(s))).toEqual([]);
        expect(destructiveChanges(changes)).toEqual([]);
    });
});
