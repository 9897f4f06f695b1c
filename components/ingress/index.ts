export * from "./controller";
export * from "./gateway-ingress";
export * from "./nginx-edge";
export * from "./tls";
