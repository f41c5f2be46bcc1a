import { join } from 'node:path';
import { describeServerConfig, dockerSocket } from '@repo/test-support';

describeServerConfig({
  service: 'docker-agent',
  portVariable: 'DOCKER_AGENT_PORT',
  envFile: (workspace) => [
    'DOCKER_AGENT_HOST=127.0.0.1',
    `DOCKER_SOCKET=${dockerSocket()}`,
    `DOCKER_AGENT_AUDIT_FILE=${join(workspace, 'audit.jsonl')}`,
    `DOCKER_AGENT_COMPOSE_DIR=${join(workspace, 'compose')}`,
    'DOCKER_AGENT_SELF_CONTAINER=',
  ],
  docsPrefix: '/api/v1/docs/agent',
  bad: { variable: 'DOCKER_AGENT_MAX_STREAMS', value: 'many' },
});
