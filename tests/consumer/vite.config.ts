import { defineConfig } from "vite";

// The package resolves its wasm with `new URL(…, import.meta.url)`; excluding it from the
// dev pre-bundler keeps that URL valid in `vite dev` too (the build handles it either way).
export default defineConfig({
  optimizeDeps: { exclude: ["sync-core"] },
  worker: { format: "es" },
  build: { target: "es2022", sourcemap: false },
});
