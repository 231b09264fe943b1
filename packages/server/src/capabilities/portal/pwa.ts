/**
 * The portal as an installable app: its web manifest, icon and service worker, served by the server under
 * /portal/ (the worker's scope). The worker keeps the app shell (index.html and the hashed assets) so the portal
 * opens on a weak connection; it never stores API answers (/fhir, /oidc, /share): health data stay off the device's
 * cache.
 */

export function portalManifest(): Record<string, unknown> {
  return {
    name: 'Sổ sức khỏe Sen',
    short_name: 'Sức khỏe Sen',
    description: 'Sổ sức khỏe điện tử của bạn: kết quả khám, đơn thuốc, đặt lịch, chia sẻ với bác sĩ',
    lang: 'vi',
    dir: 'ltr',
    start_url: '/portal',
    scope: '/portal',
    display: 'standalone',
    orientation: 'portrait',
    background_color: '#ffffff',
    theme_color: '#0ca678',
    icons: [
      { src: '/portal/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
      { src: '/portal/icon.svg', sizes: '512x512', type: 'image/svg+xml', purpose: 'maskable' },
    ],
  };
}

export const PORTAL_ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
<rect width="512" height="512" rx="96" fill="#0ca678"/>
<path d="M256 120c-40 60-120 90-120 170a120 120 0 0 0 240 0c0-80-80-110-120-170z" fill="#fff"/>
<path d="M236 250h40v40h40v40h-40v40h-40v-40h-40v-40h40z" fill="#0ca678"/>
</svg>`;

export const SERVICE_WORKER = `/* Sen portal service worker: app shell only, never health data. */
const CACHE = 'sen-portal-shell-v1';
const SHELL = ['/portal'];
self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});
self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (/^\\/(fhir|oidc|api|share)\\b/.test(url.pathname)) return; // health data: network only, never cached
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      caches.match(req).then((hit) => hit || fetch(req).then((res) => {
        const copy = res.clone();
        if (res.ok) caches.open(CACHE).then((c) => c.put(req, copy));
        return res;
      })),
    );
    return;
  }
  if (req.mode === 'navigate' && url.pathname.startsWith('/portal')) {
    event.respondWith(
      fetch(req).then((res) => {
        const copy = res.clone();
        if (res.ok) caches.open(CACHE).then((c) => c.put('/portal', copy));
        return res;
      }).catch(() => caches.match('/portal')),
    );
  }
});
`;
