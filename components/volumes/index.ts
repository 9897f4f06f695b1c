export * from "./script";
export * from "./sovereign-volumes";
export * from "./volumes";
