export { authenticate, isPublicPath, ANONYMOUS } from "./authenticate.ts";
export type { UserInfo, TokenEntry, AuthResult } from "./authenticate.ts";
export { loadTokenFile, parseTokenFile, splitCsvLine } from "./tokenfile.ts";
export type { TokenUser } from "./tokenfile.ts";
