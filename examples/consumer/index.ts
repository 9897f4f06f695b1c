/**
 * Another team's stack: the whole platform from the `sovereign-faas` package, configured with
 * this project's own keys instead of the program's. The functions come from a faas-cli file
 * parsed with the package's parser; the component checks everything else itself.
 */
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";
import { parseStackYml, SovereignFaasPlatform, ValidationError } from "sovereign-faas";

interface Vps {
    address: string;
    sshUser?: string;
    region: string;
    site?: string;
}

const config = new pulumi.Config();
const vps = config.requireObject<Vps>("vps");
const operators = config.requireObject<string[]>("operators");

const file = path.join(__dirname, "functions.yml");
const stack = parseStackYml(fs.readFileSync(file, "utf8"), { file: "functions.yml", env: {}, readFile: () => undefined });
if (stack.problems.length > 0) {
    throw new ValidationError(stack.problems, "functions.yml is invalid");
}

const platform = new SovereignFaasPlatform("invoicing", {
    host: vps.address,
    location: { country: "NO", region: vps.region, ...(vps.site !== undefined ? { site: vps.site } : {}) },
    ssh: { privateKey: config.requireSecret("sshKey"), user: vps.sshUser },
    firewall: { sshSources: operators, apiSources: operators },
    openfaas: { gatewayTimeoutSeconds: 120 },
    functions: stack.functions,
    functionsSource: "functions.yml",
    edge: { domain: config.require("domain"), tls: { mode: "acme", email: "drift@example.no" } },
});

export const gateway = platform.openfaas.gatewayUrl;
export const publicUrl = platform.publicUrl;
export const deployed = platform.functions.names;
