/** Dates the Vietnamese way (dd/MM/yyyy, 24-hour clock), in the browser's time zone. */
export function formatDate(value: string | undefined, lang: string): string {
  if (!value) {
    return '';
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return formatBirthDate(value);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    return value;
  }
  return new Intl.DateTimeFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', {
    // dd/MM/yyyy HH:mm, the way Vietnamese forms write it (English: the same day-first order)
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
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
