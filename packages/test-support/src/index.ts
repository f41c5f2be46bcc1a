export { dockerEngine } from './docker.ts';
export { eventually } from './eventually.ts';
export { type Fixture, useFixture } from './fixture.ts';
export { freshDatabase, mariadb } from './mariadb.ts';
export { freePort, freshRequest } from './net.ts';
export { REPO_ROOT, type SpawnedService, spawnService } from './process.ts';
export { REGISTRY, REGISTRY_IDENTITY_TOKEN, REGISTRY_NOBODY, REGISTRY_USER, requireRegistries } from './registry.ts';
export { dockerSocket, mysqlUrl, REQUIRE_SERVICES, realService, TEST_LOG_LEVEL, testLogStream } from './services.ts';
export { uid } from './uid.ts';
