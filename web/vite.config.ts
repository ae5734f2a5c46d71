import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// Two pages: the console (index.html, one app with a lazily loaded chunk per page) and
// GraphiQL (graphiql.html, its own bundle so the station never loads the editor).
// `npm run dev` proxies the API to a server on :8080.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 3000,
    rollupOptions: {
      // GraphiQL's dependencies mark modules "use client" (a React Server Components hint that
      // means nothing in a browser bundle): not worth a warning per module.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
      input: {
        console: resolve(import.meta.dirname, 'index.html'),
        graphiql: resolve(import.meta.dirname, 'graphiql.html'),
      },
    },
  },
  server: {
    proxy: {
      '/graphql': { target: 'http://localhost:8080', ws: true },
      '/export': 'http://localhost:8080',
    },
  },
});
