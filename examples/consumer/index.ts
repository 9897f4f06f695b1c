/**
 * A consumer stack: another team's program that imports sovereign-faas by its package name and
 * composes it differently - an existing cluster's kubeconfig, no host bootstrap, OpenFaaS CE
 * and two functions. CI type-checks and plans it, so the library's public API cannot break silently.
 */
import * as fs from "fs";
import * as path from "path";

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AsyncQueues, Functions, Location, OpenFaas, parseStackYml, topicsOf, validateFunctionsForEdition, ValidationError } from "sovereign-faas";

const config = new pulumi.Config();
const location = config.requireObject<Location>("location");
const provider = new k8s.Provider("existing-cluster", { kubeconfig: config.requireSecret("kubeconfig") });

const file = path.join(__dirname, "functions.yml");
const stack = parseStackYml(fs.readFileSync(file, "utf8"), { file: "functions.yml", env: process.env, readFile: () => undefined });
const features = { edition: "ce" as const, scaleToZero: { enabled: false, defaultIdleDurationSeconds: 900 }, queueNames: [], gatewayTimeoutSeconds: 120 };
const problems = [...stack.problems, ...validateFunctionsForEdition(stack.functions, features, "functions.yml").items];
if (problems.length > 0) {
    throw new pulumi.RunError(new ValidationError(problems).message);
}

const openfaas = new OpenFaas("faas", { provider, location, gatewayTimeoutSeconds: features.gatewayTimeoutSeconds });
new AsyncQueues("async", { provider, location, topics: stack.functions.flatMap(topicsOf) }, { dependsOn: [openfaas.release] });
const functions = new Functions("fns", { provider, location, functions: stack.functions, features }, { dependsOn: [openfaas.functionNamespace] });

export const gateway = openfaas.gatewayUrl;
export const deployed = functions.names;
