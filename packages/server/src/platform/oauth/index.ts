export { createAdapter, purgeExpired } from './adapter.ts';
export { authEndpoints, capabilitySecurity, smartConfiguration } from './discovery.ts';
export { deriveKey, loadOrCreateKeys, readKeys, resolveSecretKey, rotateKeys } from './keys.ts';
export { authSecurityBlock, registerAuthServer } from './plugin.ts';
export {
  type AppClientRegistration,
  type AuthAccount,
  type Authenticate,
  type AuthenticateResult,
  type AuthServer,
  type AuthServerOptions,
  type AuthServerTtl,
  type BackendClientRegistration,
  createAuthServer,
  DEFAULT_DEMO_CLIENT_SECRET,
  DEMO_CLIENT_ID,
  type LaunchContext,
  WEB_CLIENT_ID,
} from './provider.ts';
export { grantableScopes, isResourceScope, OIDC_SCOPES } from './smart-scopes.ts';
export type { VerifiedToken } from './verify.ts';
