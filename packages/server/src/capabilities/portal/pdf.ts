/**
 * The readable copy of a patient's record (Law 91/2025 right of access): a PDF made with pdfkit, with an embedded
 * font that has every Vietnamese diacritic — Debian's Noto Sans (fonts-noto-core) when installed, otherwise Be
 * Vietnam Pro from the @expo-google-fonts/be-vietnam-pro npm package (always installed with Sen).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import PDFDocument from 'pdfkit';
import { dosageText, followUps, observationValue, type PatientRecord, textOf } from './summary.ts';

const NOTO = '/usr/share/fonts/truetype/noto';

/** Paths of the regular and bold font files. */
export function pdfFonts(): { regular: string; bold: string } {
  if (existsSync(join(NOTO, 'NotoSans-Regular.ttf')) && existsSync(join(NOTO, 'NotoSans-Bold.ttf'))) {
    return { regular: join(NOTO, 'NotoSans-Regular.ttf'), bold: join(NOTO, 'NotoSans-Bold.ttf') };
  }
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('@expo-google-fonts/be-vietnam-pro/package.json'));
  return {
    regular: join(root, '400Regular', 'BeVietnamPro_400Regular.ttf'),
    bold: join(root, '700Bold', 'BeVietnamPro_700Bold.ttf'),
  };
}

function patientName(p: Patient): string {
  const n = p.name?.[0];
  return n?.text ?? [n?.family, ...(n?.given ?? [])].filter(Boolean).join(' ');
}

const day = (iso: string | undefined): string => {
  if (!iso) {
    return '';
  }
  const [y, m, d] = iso.slice(0, 10).split('-');
  return `${d}/${m}/${y}`;
};

/** Renders the record; resolves with the PDF bytes. */
export function recordPdf(record: PatientRecord, facilityName: string, printedAt: Date = new Date()): Promise<Buffer> {
  const fonts = pdfFonts();
  const doc = new PDFDocument({
    size: 'A4',
    margin: 48,
    info: { Title: 'Hồ sơ sức khỏe / Health record', Author: facilityName, Creator: 'Sen' },
  });
  doc.registerFont('body', fonts.regular);
  doc.registerFont('bold', fonts.bold);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const heading = (text: string): void => {
    doc.moveDown(0.6).font('bold').fontSize(12.5).fillColor('#0b5f56').text(text).fillColor('black');
    doc.moveDown(0.2);
  };
  const line = (text: string): void => {
    doc.font('body').fontSize(10.5).text(text, { indent: 8 });
  };
  const list = (items: string[], empty: string): void => {
    if (items.length === 0) {
      line(empty);
    }
    for (const i of items) {
      line(`• ${i}`);
    }
  };

  const p = record.patient;
  doc.font('bold').fontSize(16).text(facilityName, { align: 'center' });
  doc.font('bold').fontSize(14).text('HỒ SƠ SỨC KHỎE CÁ NHÂN', { align: 'center' });
  doc
    .font('body')
    .fontSize(10)
    .text('Personal health record — bản sao theo yêu cầu của người bệnh', { align: 'center' });
  doc.moveDown();
  heading('Thông tin hành chính / Patient');
  line(`Họ và tên: ${patientName(p)}`);
  line(
    `Ngày sinh: ${day(p.birthDate)}   Giới tính: ${p.gender === 'male' ? 'Nam' : p.gender === 'female' ? 'Nữ' : 'Khác'}`,
  );
  const cccd = p.identifier?.find((i) => i.system?.includes('cccd'))?.value;
  if (cccd) {
    line(`Số định danh cá nhân: ${cccd}`);
  }
  if (p.address?.[0]?.text) {
    line(`Địa chỉ: ${p.address[0].text}`);
  }

  heading('Dị ứng / Allergies');
  list(
    record.allergies.map((a) => textOf(a.code)),
    'Không ghi nhận dị ứng.',
  );
  heading('Bệnh / Conditions');
  list(
    record.conditions.map((c) => `${c.code?.coding?.[0]?.code ?? ''} ${textOf(c.code)}`.trim()),
    'Không ghi nhận bệnh.',
  );
  heading('Các lần khám / Visits');
  list(
    record.encounters.slice(0, 50).map((e) => {
      const diag = record.conditions
        .filter((c) => c.encounter?.reference === `Encounter/${e.id}`)
        .map((c) => `${c.code?.coding?.[0]?.code ?? ''} ${textOf(c.code)}`.trim());
      const where = e.serviceProvider?.display ?? e.location?.[0]?.location?.display ?? '';
      return `${day(e.period?.start)} ${where}${diag.length ? ` — ${diag.join('; ')}` : ''}`;
    }),
    'Chưa có lần khám.',
  );
  heading('Kết quả cận lâm sàng / Results');
  list(
    [
      ...record.reports.map(
        (r) => `${day(r.issued ?? r.effectiveDateTime)} ${textOf(r.code)}${r.conclusion ? `: ${r.conclusion}` : ''}`,
      ),
      ...record.observations
        .filter((o) => !o.category?.some((c) => c.coding?.some((x) => x.code === 'vital-signs')))
        .slice(-60)
        .map((o) => `${day(o.effectiveDateTime)} ${textOf(o.code)}: ${observationValue(o)}`),
    ],
    'Chưa có kết quả.',
  );
  heading('Đơn thuốc / Prescriptions');
  list(
    record.prescriptions.map((m) => {
      const erx = m.groupIdentifier?.value;
      return `${day(m.authoredOn)} ${textOf(m.medicationCodeableConcept)}${dosageText(m) ? ` — ${dosageText(m)}` : ''}${erx ? ` (mã đơn ${erx})` : ''}`;
    }),
    'Không có đơn thuốc.',
  );
  heading('Tiêm chủng / Immunizations');
  list(
    record.immunizations.map((i) => `${day(i.occurrenceDateTime)} ${textOf(i.vaccineCode)}`),
    'Không có dữ liệu tiêm chủng.',
  );
  const follow = followUps(record);
  if (follow.length) {
    heading('Hẹn tái khám / Follow-up');
    list(
      follow.map((f) => day(f.date)),
      '',
    );
  }
  doc.moveDown();
  doc
    .font('body')
    .fontSize(8.5)
    .fillColor('#555')
    .text(
      `In lúc ${printedAt.toISOString().replace('T', ' ').slice(0, 16)} UTC. Dữ liệu sức khỏe là dữ liệu cá nhân nhạy cảm ` +
        '(Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15): hãy giữ bản này cẩn thận.',
    );
  doc.end();
  return done;
}
