/**
 * `node ../../scripts/build-service.ts` in a service's directory, after `tsc`: bundles src/server.ts and
 * everything it imports into dist/server.js (esbuild), the file `node dist/server.js` runs everywhere
 * (images, `pnpm bench`, the SIGTERM tests). Node then reads one file instead of ~950: the gateway's
 * process start to /ready 1,490 -> 978 ms (README, Design notes). tsc's output stays beside it for
 * `dist/migrate.js`.
 *
 * - Packages imported with `import()` (the docs UI, the build and compose routes' parsers) are in the
 *   same file and still run on first use only. No code splitting: esbuild's split-off chunk of a
 *   CommonJS package exports only `default`, so `const { parse } = await import('yaml')` found nothing
 *   (the compose deployment test caught it); inside one file `import()` gives the named exports as Node does.
 * - dockerode (the agent's) stays in node_modules: it reads its gRPC .proto files from its own
 *   directory at run time.
 * - swagger-ui's static files (the browser part of /docs) are copied to dist/swagger-ui/; the bundle
 *   passes that directory to @fastify/swagger-ui (service-kit's docs.ts, SWAGGER_UI_STATIC).
 * - Only whitespace and syntax are minified: identifiers keep their source names (esbuild renames one
 *   only where two modules' top-level names collide), so stack traces read as in the source.
 *   `keepNames`, which would also pin `.name` where one is renamed, held 2-3 MiB more idle RSS.
 */
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const service = process.cwd();
const dist = join(service, 'dist');
rmSync(join(dist, 'server.js.map'), { force: true }); // tsc's map of the file the bundle replaces
rmSync(join(dist, 'swagger-ui'), { recursive: true, force: true });

const fromServiceKit = createRequire(join(service, '../../packages/service-kit/package.json'));
cpSync(join(dirname(fromServiceKit.resolve('@fastify/swagger-ui/package.json')), 'static'), join(dist, 'swagger-ui'), {
  recursive: true,
});

await build({
  entryPoints: [join(service, 'src/server.ts')],
  outfile: join(dist, 'server.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // The workspace packages from their TypeScript sources (their `development` export).
  conditions: ['development'],
  external: ['dockerode'],
  minifyWhitespace: true,
  minifySyntax: true,
  // Licence comments go to dist/server.js.LEGAL.txt, linked from the file. Left at the end of the bundle, one
  // non-ASCII character among them (a name in undici's) made V8 hold the whole 4 MB source as two-byte
  // text: ~6 MiB more of the gateway's idle RSS.
  legalComments: 'linked',
  define: { SWAGGER_UI_STATIC: JSON.stringify('./swagger-ui') },
  // CommonJS packages inside an ES module bundle still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
