// The UI bundle: built into dist/renderer, which the daemon serves at `/` and
// the Electron window loads from the daemon's origin. `npm run dev:ui` serves it
// with hot reload and proxies /api and /v1 to a daemon on BERTH_PORT.
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const daemon = `http://127.0.0.1:${process.env.BERTH_PORT ?? '7788'}`;

export default defineConfig({
  root: 'renderer',
  plugins: [preact()],
  // Relative asset URLs, so the bundle also loads from a file:// or a sub-path.
  base: './',
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    // Inline nothing as data: URLs: the daemon's CSP allows scripts and styles from 'self' only.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': daemon, '/v1': daemon } },
});
