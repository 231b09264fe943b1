import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Where `npm run dev` finds Sen's server (the API, the sign-in pages). */
const SEN = process.env.SEN_DEV_SERVER ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  server: {
    port: 5173,
    strictPort: true,
    proxy: Object.fromEntries(['/fhir', '/oidc', '/.well-known', '/api'].map((p) => [p, { target: SEN }])),
  },
});
