export * from "./policies";
export * from "./resources";
