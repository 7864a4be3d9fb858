// The portal's sign-in constants, shared by Better Auth's setup and the session middleware.

/** Where Better Auth is mounted (its basePath). */
export const AUTH_BASE_PATH = "/portal/auth";
/** A phone number in E.164: a plus, a country code, at most 15 digits in all. */
export const E164_PHONE_NUMBER = /^\+[1-9]\d{6,14}$/;
