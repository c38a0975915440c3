// node:http as the controller loads it: with process.getBuiltinModule, never an ES import. An ES
// import of node:http builds its module namespace, which reads the module's lazy WebSocket,
// CloseEvent and MessageEvent getters and so loads undici, and with it http2, zlib, web streams and
// worker_threads: about 6 MiB of RSS the controller never uses (docs/performance.md). Types come
// from `import type`, which the compiler erases.
export const http = process.getBuiltinModule("node:http");
