// node jose against mod_jwtauth (t/07_algorithms.t):
//   sign ALG PRIVATE.pem [KID]   -> prints a token for sub "daehan"
//   verify ALG PUBLIC.pem TOKEN  -> prints the verified sub
//   jwks JWKS.json TOKEN         -> verifies TOKEN with the JWK Set, prints sub
import { readFileSync } from 'node:fs';
import * as jose from 'jose';

const [mode, a, b, c] = process.argv.slice(2);
try {
  if (mode === 'sign') {
    const key = await jose.importPKCS8(readFileSync(b, 'utf8'), a);
    const hdr = { alg: a, typ: 'JWT' };
    if (c) hdr.kid = c;
    const t = await new jose.SignJWT({ sub: 'daehan' })
      .setProtectedHeader(hdr).setIssuedAt().setExpirationTime('5m')
      .sign(key);
    console.log(t);
  } else if (mode === 'verify') {
    const key = await jose.importSPKI(readFileSync(b, 'utf8'), a);
    const { payload } = await jose.jwtVerify(c, key, { algorithms: [a] });
    console.log(payload.sub);
  } else if (mode === 'jwks') {
    const set = jose.createLocalJWKSet(JSON.parse(readFileSync(a, 'utf8')));
    const { payload } = await jose.jwtVerify(b, set);
    console.log(payload.sub);
  } else {
    throw new Error('usage: sign|verify|jwks ...');
  }
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
