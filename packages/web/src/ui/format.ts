/** Dates and numbers the Vietnamese way (dd/MM/yyyy, 24-hour clock), or the English way when chosen. */
export function formatDate(value: string | undefined, lang: string): string {
  if (!value) {
    return '';
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split('-');
    return lang === 'vi' ? `${d}/${m}/${y}` : `${d}/${m}/${y}`;
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    return value;
  }
  return new Intl.DateTimeFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', {
    dateStyle: 'short',
    timeStyle: 'short',
    hour12: false,
  }).format(date);
}

export function formatBirthDate(value: string | undefined): string {
  if (!value) {
    return '';
  }
  const [y, m, d] = value.split('-');
  return [d, m, y].filter(Boolean).join('/');
}
