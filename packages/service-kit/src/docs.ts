import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
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

/** OpenAPI 3 generated from the zod route schemas, with Swagger UI beside it. */
async function docsPlugin(app: FastifyInstance, options: DocsOptions) {
  await app.register(swagger, {
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
  // The UI and the document are public: their routes get `security: []`, which `auth` reads.
  await app.register(async (ui) => {
    ui.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, security: [] };
    });
    await ui.register(swaggerUi, { routePrefix: options.routePrefix });
  });
}

export const docs = fp(docsPlugin, { name: 'docs' });
