export * from "./config";
export * from "./flags";
export * from "./install";
export * from "./k3s-cluster";
