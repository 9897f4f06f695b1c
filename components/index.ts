/**
 * sovereign-faas: Pulumi components that turn a VPS into a self-hosted OpenFaaS platform whose
 * data stays in its jurisdiction. Each domain is a folder; this file only re-exports.
 */
export * from "./shared";
export * from "./host";
export * from "./k3s";
export * from "./openfaas";
export * from "./queues";
export * from "./functions";
export * from "./volumes";
export * from "./ingress";
export * from "./network";
export * from "./backups";
export * from "./platform";
