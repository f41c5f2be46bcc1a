import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createRegistryClient, type RegistryClient } from '../registry/client.ts';
import { type RegistryAuth, RegistryCredentials } from '../registry/credentials.ts';

export interface RegistryPluginOptions {
  /** DOCKER_AGENT_REGISTRY_AUTH: credentials per registry host. */
  auth: Record<string, RegistryAuth>;
  /** DOCKER_AGENT_DOCKER_HUB_URL. */
  dockerHubUrl: string;
  now?: (() => number) | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Registry access: the configured credentials and the Registry HTTP API client. */
    registry: { credentials: RegistryCredentials; client: RegistryClient };
  }
}

async function registryPlugin(app: FastifyInstance, options: RegistryPluginOptions) {
  const credentials = new RegistryCredentials(options.auth);
  const client = createRegistryClient({
    dockerHubUrl: options.dockerHubUrl,
    credentials,
    now: options.now,
    // Host, status and timing only: the observer never sees a header, token or credential.
    onCall: (call) => app.log.debug({ registryCall: call }, 'registry call'),
  });
  app.decorate('registry', { credentials, client });
  app.addHook('onClose', async () => client.close());
}

export const registry = fp(registryPlugin, { name: 'registry' });
