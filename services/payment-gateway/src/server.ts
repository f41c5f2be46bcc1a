import { ConfigError, runServer } from '@repo/service-kit';
import { buildApp } from './app.ts';
import { type Config, readConfig } from './config.ts';

// Load config, build, listen, close on SIGTERM/SIGINT — nothing else happens here.
let config: Config;
try {
  config = readConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`payment-gateway: ${error.message}`);
  process.exit(1);
}
const app = await buildApp(config);
await runServer(app, { host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
