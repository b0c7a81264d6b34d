// Vitest config for connect-redis 10.0.0's index_test.ts, run in a temp dir by run.js (its own
// vite.config.ts needs vite 8 and vite-plugin-dts, which only build the package).
export default {
  test: {
    include: ["index_test.ts"],
    testTimeout: 60000,
    hookTimeout: 60000,
    server: {deps: {external: [/connect-redis-rs/, /node_modules/]}},
  },
}
