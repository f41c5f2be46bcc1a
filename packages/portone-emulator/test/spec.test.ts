/**
 * Every successful V1 route's answer validated against the object its 200 answer is declared as in
 * PortOne's published V1 description. The facts (field names, types, required lists, maxLength) sit in
 * fixtures/portone-v1.json with their source; scripts/portone-v1-fixture.ts regenerates them. The
 * test turns them into JSON Schema with these documented adjustments:
 *   - `PaymentPrepareAnnotation.required` lists total/previous/next, a slip in PortOne's description
 *     (those belong to paged lists): it becomes merchant_uid, amount;
 *   - Swagger 2.0 cannot say "nullable"; PortOne answers `null` for absent optional fields, so
 *     non-required fields also accept null. Required ones never do;
 *   - `*Annotation` objects get `additionalProperties: false`, so the emulator cannot invent fields;
 *   - schedule listings are paged (all official clients read them paged), so they are checked as
 *     `{ total, previous, next, list: ScheduleResultAnnotation[] }`;
 *   - `GET|POST|DELETE /subscribe/customers/{customer_uid}` declare a 200 object that names both
 *     possible envelopes as fields; a normal billing key answers `CustomerResponse`.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { cardBody, type Json, T0, useHarness } from './helpers.ts';

interface FieldType {
  type?: string;
  ref?: string;
  items?: FieldType;
  fields?: Record<string, FieldType>;
  required?: string[];
  [keyword: string]: unknown;
}
interface ObjectType {
  extends?: string[];
  fields?: Record<string, FieldType>;
  required?: string[];
}
interface Fixture {
  responses: Record<string, FieldType>;
  objects: Record<string, ObjectType>;
}
const fixture = JSON.parse(readFileSync(new URL('fixtures/portone-v1.json', import.meta.url), 'utf8')) as Fixture;

type Schema = Record<string, unknown>;
const ref = (name: string) => ({ $ref: `v1#/$defs/${name}` });

function objectSchema(fields: Record<string, FieldType>, required: string[], closed: boolean): Schema {
  const properties: Schema = {};
  for (const [name, field] of Object.entries(fields)) {
    properties[name] = required.includes(name) ? fieldSchema(field) : { anyOf: [fieldSchema(field), { type: 'null' }] };
  }
  return {
    type: 'object',
    properties,
    ...(required.length ? { required } : {}),
    ...(closed ? { additionalProperties: false } : {}),
  };
}

function fieldSchema(field: FieldType): Schema {
  if (field.ref) return ref(field.ref);
  const { ref: _ref, items, fields, required, ...keywords } = field;
  if (fields) return objectSchema(fields, required ?? [], false);
  return { ...keywords, ...(items ? { items: fieldSchema(items) } : {}) };
}

function definition(name: string, object: ObjectType): Schema {
  const required = name === 'PaymentPrepareAnnotation' ? ['merchant_uid', 'amount'] : (object.required ?? []);
  const closed = name.endsWith('Annotation') && name !== 'ResponseAnnotation';
  const own = objectSchema(object.fields ?? {}, required, closed);
  return object.extends ? { allOf: [...object.extends.map(ref), own] } : own;
}

let ajv: Ajv;
const h = useHarness(
  { merchants: [{ impKey: 'imp_emulator_key', impSecret: 'imp_emulator_secret', tiers: { '001': 'A' } }] },
  { resetEach: false },
);

function loadSpec() {
  const $defs = Object.fromEntries(Object.entries(fixture.objects).map(([k, v]) => [k, definition(k, v)]));
  ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  ajv.addSchema({ $id: 'v1', $defs });
}

const pagedSchedules = {
  allOf: [
    ref('ResponseAnnotation'),
    {
      type: 'object',
      properties: {
        response: {
          type: 'object',
          required: ['total', 'previous', 'next', 'list'],
          additionalProperties: false,
          properties: {
            total: { type: 'integer' },
            previous: { type: 'integer' },
            next: { type: 'integer' },
            list: { type: 'array', items: ref('ScheduleResultAnnotation') },
          },
        },
      },
    },
  ],
};

const validators = new Map<string, ValidateFunction>();
function validatorFor(method: string, specPath: string, override?: object): ValidateFunction {
  const key = `${method} ${specPath}`;
  let validate = validators.get(key);
  if (!validate) {
    let schema: object | undefined = override;
    if (!schema) {
      const target = fixture.responses[key]?.ref;
      if (!target) throw new Error(`the fixture declares no named 200 object for ${key}`);
      schema = ref(target);
    }
    validate = ajv.compile(schema);
    validators.set(key, validate);
  }
  return validate;
}

const checked: string[] = [];
function expectValid(method: string, specPath: string, res: { status: number; body: Json }, override?: object) {
  expect(res.status, `${method} ${specPath}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  expect(res.body.code, `${method} ${specPath}: ${res.body.message}`).toBe(0);
  const validate = validatorFor(method, specPath, override);
  const valid = validate(res.body);
  expect(valid ? [] : validate.errors, `${method} ${specPath}`).toEqual([]);
  checked.push(`${method} ${specPath}`);
}

beforeAll(loadSpec);

describe('responses match the PortOne V1 spec', () => {
  it('the adjusted spec still rejects wrong shapes (the validator can fail)', () => {
    const validate = validatorFor('GET', '/payments/{imp_uid}');
    expect(validate({ code: 0, message: null, response: { imp_uid: 'imp_1', merchant_uid: 'x' } })).toBe(false);
    expect(
      validate({
        code: 0,
        message: null,
        response: {
          imp_uid: 'imp_1',
          merchant_uid: 'x',
          amount: '1',
          cancel_amount: 0,
          currency: 'KRW',
          status: 'paid',
          sandbox: false,
        },
      }),
    ).toBe(false);
    expect(
      validate({
        code: 0,
        message: null,
        response: {
          imp_uid: 'imp_1',
          merchant_uid: 'x',
          amount: 1,
          cancel_amount: 0,
          currency: 'KRW',
          status: 'paid',
          sandbox: false,
          invented: 1,
        },
      }),
    ).toBe(false);
    expect(
      validate({
        code: 0,
        message: null,
        response: {
          imp_uid: 'imp_1',
          merchant_uid: 'x',
          amount: 1,
          cancel_amount: 0,
          currency: 'KRW',
          status: 'paid',
          sandbox: false,
          name: null,
        },
      }),
    ).toBe(true);
  });

  it('every successful V1 route', async () => {
    const token = await h.raw('POST', '/users/getToken', {
      body: { imp_key: 'imp_emulator_key', imp_secret: 'imp_emulator_secret' },
    });
    expectValid('POST', '/users/getToken', token);
    const api = (method: string, path: string, body?: unknown) =>
      h.api(method, path, { body, token: token.body.response.access_token });

    const card = await h.checkout({
      merchant_uid: 'spec-card',
      amount: 1000,
      name: 'n',
      buyer_name: 'b',
      custom_data: { a: 1 },
    });
    const vbank = await h.checkout({ merchant_uid: 'spec-vbank', amount: 2000, pay_method: 'vbank' });
    expectValid('GET', '/payments/{imp_uid}', await api('GET', `/payments/${card.imp_uid}`));
    expectValid('GET', '/payments/{imp_uid}', await api('GET', `/payments/${vbank.imp_uid}`));
    expectValid(
      'GET',
      '/payments/{imp_uid}',
      await h.control('POST', '/checkout', { merchant_uid: 'spec-trans', amount: 5, pay_method: 'trans' }),
    );
    expectValid('GET', '/payments', await api('GET', `/payments?imp_uid[]=${card.imp_uid}&merchant_uid[]=spec-vbank`));
    expectValid('GET', '/payments/find/{merchant_uid}/{payment_status}', await api('GET', '/payments/find/spec-card'));
    expectValid(
      'GET',
      '/payments/find/{merchant_uid}/{payment_status}',
      await api('GET', '/payments/find/spec-card/paid'),
    );
    expectValid(
      'GET',
      '/payments/findAll/{merchant_uid}/{payment_status}',
      await api('GET', '/payments/findAll/spec-card'),
    );
    expectValid('GET', '/payments/status/{payment_status}', await api('GET', '/payments/status/all'));

    expectValid(
      'POST',
      '/payments/cancel',
      await api('POST', '/payments/cancel', { imp_uid: card.imp_uid, amount: 100, checksum: 1000 }),
    );
    expectValid(
      'POST',
      '/payments/cancel',
      await api('POST', '/payments/cancel', { imp_uid: card.imp_uid, reason: 'rest' }),
    );

    expectValid(
      'POST',
      '/payments/prepare',
      await api('POST', '/payments/prepare', { merchant_uid: 'spec-pre', amount: 10 }),
    );
    expectValid(
      'PUT',
      '/payments/prepare',
      await api('PUT', '/payments/prepare', { merchant_uid: 'spec-pre', amount: 20, currency: 'KRW' }),
    );
    expectValid('GET', '/payments/prepare/{merchant_uid}', await api('GET', '/payments/prepare/spec-pre'));

    const issued = await api('POST', '/vbanks', {
      merchant_uid: 'spec-vb',
      amount: 100,
      vbank_code: '088',
      vbank_due: T0 + 3600,
    });
    expectValid('POST', '/vbanks', issued);
    expectValid(
      'PUT',
      '/vbanks/{imp_uid}',
      await api('PUT', `/vbanks/${issued.body.response.imp_uid}`, { amount: 300 }),
    );
    expectValid('DELETE', '/vbanks/{imp_uid}', await api('DELETE', `/vbanks/${issued.body.response.imp_uid}`));
    await h.control('POST', `/vbanks/${vbank.imp_uid}/deposit`, {});
    expectValid(
      'POST',
      '/payments/cancel',
      await api('POST', '/payments/cancel', {
        imp_uid: vbank.imp_uid,
        refund_holder: 'h',
        refund_bank: 'BK04',
        refund_account: '123',
      }),
    );

    const customerEnvelope = ref('CustomerResponse');
    expectValid(
      'POST',
      '/subscribe/customers/{customer_uid}',
      await api('POST', '/subscribe/customers/spec-c', cardBody({ customer_name: 'n' })),
      customerEnvelope,
    );
    expectValid(
      'GET',
      '/subscribe/customers/{customer_uid}',
      await api('GET', '/subscribe/customers/spec-c'),
      customerEnvelope,
    );
    expectValid('GET', '/subscribe/customers', await api('GET', '/subscribe/customers?customer_uid[]=spec-c'));
    expectValid(
      'POST',
      '/subscribe/payments/again',
      await api('POST', '/subscribe/payments/again', {
        customer_uid: 'spec-c',
        merchant_uid: 'spec-again',
        amount: 100,
        name: 'n',
      }),
    );
    expectValid(
      'POST',
      '/subscribe/payments/again',
      await api('POST', '/subscribe/payments/again', {
        customer_uid: 'spec-c',
        merchant_uid: 'spec-decl',
        amount: 4004,
      }),
    );
    expectValid(
      'POST',
      '/subscribe/payments/onetime',
      await api('POST', '/subscribe/payments/onetime', cardBody({ merchant_uid: 'spec-one', amount: 100 })),
    );
    expectValid(
      'GET',
      '/subscribe/customers/{customer_uid}/payments',
      await api('GET', '/subscribe/customers/spec-c/payments'),
    );

    const sched = await api('POST', '/subscribe/payments/schedule', {
      customer_uid: 'spec-c',
      schedules: [
        { merchant_uid: 'spec-s1', schedule_at: T0 + 60, amount: 100, name: 'n' },
        { merchant_uid: 'spec-s2', schedule_at: T0 + 120, amount: 100, name: 'n' },
        { merchant_uid: 'spec-s3', schedule_at: T0 + 180, amount: 100, name: 'n' },
      ],
    });
    expectValid('POST', '/subscribe/payments/schedule', sched);
    expectValid(
      'PUT',
      '/subscribe/payments/schedule/{merchant_uid}',
      await api('PUT', '/subscribe/payments/schedule/spec-s3', { schedule_at: T0 + 240 }),
    );
    expectValid(
      'POST',
      '/subscribe/payments/unschedule',
      await api('POST', '/subscribe/payments/unschedule', { merchant_uid: ['spec-s2'] }),
    );
    await h.advance(60);
    expectValid(
      'GET',
      '/subscribe/payments/schedule/{merchant_uid}',
      await api('GET', '/subscribe/payments/schedule/spec-s1'),
    );
    expectValid(
      'GET',
      '/subscribe/payments/schedule/{merchant_uid}',
      await api('GET', '/subscribe/payments/schedule/spec-s3'),
    );
    const window = `from=${T0}&to=${T0 + 3600}`;
    expectValid(
      'GET',
      '/subscribe/payments/schedule/customers/{customer_uid}',
      await api('GET', `/subscribe/payments/schedule/customers/spec-c?${window}`),
      pagedSchedules,
    );
    expectValid(
      'GET',
      '/subscribe/customers/{customer_uid}/schedules',
      await api('GET', `/subscribe/customers/spec-c/schedules?${window}`),
      pagedSchedules,
    );
    expectValid(
      'GET',
      '/subscribe/payments/schedule',
      await api('GET', `/subscribe/payments/schedule?schedule_from=${T0}&schedule_to=${T0 + 3600}`),
      pagedSchedules,
    );
    expectValid('GET', '/tiers/{tier_code}', await api('GET', '/tiers/001'));
    expectValid(
      'DELETE',
      '/subscribe/customers/{customer_uid}',
      await api('DELETE', '/subscribe/customers/spec-c'),
      customerEnvelope,
    );

    // Every V1 route the emulator serves (find/findAll with and without status share one spec path).
    expect([...new Set(checked)].sort()).toEqual(
      [
        'POST /users/getToken',
        'GET /tiers/{tier_code}',
        'GET /payments',
        'GET /payments/{imp_uid}',
        'GET /payments/find/{merchant_uid}/{payment_status}',
        'GET /payments/findAll/{merchant_uid}/{payment_status}',
        'GET /payments/status/{payment_status}',
        'POST /payments/cancel',
        'POST /payments/prepare',
        'PUT /payments/prepare',
        'GET /payments/prepare/{merchant_uid}',
        'POST /vbanks',
        'PUT /vbanks/{imp_uid}',
        'DELETE /vbanks/{imp_uid}',
        'GET /subscribe/customers',
        'POST /subscribe/customers/{customer_uid}',
        'GET /subscribe/customers/{customer_uid}',
        'DELETE /subscribe/customers/{customer_uid}',
        'GET /subscribe/customers/{customer_uid}/payments',
        'GET /subscribe/customers/{customer_uid}/schedules',
        'POST /subscribe/payments/onetime',
        'POST /subscribe/payments/again',
        'POST /subscribe/payments/schedule',
        'GET /subscribe/payments/schedule',
        'POST /subscribe/payments/unschedule',
        'GET /subscribe/payments/schedule/{merchant_uid}',
        'PUT /subscribe/payments/schedule/{merchant_uid}',
        'GET /subscribe/payments/schedule/customers/{customer_uid}',
      ].sort(),
    );
  });
});
