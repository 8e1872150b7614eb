export default { build: { outDir: process.env.OUT ?? 'dist' } }
