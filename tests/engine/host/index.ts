/**
 * The engine tier's host layer: the library's host components (connection, preflight, kernel,
 * firewall, sovereign volumes, K3s air-gapped) run by the real Pulumi engine and command provider
 * against the Debian test VM. The project name and the resource names are the program's, so a
 * state written here is what the program writes for these steps.
 *
 * `library` selects the components: this checkout's, or the committed baseline's (the migration
 * test). `layout` places them: at the top of the stack, as program 0.1 did, or under one parent
 * with the aliases SovereignFaasPlatform gives its children.
 */
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const libraryDir = config.get("library") || path.join(__dirname, "..", "..", "..", "components");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the version under test is chosen at run time
const lib = require(libraryDir);
const location = { country: "NO", region: "NO-03", site: "engine-test" };

class Platform extends pulumi.ComponentResource {
    constructor(name: string) {
        super("sovereign-faas:platform:SovereignFaasPlatform", name, {}, {});
        this.registerOutputs({});
    }
}
const parent = config.get("layout") === "top-level" ? undefined : new Platform("sovereign-faas");
const place = (extra: pulumi.ComponentResourceOptions = {}): pulumi.ComponentResourceOptions =>
    parent === undefined ? extra : { ...extra, parent, aliases: [{ parent: pulumi.rootStackResource }] };

const connection = new lib.SshConnection(
    "host",
    { host: config.require("host"), port: config.requireNumber("port"), user: "root", privateKey: config.requireSecret("sshPrivateKey"), hostKey: config.require("hostKey"), location },
    place(),
);
const remote = { connection: connection.connection, user: connection.user, location };
const preflight = new lib.Preflight("preflight", { ...remote, minFreeDiskGiB: 1, minMemoryMiB: 512, dataPath: "/data/sovereign" }, place({ dependsOn: [connection] }));
const kernel = new lib.KernelTuning("kernel", { ...remote, sysctls: config.get("somaxconn") ? { "net.core.somaxconn": config.require("somaxconn") } : {} }, place({ dependsOn: [preflight] }));
const firewall = new lib.Firewall("firewall", { ...remote, sshSources: ["10.0.2.0/24"], apiSources: ["10.0.2.0/24"], sshPort: 22, requireClientApiAccess: true }, place({ dependsOn: [kernel] }));
const volumes = new lib.SovereignVolumes(
    "volumes",
    {
        ...remote,
        host: config.require("host"),
        volumes: [{ name: "profiles", hostPath: "/data/sovereign/profiles", mountPath: "/data/profiles", readOnly: true, functions: ["reader"], owner: 10000, requireEncryption: false }],
        sovereignRoots: ["/data/sovereign"],
    },
    place({ dependsOn: [preflight] }),
);
const cluster = new lib.K3sCluster(
    "k3s",
    { ...remote, host: "127.0.0.1", version: config.require("k3sVersion"), airgap: true, uninstallOnDestroy: config.getBoolean("uninstallOnDestroy") ?? false, readyTimeoutSeconds: 60 },
    place({ dependsOn: [kernel, firewall] }),
);

export const k3sVersion = cluster.version;
export const volumesDirs = volumes.volumes.length;
