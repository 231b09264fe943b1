import { getResourceTypes } from '@sen/fhir';
import type { StaffRole } from './roles.ts';

/**
 * The readable permission matrix: which interactions each staff role may perform on each group of
 * resource types. Letters follow SMART v2: c create, r read (and vread, history), u update (and patch),
 * d delete, s search. Facility scope, patient compartments, consent and sensitivity labels narrow this
 * further in the gate; nothing here widens them.
 */
export const RESOURCE_GROUPS = {
  /** who the patient is and where they are */
  patient: ['Patient', 'RelatedPerson', 'Person', 'Coverage', 'Flag'],
  /** the visit and its logistics */
  visit: ['Encounter', 'EpisodeOfCare', 'Appointment', 'AppointmentResponse', 'Schedule', 'Slot', 'Task'],
  /** messages between people about a patient: the lab's critical-value alerts to the ordering doctor, replies */
  messages: ['Communication', 'CommunicationRequest'],
  /** the clinical record */
  clinical: [
    'Observation',
    'Condition',
    'AllergyIntolerance',
    'Procedure',
    'ClinicalImpression',
    'FamilyMemberHistory',
    'CarePlan',
    'CareTeam',
    'Goal',
    'RiskAssessment',
    'DetectedIssue',
    'AdverseEvent',
    'Immunization',
    'ImmunizationEvaluation',
    'ImmunizationRecommendation',
    'NutritionOrder',
    'QuestionnaireResponse',
    'Specimen',
    'BodyStructure',
  ],
  /** orders to other departments */
  orders: ['ServiceRequest', 'DeviceRequest', 'RequestGroup'],
  /** results and reports from the departments */
  results: ['DiagnosticReport', 'ImagingStudy', 'Media', 'MolecularSequence'],
  /** prescribing and the medicines themselves */
  medication: ['MedicationRequest', 'MedicationStatement', 'Medication', 'MedicationKnowledge'],
  /** handing out and giving medicines: the pharmacy's and the ward's */
  dispensing: ['MedicationDispense', 'MedicationAdministration'],
  /** documents of the record */
  documents: ['DocumentReference', 'DocumentManifest', 'Composition', 'Binary', 'List', 'Provenance'],
  /** money */
  billing: [
    'ChargeItem',
    'ChargeItemDefinition',
    'Invoice',
    'Account',
    'Claim',
    'ClaimResponse',
    'ExplanationOfBenefit',
    'PaymentNotice',
    'PaymentReconciliation',
    'CoverageEligibilityRequest',
    'CoverageEligibilityResponse',
  ],
  /** the facility's directory */
  directory: [
    'Organization',
    'Location',
    'Practitioner',
    'PractitionerRole',
    'HealthcareService',
    'Endpoint',
    'Device',
    'Group',
  ],
  /** catalogs and terminology */
  catalog: [
    'CodeSystem',
    'ValueSet',
    'ConceptMap',
    'NamingSystem',
    'ActivityDefinition',
    'PlanDefinition',
    'Questionnaire',
    'ObservationDefinition',
    'SpecimenDefinition',
  ],
  /** consent and privacy */
  consent: ['Consent'],
  /** the audit trail: written only by the server itself */
  audit: ['AuditEvent'],
} as const;

export type ResourceGroup = keyof typeof RESOURCE_GROUPS | 'other';

/** What a treating doctor may do; the department head's permissions build on it. */
const DOCTOR: Partial<Record<ResourceGroup, string>> = {
  patient: 'crus',
  visit: 'crus',
  messages: 'crus',
  clinical: 'crus',
  orders: 'crus',
  // update: an authorised doctor signs off verified lab results (the lab operations check the role)
  results: 'rus',
  medication: 'crus',
  dispensing: 'rs',
  documents: 'crus',
  directory: 'rs',
  catalog: 'rs',
  consent: 'crs',
  billing: 'rs',
};

/** Role × group → SMART-style interaction letters ('' = nothing). Groups not listed: nothing. */
export const ROLE_MATRIX: Record<StaffRole, Partial<Record<ResourceGroup, string>>> = {
  receptionist: {
    patient: 'crus',
    visit: 'crus',
    messages: 'crus',
    directory: 'rs',
    catalog: 'rs',
    consent: 'crs',
    billing: 'rs',
  },
  doctor: DOCTOR,
  nurse: {
    patient: 'rus',
    visit: 'crus',
    messages: 'crus',
    clinical: 'crus',
    orders: 'rs',
    results: 'rs',
    medication: 'rs',
    dispensing: 'rs',
    documents: 'crs',
    directory: 'rs',
    catalog: 'rs',
    consent: 'rs',
  },
  'lab-technician': {
    patient: 'rs',
    visit: 'rs',
    // a critical value alerts the ordering doctor at once
    messages: 'crs',
    clinical: 'crus',
    orders: 'rus',
    results: 'crus',
    directory: 'rs',
    catalog: 'rs',
  },
  'radiology-technician': {
    patient: 'rs',
    visit: 'rs',
    messages: 'crs',
    orders: 'rus',
    results: 'crus',
    directory: 'rs',
    catalog: 'rs',
  },
  radiologist: {
    patient: 'rs',
    visit: 'rs',
    messages: 'crs',
    clinical: 'rs',
    orders: 'rus',
    results: 'crus',
    documents: 'crus',
    directory: 'rs',
    catalog: 'rs',
  },
  pharmacist: {
    patient: 'rs',
    visit: 'rs',
    messages: 'crs',
    clinical: 'rs',
    orders: 'rs',
    medication: 'rs',
    dispensing: 'crus',
    directory: 'rs',
    catalog: 'rs',
    billing: 'rs',
  },
  cashier: {
    patient: 'rs',
    visit: 'rs',
    messages: 'rs',
    orders: 'rs',
    medication: 'rs',
    dispensing: 'rs',
    billing: 'crus',
    directory: 'rs',
    catalog: 'rs',
  },
  // a department head is a doctor who also reviews the audit trail (break-the-glass, who looked at what)
  'department-head': { ...DOCTOR, audit: 'rs' },
  'facility-admin': { directory: 'cruds', catalog: 'cruds', audit: 'rs', consent: 'rs', other: 'rs' },
};

let groupOf: Map<string, ResourceGroup> | undefined;

/** The group of a resource type ('other' for the types no clinical role needs). */
export function resourceGroup(type: string): ResourceGroup {
  if (!groupOf) {
    groupOf = new Map();
    for (const [g, types] of Object.entries(RESOURCE_GROUPS)) {
      for (const t of types) {
        groupOf.set(t, g as ResourceGroup);
      }
    }
  }
  return groupOf.get(type) ?? 'other';
}

export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

/** Whether a role may perform an interaction on a resource type, by the matrix alone. */
export function roleAllows(role: StaffRole, type: string, interaction: Interaction): boolean {
  const letters = ROLE_MATRIX[role][resourceGroup(type)] ?? '';
  return letters.includes(interaction);
}

/** The full matrix as rows (for the review document and the matrix test). */
export function matrixRows(
  roles: readonly StaffRole[],
): { type: string; group: ResourceGroup; cells: Record<string, string> }[] {
  return getResourceTypes().map((type) => {
    const cells: Record<string, string> = {};
    for (const role of roles) {
      cells[role] = ROLE_MATRIX[role][resourceGroup(type)] ?? '';
    }
    return { type, group: resourceGroup(type), cells };
  });
}

/**
 * Record-management operations that go beyond one interaction: besides the interaction the operation declares (checked
 * against the matrix above), only these roles may run them. Merging two patient records re-points the whole record,
 * so it is kept to the department head (trưởng khoa), who answers for the records of the department.
 */
export const RESTRICTED_OPERATIONS: Readonly<Record<string, readonly StaffRole[]>> = {
  'Patient/$merge': ['department-head'],
  // system-level operations: the lab fixes and replays (or discards) a quarantined analyzer message
  '$analyzer-replay': ['lab-technician', 'department-head'],
  '$analyzer-discard': ['lab-technician', 'department-head'],
};

/**
 * Whether one of these roles may run a restricted operation (`Type/$name`, or `$name` at system level); unlisted
 * operations are not restricted.
 */
export function rolesMayRun(roles: readonly StaffRole[], operation: string): boolean {
  const allowed = RESTRICTED_OPERATIONS[operation];
  return allowed === undefined || roles.some((r) => allowed.includes(r));
}
