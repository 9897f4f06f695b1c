export * from "./connection";
export * from "./firewall";
export * from "./kernel";
export * from "./preflight";
