import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** The parts of an OpenAPI 3 document the touch-ups below read and write. */
export interface OpenApiDocument {
  paths?: Record<string, Record<string, OpenApiOperation>>;
  [key: string]: unknown;
}
export interface OpenApiOperation {
  parameters?: { in: string; name: string }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: unknown }> };
  responses?: Record<string, { description?: string; headers?: Record<string, unknown>; [key: string]: unknown }>;
  [key: string]: unknown;
}

export interface DocsOptions {
  title: string;
  /** The service's version: its package.json's. */
  version: string;
  description: string;
  /** Where the UI is served; the JSON document is at `${routePrefix}/json`. */
  routePrefix: string;
  tags: { name: string; description: string }[];
  /** What the route schemas cannot say (a raw body, a response header), applied last. */
  finish?: (document: OpenApiDocument) => void;
}

/**
 * List routes are registered as `prefix + '/'` and answer with and without the slash; the document
 * names the form callers use, without it.
 */
function withoutTrailingSlashes(document: OpenApiDocument): void {
  if (!document.paths) return;
  document.paths = Object.fromEntries(
    Object.entries(document.paths).map(([path, item]) => [path.length > 1 ? path.replace(/\/$/, '') : path, item]),
  );
}

/**
 * Set to a path relative to the bundle by scripts/build-service.ts, which copies swagger-ui's static
 * files there; unbundled, the identifier is undeclared and @fastify/swagger-ui finds its own files.
 */
declare const SWAGGER_UI_STATIC: string | undefined;

/** In a bundle, swagger-ui's files (and its logo, which it would read beside its own module) from the copy. */
function bundledStaticFiles(): { baseDir: string; logo: { type: string; content: Buffer } } | undefined {
  if (typeof SWAGGER_UI_STATIC !== 'string') return undefined;
  const baseDir = fileURLToPath(new URL(SWAGGER_UI_STATIC, import.meta.url));
  return { baseDir, logo: { type: 'image/svg+xml', content: readFileSync(`${baseDir}/logo.svg`) } };
}

/**
 * A Fastify instance serving only the document and the UI: @fastify/swagger and @fastify/swagger-ui
 * with the app's routes registered again (schemas only). Built on the first docs request: the two
 * plugins, YAML, @fastify/static and their dependencies would otherwise stay loaded in every process
 * that never serves the docs (~3 MiB of RSS).
 */
async function buildDocsApp(routes: RouteOptions[], options: DocsOptions): Promise<FastifyInstance> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  const docsApp = Fastify({ exposeHeadRoutes: false });
  // The schemas are read for the document, never used to validate or serialise here.
  docsApp.setValidatorCompiler(() => () => true);
  docsApp.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await docsApp.register(swagger, {
    openapi: {
      info: { title: options.title, version: options.version, description: options.description },
      // Relative: the document is served by the front (or the service) it describes.
      servers: [{ url: '/', description: 'this host: the nginx front, or the service itself' }],
      tags: options.tags,
      components: {
        securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => {
      const document = jsonSchemaTransformObject(input) as OpenApiDocument;
      withoutTrailingSlashes(document);
      options.finish?.(document);
      return document as ReturnType<typeof jsonSchemaTransformObject>;
    },
  });
  await docsApp.register(swaggerUi, { routePrefix: options.routePrefix, ...bundledStaticFiles() });
  for (const route of routes) {
    docsApp.route({ method: route.method, url: route.url, schema: route.schema, handler: async () => null });
  }
  await docsApp.ready();
  return docsApp;
}

/** Hop-by-hop headers of the inner answer, which the outer reply sets for itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);

/**
 * OpenAPI 3 generated from the zod route schemas, with Swagger UI beside it, under `routePrefix`.
 * Every route registered after this plugin is recorded as it is added; the document and the UI are
 * served by buildDocsApp's instance, made on the first request.
 */
async function docsPlugin(app: FastifyInstance, options: DocsOptions) {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(options.routePrefix) && !route.schema?.hide) routes.push(route);
  });
  let docsApp: Promise<FastifyInstance> | undefined;
  // The UI and the document are public: `security: []`, which `auth` reads.
  for (const url of [options.routePrefix, `${options.routePrefix}/*`]) {
    app.get(url, { schema: { hide: true, security: [] } }, async (request, reply) => {
      docsApp ??= buildDocsApp(routes, options);
      const inner = await (await docsApp).inject({
        method: 'GET',
        url: request.url,
        headers: request.headers,
      });
      // A path the docs do not have gets the service's own 404 (a problem body), not the inner one.
      if (inner.statusCode === 404) return reply.callNotFound();
      for (const [name, value] of Object.entries(inner.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value);
      }
      return reply.code(inner.statusCode).send(inner.rawPayload.length > 0 ? inner.rawPayload : undefined);
    });
  }
}

export const docs = fp(docsPlugin, { name: 'docs' });
