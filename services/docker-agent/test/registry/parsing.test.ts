import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../src/registry/challenge.ts';
import { locateImage } from '../../src/registry/reference.ts';

describe('image references, as Docker reads them', () => {
  it.each([
    ['redis', 'docker.io', 'library/redis', 'latest'],
    ['redis:7', 'docker.io', 'library/redis', '7'],
    ['bitnami/redis:7', 'docker.io', 'bitnami/redis', '7'],
    ['docker.io/redis', 'docker.io', 'library/redis', 'latest'],
    ['index.docker.io/library/redis:7', 'docker.io', 'library/redis', '7'],
    ['ghcr.io/org/app:1.2', 'ghcr.io', 'org/app', '1.2'],
    ['127.0.0.1:5101/app', '127.0.0.1:5101', 'app', 'latest'],
    ['localhost/app:dev', 'localhost', 'app', 'dev'],
    [`ghcr.io/org/app@sha256:${'a'.repeat(64)}`, 'ghcr.io', 'org/app', `sha256:${'a'.repeat(64)}`],
  ])('%s → %s %s %s', (ref, registry, repository, reference) => {
    expect(locateImage(ref)).toMatchObject({ registry, repository, reference });
  });
});

describe('WWW-Authenticate challenges', () => {
  it('reads a Bearer challenge with realm, service, scope and error', () => {
    const header =
      'Bearer realm="http://127.0.0.1:5103/token",service="stack-registry",scope="repository:a/b:pull",error="insufficient_scope"';
    expect(parseChallenge({ 'www-authenticate': header })).toEqual({
      scheme: 'bearer',
      realm: 'http://127.0.0.1:5103/token',
      service: 'stack-registry',
      scope: 'repository:a/b:pull',
      error: 'insufficient_scope',
    });
  });

  it('reads Basic, and ignores schemes it does not know', () => {
    expect(parseChallenge({ 'www-authenticate': 'Basic realm="stack-registry"' })).toMatchObject({ scheme: 'basic' });
    expect(parseChallenge({ 'www-authenticate': 'Negotiate abc' })).toBeUndefined();
    expect(parseChallenge({})).toBeUndefined();
  });
});
