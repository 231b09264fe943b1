/**
 * The patient portal capability (M2 booking, M12 e-health book): registers the portal's FHIR operations and, once
 * security is up, the public share-link page (`GET /share/:token`) and the installable app's web manifest and
 * service worker (`/portal/manifest.webmanifest`, `/portal/sw.js`). Tables in migration 0020_portal.sql.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { outcome } from '@sen/fhir';
import type { Bundle, Composition } from '@medplum/fhirtypes';
import type { FhirRouter } from '../../fhir/router.ts';
import type { Security } from '../../platform/security.ts';
import { BookingService } from './booking.ts';
import { FamilyAccess } from './family.ts';
import { facilityOf, portalOperations } from './operations.ts';
import { PORTAL_ICON_SVG, portalManifest, SERVICE_WORKER } from './pwa.ts';
import { RightsRequests } from './rights.ts';
import { ShareLinks } from './share.ts';
import { ipsDocument, patientRecord } from './summary.ts';

export interface PortalOptions {
  publicUrl: string;
  /** The clock (tests fix it). */
  now?: () => Date;
}

export interface Portal {
  booking: BookingService;
  family: FamilyAccess;
  shares: ShareLinks;
  rights: RightsRequests;
  /** The public routes; with security, share-link uses are audited and revokes drop the guardian cache. */
  routes(app: FastifyInstance, security?: Security): void;
}

const SHARE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** The IPS as a page a doctor reads on a phone: the Composition's section narratives (already escaped XHTML). */
function sharePage(doc: Bundle, expiresAt: string): string {
  const comp = doc.entry?.[0]?.resource as Composition;
  const patient = doc.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as
    { name?: { text?: string; family?: string; given?: string[] }[]; birthDate?: string; gender?: string } | undefined;
  const n = patient?.name?.[0];
  const name = n?.text ?? [n?.family, ...(n?.given ?? [])].filter(Boolean).join(' ');
  const sections = (comp.section ?? [])
    .map((s) => `<section><h2>${escapeHtml(s.title ?? '')}</h2>${s.text?.div ?? ''}</section>`)
    .join('');
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(comp.title ?? 'IPS')}</title><style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:48rem}
h1{font-size:1.3rem}h2{font-size:1.05rem;color:#0b5f56;margin-bottom:.2rem}.meta{color:#555;font-size:.9rem}</style></head>
<body><h1>${escapeHtml(comp.title ?? '')}</h1><p><strong>${escapeHtml(name)}</strong> · ${escapeHtml(patient?.birthDate ?? '')}</p>
<p class="meta">Chỉ để xem, liên kết hết hạn lúc / Read-only, link expires at ${escapeHtml(expiresAt)}</p>${sections}</body></html>`;
}

export function registerPortal(router: FhirRouter, options: PortalOptions): Portal {
  const now = options.now;
  let invalidate = (): void => undefined;
  const booking = new BookingService(router.store, now);
  const family = new FamilyAccess(router.store, () => invalidate(), now);
  const shares = new ShareLinks(now);
  const rights = new RightsRequests(now);
  for (const op of portalOperations({ router, booking, family, shares, rights, publicUrl: options.publicUrl })) {
    router.operations.register(op);
  }
  return {
    booking,
    family,
    shares,
    rights,
    routes(app, security) {
      if (security) {
        invalidate = () => security.patients.guardians.invalidate();
      }
      const refuse = (reply: FastifyReply, status: number, vi: string, en: string): FastifyReply =>
        reply
          .code(status)
          .type('application/fhir+json')
          .header('Cache-Control', 'no-store')
          .send(outcome('error', status === 404 ? 'not-found' : 'forbidden', `${vi} / ${en}`));

      app.get<{ Params: { token: string } }>('/share/:token', async (req, reply) => {
        const db = router.store.db;
        const used = await shares.use(req.params.token, db);
        if (!used.ok) {
          if (used.link) {
            await security?.audit.record({
              action: 'read',
              outcome: 'denied',
              who: `share-link:${used.link.id}`,
              role: 'share-link',
              sourceIp: req.ip,
              patient: used.link.patientId,
              resourceType: 'Bundle',
              purpose: 'TREAT',
              detail: { via: 'share-link', reason: used.reason },
            });
          }
          return used.reason === 'unknown'
            ? refuse(reply, 404, 'Liên kết không tồn tại', 'No such share link')
            : refuse(
                reply,
                410,
                used.reason === 'revoked' ? 'Liên kết đã bị người bệnh thu hồi' : 'Liên kết đã hết hạn',
                used.reason === 'revoked' ? 'The patient revoked this link' : 'This link has expired',
              );
        }
        const record = await patientRecord(router.store, used.link.patientId, db, undefined);
        const doc = ipsDocument(record, await facilityOf({ router }, db));
        await security?.audit.record({
          action: 'read',
          outcome: 'success',
          who: `share-link:${used.link.id}`,
          role: 'share-link',
          sourceIp: req.ip,
          patient: used.link.patientId,
          resourceType: 'Bundle',
          purpose: 'TREAT',
          detail: { via: 'share-link', use: used.link.uses, label: used.link.label },
        });
        reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer');
        if ((req.headers.accept ?? '').includes('text/html')) {
          return reply
            .type('text/html; charset=utf-8')
            .header('Content-Security-Policy', SHARE_CSP)
            .send(sharePage(doc, used.link.expiresAt));
        }
        return reply.type('application/fhir+json').send(doc);
      });

      app.get('/portal/manifest.webmanifest', async (_req, reply) =>
        reply
          .type('application/manifest+json; charset=utf-8')
          .header('Cache-Control', 'no-cache')
          .send(portalManifest()),
      );
      app.get('/portal/sw.js', async (_req, reply) =>
        reply
          .type('text/javascript; charset=utf-8')
          .header('Cache-Control', 'no-cache')
          .header('Service-Worker-Allowed', '/portal/')
          .send(SERVICE_WORKER),
      );
      app.get('/portal/icon.svg', async (_req, reply) =>
        reply.type('image/svg+xml').header('Cache-Control', 'public, max-age=86400').send(PORTAL_ICON_SVG),
      );
    },
  };
}
