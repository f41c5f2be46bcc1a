import { request } from 'node:http';
import { dockerSocket, realService } from './services.ts';

/**
 * Probes the Docker engine (`GET /_ping` on its socket) once per file: missing locally, the file's
 * tests are skipped with a reason; with STACK_REQUIRE_SERVICES=1 (CI) the run fails instead.
 */
export async function dockerEngine(): Promise<true | undefined> {
  return realService('Docker engine', () => {
    return new Promise<true>((resolve, reject) => {
      const req = request({ socketPath: dockerSocket(), path: '/_ping' }, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve(true);
        else reject(new Error(`/_ping answered ${res.statusCode}`));
      });
      req.on('error', reject);
      req.setTimeout(5000, () => req.destroy(new Error('no answer from /_ping in 5 s')));
      req.end();
    });
  });
}
