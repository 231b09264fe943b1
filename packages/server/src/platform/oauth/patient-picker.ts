/**
 * The patient picker of a standalone SMART launch by a clinician: an app asks for `launch/patient` without an EHR
 * `launch` parameter, and the signed-in user is staff (a patient user has their own record as context). The consent
 * page then asks which patient: a search by name or ID (through the access gate, audited, like any FHIR search), a
 * choice, then Allow. The choice is checked again on the server (read through the gate) before it becomes the
 * launch context. Vietnamese first, English second.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Interaction } from 'oidc-provider';
import { FORM_FIELD, formToken, formTokenValid } from '../auth/form-token.ts';
import { escapeHtml, htmlPage, PAGE_HEADERS } from './html.ts';

export interface PatientChoice {
  id: string;
  name: string;
  birthDate?: string;
  gender?: string;
}

export interface PatientPicker {
  /** Whether this account chooses a launch patient (staff accounts do). */
  applies(accountId: string): Promise<boolean>;
  /** Patients the account may see matching a name or an ID (at most a page). */
  search(accountId: string, query: string, ctx: { ip: string }): Promise<PatientChoice[]>;
  /** The patient, when the account may see them; undefined otherwise. */
  check(accountId: string, patientId: string, ctx: { ip: string }): Promise<PatientChoice | undefined>;
}

const GENDER: Record<string, string> = {
  male: 'Nam / Male',
  female: 'Nữ / Female',
  other: 'Khác / Other',
  unknown: 'Không rõ / Unknown',
};

/** Whether the consent step of this interaction needs a patient chosen. */
export async function needsPatientChoice(
  picker: PatientPicker | undefined,
  interaction: Interaction,
): Promise<boolean> {
  const scopes = String(interaction.params.scope ?? '').split(' ');
  const accountId = interaction.session?.accountId;
  return (
    !!picker &&
    !!accountId &&
    scopes.includes('launch/patient') &&
    !(scopes.includes('launch') && typeof interaction.params.launch === 'string') &&
    (await picker.applies(accountId))
  );
}

export interface PickerPageOptions {
  searchAction: string;
  confirmAction: string;
  abortAction: string;
  clientName: string;
  scopes: string[];
  query: string;
  results?: PatientChoice[];
  formToken: string;
  error?: string;
}

export function patientPickerPage(o: PickerPageOptions): string {
  const items = (o.results ?? [])
    .map(
      (
        p,
        i,
      ) => `<li><input type="radio" name="patient" id="p${i}" value="${escapeHtml(p.id)}" required${i === 0 ? ' checked' : ''}>
<label for="p${i}" style="display:inline"><strong>${escapeHtml(p.name)}</strong> · ${escapeHtml(p.birthDate ?? '?')} · ${escapeHtml(
        GENDER[p.gender ?? ''] ?? '',
      )} · <code>${escapeHtml(p.id)}</code></label></li>`,
    )
    .join('');
  const results =
    o.results === undefined
      ? ''
      : o.results.length === 0
        ? '<p role="status">Không tìm thấy bệnh nhân. <span class="en">No patient found.</span></p>'
        : `<ul style="list-style:none;padding:0" aria-label="Kết quả / Results">${items}</ul>`;
  const scopes = o.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('');
  const error = o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : '';
  return htmlPage(
    'Chọn bệnh nhân / Choose a patient',
    `<h1>Chọn bệnh nhân <span class="en">/ Choose a patient</span></h1>
<p>Ứng dụng <strong>${escapeHtml(o.clientName)}</strong> sẽ mở hồ sơ của bệnh nhân bạn chọn.
<span class="en">The application will open the record of the patient you choose.</span></p>
<form method="get" action="${escapeHtml(o.searchAction)}" role="search">
<label for="q">Tìm theo họ tên hoặc mã <span class="en">/ Search by name or ID</span></label>
<input id="q" name="q" required minlength="2" maxlength="100" value="${escapeHtml(o.query)}" autofocus>
<button type="submit" class="secondary">Tìm <span class="en">/ Search</span></button>
</form>
${error}
<form method="post" action="${escapeHtml(o.confirmAction)}">
<input type="hidden" name="${FORM_FIELD}" value="${escapeHtml(o.formToken)}">
${results}
<p>Quyền ứng dụng xin: <span class="en">The application asks for:</span></p><ul>${scopes}</ul>
<button type="submit"${o.results?.length ? '' : ' disabled'}>Cho phép <span class="en">/ Allow</span></button>
</form>
<form method="post" action="${escapeHtml(o.abortAction)}"><button type="submit" class="secondary">Từ chối <span class="en">/ Deny</span></button></form>`,
  );
}

export interface PickerHost {
  picker: PatientPicker;
  secure: boolean;
  base: string;
  clientName: string;
  scopes: string[];
}

/** GET of the consent step with a picker: the search form, and results for `?q=`. */
export async function sendPatientPicker(
  host: PickerHost,
  req: FastifyRequest,
  reply: FastifyReply,
  interaction: Interaction,
  options: { status?: number; error?: string } = {},
): Promise<FastifyReply> {
  const q = String((req.query as { q?: unknown } | undefined)?.q ?? '')
    .trim()
    .slice(0, 100);
  const accountId = String(interaction.session?.accountId);
  const results = q.length >= 2 ? await host.picker.search(accountId, q, { ip: req.ip }) : undefined;
  return reply
    .code(options.status ?? 200)
    .headers(PAGE_HEADERS)
    .send(
      patientPickerPage({
        searchAction: host.base,
        confirmAction: `${host.base}/confirm`,
        abortAction: `${host.base}/abort`,
        clientName: host.clientName,
        scopes: host.scopes,
        query: q,
        results,
        formToken: formToken(req.headers.cookie, reply.raw, host.secure),
        error: options.error,
      }),
    );
}

/**
 * POST confirm with a picker: the CSRF token and a patient the account may see. Returns the patient id, or
 * undefined after answering with the page again (and an error).
 */
export async function chosenPatient(
  host: PickerHost,
  req: FastifyRequest,
  reply: FastifyReply,
  interaction: Interaction,
  fields: Record<string, string>,
): Promise<string | undefined> {
  if (!formTokenValid(req.headers.cookie, fields[FORM_FIELD])) {
    await sendPatientPicker(host, req, reply, interaction, {
      status: 403,
      error: 'Biểu mẫu không hợp lệ; hãy thử lại. / Invalid form: try again.',
    });
    return undefined;
  }
  const id = (fields.patient ?? '').trim();
  const accountId = String(interaction.session?.accountId);
  const patient = id ? await host.picker.check(accountId, id, { ip: req.ip }) : undefined;
  if (!patient) {
    await sendPatientPicker(host, req, reply, interaction, {
      status: 400,
      error: 'Hãy chọn một bệnh nhân bạn được phép xem. / Choose a patient you may see.',
    });
    return undefined;
  }
  return patient.id;
}
