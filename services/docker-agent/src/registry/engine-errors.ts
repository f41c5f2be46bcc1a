import type { AppError } from '@repo/service-kit';
import { RegistryDeniedError, RegistryUnauthorizedError } from '../errors.ts';
import { locateImage } from './reference.ts';

// What the engine says when a registry refuses it (Distribution's error codes, the engine's own words).
const UNAUTHORIZED = /no basic auth credentials|unauthorized: |authentication required|incorrect username or password/i;
const DENIED = /denied: requested access to the resource is denied|\bdenied: /i;

/**
 * A pull the registry refused for want of (good) credentials, as a 401/403 naming the registry, or
 * undefined for any other failure. Docker Hub answers "denied" also for repositories that do not
 * exist; the message says both.
 */
export function registryRefusal(image: string, message: string): AppError | undefined {
  const { registry } = locateImage(image);
  if (UNAUTHORIZED.test(message)) {
    return new RegistryUnauthorizedError(`registry ${registry} refused the pull of "${image}": ${message}`, {
      details: { image, registry },
    });
  }
  if (DENIED.test(message)) {
    return new RegistryDeniedError(
      `registry ${registry} denied the pull of "${image}" (no access with these credentials, or no such repository): ${message}`,
      { details: { image, registry } },
    );
  }
  return undefined;
}
