/** PortOne's code tables (notes §15): banks and card companies, and how a card number is masked. */

/** Keeps the first 6 and last 4 digits, masks the rest (notes §16): `457972******1234`. */
export function maskCardNumber(digitsOnly: string): string {
  return `${digitsOnly.slice(0, 6)}${'*'.repeat(Math.max(0, digitsOnly.length - 10))}${digitsOnly.slice(-4)}`;
}

export const BANKS: Readonly<Record<string, string>> = {
  '002': '산업은행',
  '003': '기업은행',
  '004': 'KB국민은행',
  '005': '외환은행',
  '007': '수협',
  '011': '농협',
  '012': '지역농축협',
  '020': '우리은행',
  '023': 'SC제일은행',
  '027': '한국씨티은행',
  '031': '대구은행',
  '032': '부산은행',
  '034': '광주은행',
  '035': '제주은행',
  '037': '전북은행',
  '039': '경남은행',
  '045': '새마을금고',
  '048': '신협',
  '071': '우체국',
  '081': '하나은행',
  '088': '신한은행',
  '089': 'K뱅크',
  '090': '카카오뱅크',
  '092': '토스뱅크',
};

/**
 * Request-side bank codes are PG specific (notes §15.1): KG Inicis sends 2 digits (`04`), KCP `BK04`,
 * most others the 3-digit standard code. Responses always carry the 3-digit code; `undefined` = unknown.
 */
export function normaliseBankCode(code: string): string | undefined {
  const m = /^(?:BK)?(\d{2,3})$/i.exec(code.trim());
  if (!m?.[1]) return undefined;
  const standard = m[1].padStart(3, '0');
  return BANKS[standard] ? standard : undefined;
}

/** Card company of an emulated card, chosen from the first digit so tests see varied but stable values. */
export function cardCompany(digitsOnly: string): { code: string; name: string } {
  switch (digitsOnly[0]) {
    case '4':
      return { code: '366', name: '신한카드' };
    case '5':
      return { code: '381', name: 'KB국민카드' };
    case '3':
      return { code: '365', name: '삼성카드' };
    case '9':
      return { code: '361', name: 'BC카드' };
    default:
      return { code: '367', name: '현대카드' };
  }
}
