import { AppError, defineError } from '@repo/service-kit';

/**
 * The agent's error catalog. Every error a route means to send is one of these (or service-kit's
 * generic ones); `src/docker/errors.ts` translates what dockerode throws into them.
 */

/** A policy rule refused the request; `rule` and `field` say which and where. */
export class PolicyDeniedError extends AppError {
  readonly rule: string;
  readonly field: string;
  constructor(rule: string, field: string, message: string) {
    super('POLICY_DENIED', 403, `policy ${rule}: ${message}`, { details: { rule, field } });
    this.name = 'PolicyDeniedError';
    this.rule = rule;
    this.field = field;
  }
}

export const DockerUnavailableError = defineError('DOCKER_UNAVAILABLE', 503, 'Docker engine unreachable');
export const DockerNotFoundError = defineError('NOT_FOUND', 404, 'No such resource');
export const DockerConflictError = defineError('CONFLICT', 409, 'Conflict');
export const DockerRejectedError = defineError('DOCKER_REJECTED', 400, 'Docker rejected the request');
export const DockerError = defineError('DOCKER_ERROR', 502, 'Docker engine error');
export const ImageNotFoundError = defineError('IMAGE_NOT_FOUND', 404, 'Image not found');
export const PullFailedError = defineError('PULL_FAILED', 502, 'Image pull failed');
export const BuildFailedError = defineError('BUILD_FAILED', 422, 'Image build failed');
export const BuildContextInvalidError = defineError('BUILD_CONTEXT_INVALID', 400, 'Invalid build context');
export const ContextTooLargeError = defineError('BUILD_CONTEXT_TOO_LARGE', 413, 'Build context too large');
export const ComposeInvalidError = defineError('COMPOSE_INVALID', 422, 'Invalid compose file');
export const ComposeUnavailableError = defineError('COMPOSE_UNAVAILABLE', 503, 'No compose CLI');
export const ProjectNotFoundError = defineError('PROJECT_NOT_FOUND', 404, 'No such compose project');
export const ProjectNotManagedError = defineError('PROJECT_NOT_MANAGED', 409, 'Project not managed by this agent');
export const ProjectExistsError = defineError('PROJECT_EXISTS', 409, 'Project exists');
export const UnsupportedMediaTypeError = defineError('UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported media type');
export const ComposeFailedError = defineError('COMPOSE_FAILED', 502, 'Compose command failed');
export const TooManyStreamsError = defineError('TOO_MANY_STREAMS', 429, 'Too many open streams');
export const LogsTooLargeError = defineError('LOGS_TOO_LARGE', 422, 'Logs too large');
export const RegistryUnauthorizedError = defineError(
  'REGISTRY_UNAUTHORIZED',
  401,
  'Registry credentials missing or wrong',
);
export const RegistryDeniedError = defineError('REGISTRY_DENIED', 403, 'Registry denied access');
export const RegistryUnavailableError = defineError('REGISTRY_UNAVAILABLE', 502, 'Registry unreachable or failing');
