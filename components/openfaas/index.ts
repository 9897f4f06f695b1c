export * from "./openfaas";
export * from "./values";
