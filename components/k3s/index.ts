export * from "./config";
export * from "./install";
export * from "./k3s-cluster";
