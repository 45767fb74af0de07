// A manifest Berth cannot apply: a 400 that names the document and the field
// (`documents[1].spec.predictor.model.storage.key`), so the user can find the
// line to change. Carries status and code like PlanError, so the API's error
// middleware renders it without knowing this module.
export class ManifestError extends Error {
  readonly status = 400;
  constructor(
    readonly code: 'invalid_manifest' | 'unsupported_manifest',
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ManifestError';
  }
}
