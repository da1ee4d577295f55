import { defineConfig } from "vite";

// The package resolves its wasm with `new URL(…, import.meta.url)`; keeping it out of the dev
// pre-bundler keeps that URL valid in `vite dev` (the production build handles it either way).
export default defineConfig({
  optimizeDeps: { exclude: ["sync-core"] },
  build: { target: "es2022", sourcemap: false },
  preview: { host: "127.0.0.1" },
  server: { host: "127.0.0.1" },
});
