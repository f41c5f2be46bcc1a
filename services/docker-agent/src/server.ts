import { exitOnConfigError, runServer } from '@repo/service-kit';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';

// Load config (environment + .env), build, listen, close on SIGTERM/SIGINT — nothing else happens here.
const config = await loadConfig().catch(exitOnConfigError('docker-agent'));
const app = await buildApp(config);
await runServer(app, { host: config.DOCKER_AGENT_HOST, port: config.DOCKER_AGENT_PORT });
