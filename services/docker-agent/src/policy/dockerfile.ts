import { PolicyDeniedError } from '../errors.ts';
import { checkReservedLabels } from './labels.ts';
import { type Policy, RULES } from './policy.ts';

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * What a Dockerfile makes the engine fetch or stamp, held to the policy: every image it starts from
 * (`FROM`, `COPY --from=<image>`, `RUN --mount=from=<image>`) to the image allowlist, and its `LABEL`s to
 * the reserved labels (containers inherit their image's labels). Build arguments cannot be passed
 * through the API, so a variable resolves to its global `ARG` default or not at all; what does not
 * resolve is refused rather than guessed. `field` names the file (`dockerfile:Dockerfile`).
 */
export async function checkDockerfile(
  text: string,
  policy: Policy,
  protectLabel: string,
  field: string,
): Promise<void> {
  const { DockerfileParser } = await import('dockerfile-ast'); // loaded by the build route only
  const dockerfile = DockerfileParser.parse(text);
  const defaults = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    const value = property?.getValue();
    if (property && value !== null && value !== undefined) defaults.set(property.getName(), value);
  }
  const stages: string[] = [];
  const at = (line: number) => `${field}:${line + 1}`;

  const checkSource = (raw: string, line: number, what: string) => {
    const image = raw.replace(
      VARIABLE,
      (whole, braced?: string, bare?: string) => defaults.get(braced ?? bare ?? '') ?? whole,
    );
    if (image.includes('$')) {
      throw new PolicyDeniedError(RULES.image, at(line), `${what} "${raw}" cannot be resolved without build arguments`);
    }
    const lower = image.toLowerCase();
    if (lower === 'scratch' || stages.includes(lower) || /^\d+$/.test(image)) return;
    policy.checkImage([image], at(line));
  };

  for (const instruction of dockerfile.getInstructions()) {
    const line = instruction.getRange().start.line;
    const keyword = instruction.getKeyword().toUpperCase();
    if (keyword === 'FROM') {
      const from = dockerfile.getFROMs().find((f) => f.getRange().start.line === line);
      checkSource(from?.getImage() ?? '', line, 'FROM image');
      const stage = from?.getBuildStage();
      if (stage) stages.push(stage.toLowerCase());
      continue;
    }
    // A trigger runs in every build FROM this image: its sources and labels are held to the same rules now.
    const checked =
      keyword === 'ONBUILD'
        ? ((instruction as unknown as { getTriggerInstruction(): typeof instruction | null }).getTriggerInstruction() ??
          instruction)
        : instruction;
    const flags =
      'getFlags' in checked ? (checked.getFlags as () => { getName(): string; getValue(): string | null }[])() : [];
    for (const flag of flags) {
      const value = flag.getValue() ?? '';
      if (flag.getName() === 'from') checkSource(value, line, `${keyword} --from`);
      if (flag.getName() === 'mount') {
        const from = value.split(',').find((part) => part.startsWith('from='));
        if (from) checkSource(from.slice('from='.length), line, 'RUN --mount from');
      }
    }
    if (checked.getKeyword().toUpperCase() === 'LABEL' && 'getProperties' in checked) {
      const properties = (checked.getProperties as () => { getName(): string; getValue(): string | null }[])();
      const labels = Object.fromEntries(properties.map((p) => [p.getName(), p.getValue() ?? '']));
      for (const key of Object.keys(labels)) {
        if (key.includes('$')) {
          throw new PolicyDeniedError(RULES.reservedLabel, at(line), `LABEL key "${key}" cannot be resolved`);
        }
      }
      checkReservedLabels(labels, protectLabel, `${at(line)} LABEL`);
    }
  }
}
