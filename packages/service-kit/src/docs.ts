import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export interface DocsOptions {
  title: string;
  version: string;
  description: string;
  /** Where the UI is served; the JSON document is at `${routePrefix}/json`. */
  routePrefix: string;
  tags: { name: string; description: string }[];
}

/** OpenAPI 3 generated from the zod route schemas, with Swagger UI beside it. */
async function docsPlugin(app: FastifyInstance, options: DocsOptions) {
  await app.register(swagger, {
    openapi: {
      info: { title: options.title, version: options.version, description: options.description },
      tags: options.tags,
      components: {
        securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: options.routePrefix });
}

export const docs = fp(docsPlugin, { name: 'docs' });
