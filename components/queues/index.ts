export * from "./async-queues";
export * from "./values";
