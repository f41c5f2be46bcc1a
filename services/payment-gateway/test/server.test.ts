import { join } from 'node:path';
import { describeServerConfig } from '@repo/test-support';

describeServerConfig({
  service: 'payment-gateway',
  portVariable: 'GATEWAY_PORT',
  envFile: (workspace) => [
    'GATEWAY_HOST=127.0.0.1',
    `DATABASE_URL=sqlite:${join(workspace, 'gateway.sqlite')}`,
    'RECONCILE_INTERVAL_SECONDS=0',
    'PORTONE_TIER=',
  ],
  docsPrefix: '/api/v1/docs/gateway',
  bad: { variable: 'NOTIFY_CONCURRENCY', value: 'many' },
});
