/** HL7 R4 examples that are refused on purpose, each with the reason (shared by the validation and store tests). */
export const EXAMPLE_EXCLUSIONS: Readonly<Record<string, string>> = {
  'Questionnaire-qs1.json':
    'Invalid in the R4 spec itself: 32 of its 87 items have no linkId, which is mandatory (Questionnaire.item.linkId 1..1).',
};
