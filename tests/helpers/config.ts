import { RawConfig } from "../../program/config";

/** The smallest stack config the program accepts: an IP host in Norway, a key, the firewall sources, one function. */
export const MINIMAL_CONFIG: RawConfig = {
    host: "192.0.2.10",
    location: JSON.stringify({ country: "NO", region: "NO-03" }),
    sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
    firewall: JSON.stringify({ sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.7/32"] }),
    functions: "tests/fixtures/minimal-stack.yml",
};
