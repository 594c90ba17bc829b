/** The HAR 1.2 JSON schema (the har-schema package) compiled with ajv: a validator for renderHar's output. */
import { createRequire } from 'node:module';
import net from 'node:net';

interface AjvLike {
  addMetaSchema(schema: object): void;
  addFormat(name: string, check: (s: string) => boolean): void;
  addSchema(schema: object): void;
  getSchema(id: string): HarValidator | undefined;
}

export type HarValidator = ((data: unknown) => boolean) & { errors?: unknown[] | null };

export function harValidator(): HarValidator {
  const require = createRequire(import.meta.url);
  const Ajv = (require('ajv') as { default: new (o: object) => AjvLike }).default;
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('ipv4', (s: string) => net.isIPv4(s));
  ajv.addFormat('ipv6', (s: string) => net.isIPv6(s));
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  for (const schema of Object.values(require('har-schema') as Record<string, object>)) ajv.addSchema(schema);
  return ajv.getSchema('har.json#')!;
}
