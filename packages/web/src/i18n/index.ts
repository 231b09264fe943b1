import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import analyzerEn from './analyzer.en.json';
import analyzerVi from './analyzer.vi.json';
import cashierEn from './cashier.en.json';
import cashierVi from './cashier.vi.json';
import clinicEn from './clinic.en.json';
import clinicVi from './clinic.vi.json';
import ehbEn from './ehb.en.json';
import ehbVi from './ehb.vi.json';
import en from './en.json';
import imagingEn from './imaging.en.json';
import imagingVi from './imaging.vi.json';
import labEn from './lab.en.json';
import labVi from './lab.vi.json';
import pharmacyEn from './pharmacy.en.json';
import pharmacyVi from './pharmacy.vi.json';
import receptionEn from './reception.en.json';
import receptionVi from './reception.vi.json';
import portalEn from './portal.en.json';
import portalVi from './portal.vi.json';
import vi from './vi.json';

/** Each feature keeps its words in its own file, under its own top-level keys (no key in two files). */
const VI = {
  ...vi,
  ...analyzerVi,
  ...receptionVi,
  ...clinicVi,
  ...imagingVi,
  ...labVi,
  ...pharmacyVi,
  ...ehbVi,
  ...cashierVi,
  ...portalVi,
};
const EN = {
  ...en,
  ...analyzerEn,
  ...receptionEn,
  ...clinicEn,
  ...imagingEn,
  ...labEn,
  ...pharmacyEn,
  ...ehbEn,
  ...cashierEn,
  ...portalEn,
};

export const LANGUAGES = [
  { code: 'vi', label: 'Tiếng Việt' },
  { code: 'en', label: 'English' },
] as const;

const STORAGE_KEY = 'sen.lang';

/** Vietnamese first: English only when the user chose it. */
export function initialLanguage(): string {
  const saved = typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE_KEY);
  return saved === 'en' ? 'en' : 'vi';
}

export const i18n = i18next.createInstance();

export function setLanguage(code: string): void {
  localStorage.setItem(STORAGE_KEY, code);
  document.documentElement.lang = code;
  void i18n.changeLanguage(code);
}
void i18n.use(initReactI18next).init({
  resources: { vi: { translation: VI }, en: { translation: EN } },
  lng: initialLanguage(),
  fallbackLng: 'vi',
  interpolation: { escapeValue: false },
});
