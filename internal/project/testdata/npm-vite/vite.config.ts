import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// https://vite.dev/config/
export default defineConfig({
  plugins: [react()],
  build: {
    // outDir: 'old-dist',
    outDir: './site-dist',
    sourcemap: true,
  },
})
