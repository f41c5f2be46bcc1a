import { describe, expect, it } from 'vitest';
import { projectsFromContainers } from '../../src/compose/projects.ts';
import type { ContainerInfo } from '../../src/docker/engine.ts';

const container = (project: string, service: string, state: string, status: string, oneoff = false) =>
  ({
    Id: `${project}-${service}-${state}`,
    Names: [`/${project}_${service}_1`],
    State: state,
    Status: status,
    Labels: {
      'com.docker.compose.project': project,
      'com.docker.compose.service': service,
      'com.docker.compose.oneoff': oneoff ? 'True' : 'False',
      'com.docker.compose.project.working_dir': `/srv/${project}`,
    },
  }) as unknown as ContainerInfo;

describe('compose project status', () => {
  it('counts a one-shot that exited 0 as completed, not failed', () => {
    const [p] = projectsFromContainers(
      [
        container('a', 'web', 'running', 'Up 5 seconds'),
        container('a', 'migrate', 'exited', 'Exited (0) 3 seconds ago'),
      ],
      new Set(),
    );
    expect(p).toMatchObject({ name: 'a', managed: false, status: 'running', workingDir: '/srv/a' });
    expect(p?.services.map((s) => [s.name, s.status])).toEqual([
      ['migrate', 'completed'],
      ['web', 'running'],
    ]);
  });

  it('tells failed, stopped, degraded and down apart, and ignores one-off run containers', () => {
    const projects = projectsFromContainers(
      [
        container('b', 'web', 'running', 'Up'),
        container('b', 'worker', 'exited', 'Exited (2) 1 second ago'),
        container('c', 'web', 'exited', 'Exited (137) 1 minute ago'),
        container('d', 'web', 'running', 'Up'),
        container('d', 'web', 'exited', 'Exited (1) now', true),
      ],
      new Set(['e']),
    );
    const status = Object.fromEntries(projects.map((p) => [p.name, p.status]));
    expect(status).toEqual({ b: 'degraded', c: 'stopped', d: 'running', e: 'down' });
    expect(projects.find((p) => p.name === 'd')?.oneoffContainers).toBe(1);
    expect(projects.find((p) => p.name === 'e')?.managed).toBe(true);
  });
});
