import { exitOnConfigError, runServer } from '@repo/service-kit';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';

// Load config (environment + .env), build, listen, close on SIGTERM/SIGINT — nothing else happens here.
const config = await loadConfig().catch(exitOnConfigError('payment-gateway'));
const app = await buildApp(config);
await runServer(app, { host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
