// Builds the JS islands of the web pages (service/web/static/src) into service/web/static/dist/app
// with fixed file names; Flask serves them. Nothing is fetched at run time.
import { resolve } from "node:path";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import bpmnlint from "rollup-plugin-bpmnlint";

const src = resolve(import.meta.dirname, "service/web/static/src");

export default defineConfig({
  // bpmnlint: the modeler's .bpmnlintrc becomes plain imports of its rules at build time (no eval under the CSP)
  plugins: [react(), bpmnlint()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: resolve(import.meta.dirname, "service/web/static/dist/app"),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1000, // React + @rjsf/core + ajv, loaded on the task page only
    rollupOptions: {
      input: {
        form: resolve(src, "form.jsx"), case: resolve(src, "case.js"), alur: resolve(src, "alur.css"),
        modeler: resolve(src, "modeler.js"),
        decisions: resolve(src, "decisions.js"),
        counter: resolve(src, "counter.js"),
        dashboard: resolve(src, "dashboard.js"),
        public: resolve(src, "public.jsx"), "public-style": resolve(src, "public.css"),
      },
      output: {
        entryFileNames: "[name].js",
        chunkFileNames: "chunks/[name].js",
        assetFileNames: "[name][extname]",
      },
    },
  },
});
