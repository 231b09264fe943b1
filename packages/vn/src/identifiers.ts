/**
 * Identifier systems (FHIR `Identifier.system`) used by Sen.
 *
 * Source: shared/data/vn/vn-core-ig/IDENTIFIERS.md, built from the published VN Core IG pages (partial: 10 of the
 * 32 NamingSystems of v0.6.0). Where the IG defines nothing that could be seen (BHXH number, MA_BN, department and
 * staff codes), Sen uses its own systems under https://sen.health.vn/sid/ until the VN Core ones are confirmed.
 */

/** Canonical base of the current VN Core IG (package `hl7.fhir.vn.core`). */
export const VN_CORE_CANONICAL = 'http://fhir.hl7.org.vn/core';

/** Preferred URIs of the VN Core NamingSystems. */
export const VN_CORE_SID = {
  /** 12-digit personal ID number (CCCD / căn cước); the main patient identifier. NamingSystem vn-cccd-ns. */
  cccd: 'http://fhir.hl7.org.vn/core/sid/cccd',
  /** Old 9- or 12-digit ID card number (CMND). Retired in IG 0.3.0; for old records only. */
  cmnd: 'http://fhir.hl7.org.vn/core/sid/cmnd',
  /** Passport number. */
  passport: 'http://fhir.hl7.org.vn/core/sid/passport',
  /** VNeID account. Retired in IG 0.5.0; not a patient identifier. */
  vneid: 'http://fhir.hl7.org.vn/core/sid/vneid',
  /** BHYT card: 15-character card code, 10-digit BHXH number or 12-digit personal ID. NamingSystem vn-bhyt-ns. */
  bhyt: 'http://fhir.hl7.org.vn/core/sid/bhyt',
  /** 5-digit health-facility code issued by BHXH (mã CSKCB). */
  maCskcb: 'http://fhir.hl7.org.vn/core/sid/ma-cskcb',
  /** Practising certificate number (CCHN). */
  cchn: 'http://fhir.hl7.org.vn/core/sid/cchn',
  /** MA_LK, the record-link code of one episode in BHYT exchange (URI taken from the IG examples). */
  maLk: 'http://fhir.hl7.org.vn/core/sid/ma-lk',
  /** Response id from the BHYT gateway (e.g. XML1_ID); not MA_LK. */
  bhytGatewayResponseId: 'http://fhir.hl7.org.vn/core/sid/bhyt-gateway-response-id',
} as const;

/** VN Core identifier-type code system (code `MA_LK`). */
export const VN_CORE_IDENTIFIER_TYPE_CS = 'http://fhir.hl7.org.vn/core/CodeSystem/vn-identifier-type-cs';

/** URIs of the older MoH draft IG (canonical http://fhir.ehealth.gov.vn/core, 2020–2021): for mapping old data. */
export const VN_LEGACY_SID = {
  /** CCCD in the old draft. */
  nationalId: 'http://fhir.ehealth.gov.vn/core/sid/national_id',
  /** Old ID card (CMTND) in the old draft. */
  citizenId: 'http://fhir.ehealth.gov.vn/core/sid/citizen_id',
  passportNumber: 'http://fhir.ehealth.gov.vn/core/sid/passport_number',
  insuranceNumber: 'http://fhir.ehealth.gov.vn/core/sid/insurance_number',
  driverLicenseNumber: 'http://fhir.ehealth.gov.vn/core/sid/driver-license-number',
  patientInternalId: 'http://fhir.ehealth.gov.vn/core/sid/patient-internal-id',
  /** Used by the draft for both the MoH facility code and the operating-licence number (a defect of the draft). */
  providerMedicalLicenseNumber: 'http://fhir.ehealth.gov.vn/core/sid/provider-medical-license-number',
  providerLicenseNumber: 'http://fhir.ehealth.gov.vn/core/sid/provider-license-number',
} as const;

/** Sen's own identifier systems, for codes with no known VN Core NamingSystem. */
export const SEN_SID = {
  /** Facility code inside Sen (the 5-character BHXH code when the facility has one). */
  facility: 'https://sen.health.vn/sid/facility',
  /** Department (khoa) code within a facility, e.g. K01. */
  department: 'https://sen.health.vn/sid/department',
  /** Room / location code within a facility. */
  location: 'https://sen.health.vn/sid/location',
  /** Staff number within a facility. */
  staff: 'https://sen.health.vn/sid/staff',
  /** Patient number within a facility (MA_BN). */
  patient: 'https://sen.health.vn/sid/ma-bn',
  /** 10-digit social-insurance number (mã số BHXH) when kept apart from the BHYT card code. */
  bhxh: 'https://sen.health.vn/sid/bhxh',
} as const;
