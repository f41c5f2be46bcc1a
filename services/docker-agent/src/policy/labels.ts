import { PolicyDeniedError } from '../errors.ts';
import { RULES } from './policy.ts';

/**
 * Labels only the agent and compose may set: the protect label (a caller could make containers the
 * agent never stops) and `com.docker.compose.*` (a caller could make a container part of another
 * project, the agent's own included, or point compose at other files).
 */
export function isReservedLabel(key: string, protectLabel: string): boolean {
  return key === protectLabel || key.startsWith('com.docker.compose.');
}

/** Refuses labels a caller may not set; `field` is where they came from (`labels`, `Dockerfile LABEL`). */
export function checkReservedLabels(
  labels: Record<string, string> | undefined | null,
  protectLabel: string,
  field: string,
): void {
  for (const key of Object.keys(labels ?? {})) {
    if (isReservedLabel(key, protectLabel)) {
      throw new PolicyDeniedError(
        RULES.reservedLabel,
        `${field}.${key}`,
        `label "${key}" is reserved (the protect label and com.docker.compose.* are set by the agent and compose only)`,
      );
    }
  }
}
