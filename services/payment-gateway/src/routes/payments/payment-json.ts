/**
 * A payment's JSON text, made once per payment object. A lookup compares PortOne's answer with the
 * stored copy by this text (StoredSnapshots) and then answers the same payment: serializing it a
 * second time for the answer was ~4% of a lookup's CPU (bench/, in-process A/B). A payment parsed
 * from PortOne is never modified afterwards, so the text stays the object's.
 */
const texts = new WeakMap<object, string>();

export function paymentJson(payment: object): string {
  let text = texts.get(payment);
  if (text === undefined) {
    text = JSON.stringify(payment);
    texts.set(payment, text);
  }
  return text;
}
