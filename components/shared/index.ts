export * from "./validation";
export * from "./duration";
export * from "./labels";
export * from "./script";
export * from "./remote-step";
export * from "./options";
export * from "./edition";
export * from "./quantity";
