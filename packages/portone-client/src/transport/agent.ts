/// <reference path="./undici-agent.d.ts" />
import type { Agent as UndiciAgent } from 'undici';
import UndiciAgentClass from 'undici/lib/dispatcher/agent.js';

/**
 * undici's Agent from its own module: undici's index also loads fetch, WebSocket, EventSource, the
 * cache, the mock agents and the `request()` API, none of which a caller of {@link exchange} needs.
 * A gateway at idle is ~3 MiB smaller (RSS 95.1-96.9 against 98.5-99.9 MiB; bench/ idle target
 * < 100). undici has no exports map, so the path is reachable; the lockfile pins the version, and a
 * file that moved would fail this import, i.e. every test. A static import, so that the services'
 * bundles (scripts/build-service.ts) carry this module and no more of undici.
 */
export const Agent = UndiciAgentClass;
export type Agent = UndiciAgent;
