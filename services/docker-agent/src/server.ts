import { ConfigError, runServer } from '@repo/service-kit';
import { buildApp } from './app.ts';
import { loadAgentConfig } from './config.ts';

let config: ReturnType<typeof loadAgentConfig>;
try {
  config = loadAgentConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`docker-agent: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const app = await buildApp(config);
await runServer(app, { host: config.host, port: config.port });
