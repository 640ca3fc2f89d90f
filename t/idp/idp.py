#!/usr/bin/python3
# A loopback identity provider for mod_jwtauth's tests (issue 10): OpenID
# Connect discovery, RFC 8414 metadata and JWK Sets over HTTPS with a test
# CA of its own, several issuers (as Keycloak realms), key rotation, token
# signing and a set of failure modes, driven over a plain-HTTP control
# port.  Run it with Debian's /usr/bin/python3 (python3-cryptography and
# python3-jwt); t/lib/TestIdP.pm starts and drives it, and its header
# documents the whole interface.
#
#   idp.py --dir DIR [--issuers N]
#
# writes DIR/ca.pem, DIR/pid, DIR/ports.json, then DIR/ready; logs one
# line per request to DIR/access.log (never a token or a key); exits on
# SIGTERM or SIGINT.
import argparse
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MODES = ('ok', 'status500', 'status404', 'hang', 'slow', 'notjson', 'empty',
         'nosig', 'big', 'redirect', 'redirect_other', 'close', 'badissuer',
         'maxage')
PATHS = ('jwks', 'discovery')
BIG_BYTES = 2 * 1024 * 1024

# The members of each signing key in the JWK Sets that these providers
# publish (2026), in their order; 'enc' says whether the set also holds
# Keycloak's RSA-OAEP encryption key, 'issuer' whether each key carries
# Entra ID's "issuer" member.  Entra ID publishes no "alg".
SHAPES = {
    'keycloak': {'members': ['kid', 'kty', 'alg', 'use', 'n', 'e', 'crv',
                             'x', 'y', 'x5c', 'x5t', 'x5t#S256'],
                 'enc': True, 'issuer': False},
    'entra': {'members': ['kty', 'use', 'kid', 'x5t', 'n', 'e', 'crv', 'x',
                          'y', 'x5c'], 'enc': False, 'issuer': True},
    'auth0': {'members': ['kty', 'use', 'n', 'e', 'crv', 'x', 'y', 'kid',
                          'x5t', 'x5c', 'alg'], 'enc': False,
              'issuer': False},
    'okta': {'members': ['kty', 'alg', 'kid', 'use', 'e', 'n', 'crv', 'x',
                         'y'], 'enc': False, 'issuer': False},
    'google': {'members': ['alg', 'kid', 'use', 'n', 'e', 'crv', 'x', 'y',
                           'kty'], 'enc': False, 'issuer': False},
}
SLOW_DEFAULT = 3

RSA_ALGS = ('RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512')
EC_ALGS = {'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512'}
EC_CURVES = {'P-256': ec.SECP256R1, 'P-384': ec.SECP384R1,
             'P-521': ec.SECP521R1}
OKP_CURVES = {'Ed25519': ed25519.Ed25519PrivateKey,
              'Ed448': ed448.Ed448PrivateKey}


class BadRequest(Exception):
    """A control request that cannot be done: answered 400 with a reason."""


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def b64u_int(n):
    return b64u(n.to_bytes(max(1, (n.bit_length() + 7) // 8), 'big'))


def new_kid():
    return b64u(secrets.token_bytes(18))


# ---------------------------------------------------------------------
# certificates: the test CA, the leaves of the three HTTPS ports, and the
# self-signed certificates that Keycloak puts into x5c

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _validity(builder):
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(hours=1)) \
                  .not_valid_after(now + datetime.timedelta(days=2))


def make_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateBuilder().subject_name(_name('mod_jwtauth test CA')) \
        .issuer_name(_name('mod_jwtauth test CA')) \
        .public_key(key.public_key()) \
        .serial_number(x509.random_serial_number()) \
        .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                       critical=True) \
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True) \
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(
            key.public_key()), critical=False)
    return key, _validity(b).sign(key, hashes.SHA256())


def make_leaf(sans, ca_key=None, ca_cert=None):
    """A server certificate for the names in sans, signed by the CA or,
    without one, by itself (the 'unknown CA' port)."""
    key = ec.generate_private_key(ec.SECP256R1())
    alt = []
    for s in sans:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(s)))
        except ValueError:
            alt.append(x509.DNSName(s))
    issuer = ca_cert.subject if ca_cert else _name(sans[0])
    b = x509.CertificateBuilder().subject_name(_name(sans[0])) \
        .issuer_name(issuer).public_key(key.public_key()) \
        .serial_number(x509.random_serial_number()) \
        .add_extension(x509.SubjectAlternativeName(alt), critical=False) \
        .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                       critical=True) \
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if ca_cert:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
    cert = _validity(b).sign(ca_key or key, hashes.SHA256())
    return key, cert


def write_pem(path, data, mode):
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def tls_context(dirname, stem, key, cert):
    kf = os.path.join(dirname, stem + '-key.pem')
    cf = os.path.join(dirname, stem + '.pem')
    write_pem(kf, key_pem(key), 0o600)
    write_pem(cf, cert_pem(cert), 0o644)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cf, kf)
    return ctx


# ---------------------------------------------------------------------
# keys and realms

class Key:
    """One key of a realm: the private half (for /token) and its public
    JWK as Keycloak publishes it (kid, kty, alg, use, x5c, x5t...)."""

    def __init__(self, kty, alg=None, crv=None, use='sig', kid=None,
                 realm='r0'):
        self.kid = kid or new_kid()
        self.kty = kty
        self.use = use
        if kty == 'RSA':
            self.alg = alg or ('RSA-OAEP' if use == 'enc' else 'RS256')
            if use == 'sig' and self.alg not in RSA_ALGS:
                raise BadRequest('alg %s is not an RSA signature alg' % alg)
            self.priv = rsa.generate_private_key(65537, 2048)
            self.crv = None
        elif kty == 'EC':
            self.crv = crv or 'P-256'
            if self.crv not in EC_CURVES:
                raise BadRequest('unknown EC crv %s' % self.crv)
            self.alg = EC_ALGS[self.crv]
            if alg and alg != self.alg:
                raise BadRequest('alg %s does not fit crv %s'
                                 % (alg, self.crv))
            self.priv = ec.generate_private_key(EC_CURVES[self.crv]())
        elif kty == 'OKP':
            self.crv = crv or 'Ed25519'
            if self.crv not in OKP_CURVES:
                raise BadRequest('unknown OKP crv %s' % self.crv)
            self.alg = 'EdDSA'
            if alg and alg != self.alg:
                raise BadRequest('alg of an OKP key is EdDSA')
            self.priv = OKP_CURVES[self.crv].generate()
        else:
            raise BadRequest('unknown kty %s' % kty)
        self.jwk = self._jwk(realm)

    def _jwk(self, realm):
        pub = self.priv.public_key()
        j = {'kid': self.kid, 'kty': self.kty, 'alg': self.alg,
             'use': self.use}
        if self.kty == 'RSA':
            n = pub.public_numbers()
            j['n'] = b64u_int(n.n)
            j['e'] = b64u_int(n.e)
        elif self.kty == 'EC':
            n = pub.public_numbers()
            size = (pub.curve.key_size + 7) // 8
            j['crv'] = self.crv
            j['x'] = b64u(n.x.to_bytes(size, 'big'))
            j['y'] = b64u(n.y.to_bytes(size, 'big'))
        else:
            j['crv'] = self.crv
            j['x'] = b64u(pub.public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw))
        # Keycloak's x5c: a self-signed certificate of the key, with CN
        # the realm name; only informative, clients must not need it
        b = x509.CertificateBuilder().subject_name(_name(realm)) \
            .issuer_name(_name(realm)).public_key(pub) \
            .serial_number(x509.random_serial_number())
        algo = None if self.kty == 'OKP' else hashes.SHA256()
        der = _validity(b).sign(self.priv, algo).public_bytes(
            serialization.Encoding.DER)
        j['x5c'] = [base64.b64encode(der).decode('ascii')]
        j['x5t'] = b64u(hashlib.sha1(der).digest())
        j['x5t#S256'] = b64u(hashlib.sha256(der).digest())
        return j

    def sign(self, claims):
        return jwt.encode(claims, self.priv, algorithm=self.alg,
                          headers={'kid': self.kid})


class Realm:
    def __init__(self, name, base):
        self.name = name
        self.issuer = '%s/realms/%s' % (base, name)
        self.base = base
        self.enc = Key('RSA', use='enc', realm=name)
        self.keys = {}            # kid -> Key: every key ever made here
        self.published = []       # kids in the JWKS, oldest first
        self.current = None
        self.shape = 'keycloak'
        self.modes = {p: ('ok', None) for p in PATHS}
        self.mode_since = {p: 0.0 for p in PATHS}
        self.counts = {p: 0 for p in PATHS}
        self.add_key(Key('RSA', realm=name), keep=True)

    def add_key(self, key, keep):
        self.keys[key.kid] = key
        if not keep:
            self.published = []
        self.published.append(key.kid)
        self.current = key.kid

    def jwks(self, only_enc=False):
        """The published set in the realm's shape; Keycloak's puts the
        enc key first, as in the set the issue quotes."""
        shape = SHAPES[self.shape]
        keys = [self.enc.jwk] if shape['enc'] else []
        if not only_enc:
            for kid in self.published:
                full = self.keys[kid].jwk
                j = {m: full[m] for m in shape['members'] if m in full}
                if shape['issuer']:
                    j['issuer'] = self.issuer
                keys.append(j)
        return {'keys': keys}

    def discovery(self, issuer=None):
        iss = issuer or self.issuer
        oidc = self.issuer + '/protocol/openid-connect'
        return {
            'issuer': iss,
            'authorization_endpoint': oidc + '/auth',
            'token_endpoint': oidc + '/token',
            'introspection_endpoint': oidc + '/token/introspect',
            'userinfo_endpoint': oidc + '/userinfo',
            'end_session_endpoint': oidc + '/logout',
            'jwks_uri': self.issuer + '/certs',
            'check_session_iframe': oidc + '/login-status-iframe.html',
            'grant_types_supported': [
                'authorization_code', 'implicit', 'refresh_token',
                'password', 'client_credentials'],
            'response_types_supported': [
                'code', 'none', 'id_token', 'token', 'id_token token',
                'code id_token', 'code token', 'code id_token token'],
            'subject_types_supported': ['public', 'pairwise'],
            'id_token_signing_alg_values_supported': [
                'PS384', 'ES384', 'RS384', 'HS256', 'HS512', 'ES256',
                'RS256', 'HS384', 'ES512', 'PS256', 'PS512', 'RS512',
                'EdDSA'],
            'id_token_encryption_alg_values_supported': [
                'RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'],
            'userinfo_signing_alg_values_supported': [
                'PS384', 'ES384', 'RS384', 'HS256', 'HS512', 'ES256',
                'RS256', 'HS384', 'ES512', 'PS256', 'PS512', 'RS512',
                'none'],
            'token_endpoint_auth_methods_supported': [
                'private_key_jwt', 'client_secret_basic',
                'client_secret_post', 'tls_client_auth',
                'client_secret_jwt'],
            'claims_supported': [
                'aud', 'sub', 'iss', 'auth_time', 'name', 'given_name',
                'family_name', 'preferred_username', 'email', 'acr'],
            'scopes_supported': [
                'openid', 'profile', 'email', 'roles', 'web-origins',
                'offline_access'],
            'code_challenge_methods_supported': ['plain', 'S256'],
            'request_parameter_supported': True,
            'request_uri_parameter_supported': True,
            'require_request_uri_registration': True,
            'tls_client_certificate_bound_access_tokens': True,
        }


class State:
    """Everything the handlers share, under one lock; changed_cv wakes
    the hanging responses when a mode changes."""

    def __init__(self, n, base):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.realms = {}
        for i in range(n):
            r = Realm('r%d' % i, base)
            self.realms[r.name] = r
        self.ports = {}
        self.stopping = False


STATE = None
LOG = None
LOG_LOCK = threading.Lock()


def log(line):
    with LOG_LOCK:
        now = time.time()
        LOG.write('%s.%03d %s\n' % (time.strftime('%H:%M:%S',
                                                   time.localtime(now)),
                                     int(now * 1000) % 1000, line))
        LOG.flush()


# ---------------------------------------------------------------------
# the handler: documents on every port, the control API on the control
# port only

def doc_route(path):
    """(realm name, 'jwks'|'discovery', moved) for a document path, or
    None.  /moved/<path> is the target of the redirect modes."""
    moved = False
    if path.startswith('/moved/'):
        moved = True
        path = path[len('/moved'):]
    parts = path.split('/')
    # /realms/<r>/certs, /realms/<r>/protocol/openid-connect/certs,
    # /realms/<r>/.well-known/openid-configuration,
    # /.well-known/oauth-authorization-server/realms/<r>
    if len(parts) >= 4 and parts[1] == 'realms':
        rest = '/'.join(parts[3:])
        if rest in ('certs', 'protocol/openid-connect/certs'):
            return parts[2], 'jwks', moved
        if rest == '.well-known/openid-configuration':
            return parts[2], 'discovery', moved
    if len(parts) == 5 and parts[1] == '.well-known' \
            and parts[2] == 'oauth-authorization-server' \
            and parts[3] == 'realms':
        return parts[4], 'discovery', moved
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'mod_jwtauth-test-idp'
    sys_version = ''
    timeout = 60               # an idle keep-alive connection, at most

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # TLS: the handshake in this thread, so that a client that never
        # finishes it (or fails it) blocks nobody else
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def _log(self, status):
        log('%s %s port=%d(%s) %s' % (
            self.command, self.path, self.server.server_port,
            self.server.role, status))

    def send_body(self, status, body, ctype='application/json',
                  headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)
        self._log(status)

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        try:
            route = doc_route(u.path)
            if route and self.command in ('GET', 'HEAD'):
                return self.serve_doc(*route)
            if self.server.role == 'control' and u.path in CONTROL:
                return CONTROL[u.path](self, q)
            self.send_body(404, {'message': 'no such document'})
        except BadRequest as e:
            self.send_body(400, {'message': str(e)})
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
            self._log('client-gone')
        except Exception as e:
            # a fault of the IdP itself: a 500 that says so, and the log
            # line a test can show, rather than a silently closed socket
            log('%s %s fault %s: %s' % (self.command, self.path,
                                        type(e).__name__, e))
            self.close_connection = True
            self.send_body(500, {'message': 'test IdP fault: %s'
                                 % type(e).__name__})

    # -- documents -----------------------------------------------------

    def serve_doc(self, rname, path, moved):
        st = STATE
        with st.lock:
            realm = st.realms.get(rname)
            if realm is None:
                return self.send_body(404, {'message': 'no such realm'})
            realm.counts[path] += 1
            mode, secs = ('ok', None) if moved else realm.modes[path]
            since = realm.mode_since[path]
        if mode == 'hang':
            return self.hang(realm, path, since, secs)
        if mode == 'slow':
            time.sleep(SLOW_DEFAULT if secs is None else secs)
        if mode == 'close':
            self.close_connection = True
            self._log('closed')
            return
        if mode in ('status500', 'status404'):
            return self.send_body(int(mode[6:]),
                                  {'error': 'test mode ' + mode})
        if mode == 'notjson':
            return self.send_body(
                200, '<html><body>We are down for maintenance'
                '</body></html>\n', 'text/html')
        if mode in ('redirect', 'redirect_other'):
            if mode == 'redirect':
                base = '%s://127.0.0.1:%d' % (
                    'http' if self.server.role == 'control' else 'https',
                    self.server.server_port)
            elif self.server.role == 'control':
                base = 'https://127.0.0.1:%d' % st.ports['https']
            else:
                base = 'http://127.0.0.1:%d' % st.ports['control']
            return self.send_body(
                302, {'message': 'moved'},
                headers=[('Location', base + '/moved' + self.path)])
        with st.lock:
            if path == 'jwks':
                if mode == 'empty':
                    doc = {'keys': []}
                else:
                    doc = realm.jwks(only_enc=(mode == 'nosig'))
            else:
                if mode == 'empty':
                    doc = {}
                else:
                    doc = realm.discovery(
                        realm.issuer + '/' if mode == 'badissuer' else None)
        headers = []
        if mode == 'maxage':
            headers.append(('Cache-Control', 'max-age=%d'
                            % (300 if secs is None else secs)))
        if mode == 'big':
            # a valid document, 2 MB long: only a size cap refuses it
            doc['x-padding'] = 'x' * BIG_BYTES
        self.send_body(200, doc, headers=headers)

    def hang(self, realm, path, since, secs):
        """Accept, never answer: until the mode of this path changes, S
        seconds pass or the server stops; then close without a word."""
        deadline = None if secs is None else time.monotonic() + secs
        self._log('hanging')
        with STATE.lock:
            while not STATE.stopping and realm.mode_since[path] == since:
                left = None if deadline is None \
                    else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                STATE.changed.wait(left if left is not None else 5)
        self.close_connection = True
        self._log('hang-ended')

    # -- control API ---------------------------------------------------

    def realm_of(self, q):
        name = q.get('realm', 'r0')
        r = STATE.realms.get(name)
        if r is None:
            raise BadRequest('no such realm: %s' % name)
        return r

    def body_json(self):
        try:
            n = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            raise BadRequest('bad Content-Length')
        if n < 0 or n > 1 << 20:
            raise BadRequest('body too long')
        raw = self.rfile.read(n) if n else b''
        if not raw.strip():
            return {}
        try:
            v = json.loads(raw)
        except ValueError:
            raise BadRequest('the body is not JSON')
        if not isinstance(v, dict):
            raise BadRequest('the body is not a JSON object')
        return v

    def need_post(self):
        if self.command != 'POST':
            raise BadRequest('use POST')

    def c_rotate(self, q):
        self.need_post()
        realm = self.realm_of(q)
        keep = q.get('keep', '1')
        if keep not in ('0', '1'):
            raise BadRequest('keep is 0 or 1')
        kid = q.get('kid') or None
        with STATE.lock:
            if kid and kid in realm.keys:
                raise BadRequest('kid %s exists' % kid)
        key = Key(q.get('kty', 'RSA'), q.get('alg'), q.get('crv'),
                  kid=kid, realm=realm.name)
        with STATE.lock:
            realm.add_key(key, keep == '1')
        self.send_body(200, {'kid': key.kid, 'kty': key.kty,
                             'alg': key.alg})

    def c_remove(self, q):
        self.need_post()
        realm = self.realm_of(q)
        kid = q.get('kid', '')
        with STATE.lock:
            if kid not in realm.published:
                raise BadRequest('kid %s is not published' % kid)
            realm.published.remove(kid)
        self.send_body(200, {'removed': kid})

    def c_token(self, q):
        self.need_post()
        realm = self.realm_of(q)
        body = self.body_json()
        now = int(time.time())
        claims = {'iss': realm.issuer, 'sub': 'idp-user', 'iat': now,
                  'exp': now + 300}
        if 'aud' in q:
            claims['aud'] = q['aud']
        claims.update(body)
        # a claim given as null is left out (a token without exp...)
        claims = {k: v for k, v in claims.items() if v is not None}
        kid = q.get('kid')
        with STATE.lock:
            if kid is None:
                key = realm.keys[realm.current]
            elif kid == 'random':
                key = None
                kty = q.get('kty') or realm.keys[realm.current].kty
            else:
                key = realm.keys.get(kid)
                if key is None:
                    raise BadRequest('no key %s in %s' % (kid, realm.name))
        if key is None:
            key = Key(kty, q.get('alg'), q.get('crv'), realm=realm.name)
        self.send_body(200, {'token': key.sign(claims), 'kid': key.kid,
                             'alg': key.alg})

    def c_mode(self, q):
        self.need_post()
        realm = self.realm_of(q)
        path = q.get('path', '')
        mode = q.get('mode', '')
        if path not in PATHS:
            raise BadRequest('path is jwks or discovery')
        if mode not in MODES:
            raise BadRequest('unknown mode %s' % mode)
        secs = None
        if 'seconds' in q:
            try:
                secs = float(q['seconds'])
            except ValueError:
                raise BadRequest('seconds is a number')
            if not 0 <= secs <= 86400:     # NaN and inf fail this too
                raise BadRequest('seconds is from 0 to 86400')
        with STATE.lock:
            realm.modes[path] = (mode, secs)
            realm.mode_since[path] = time.monotonic()
            STATE.changed.notify_all()
        self.send_body(200, {'realm': realm.name, 'path': path,
                             'mode': mode, 'seconds': secs})

    def c_count(self, q):
        realm = self.realm_of(q)
        path = q.get('path', '')
        if path not in PATHS:
            raise BadRequest('path is jwks or discovery')
        with STATE.lock:
            n = realm.counts[path]
        self.send_body(200, {'count': n})

    def c_reset_counts(self, q):
        self.need_post()
        with STATE.lock:
            for r in STATE.realms.values():
                for p in PATHS:
                    r.counts[p] = 0
        self.send_body(200, {'reset': True})

    def c_jwks(self, q):
        realm = self.realm_of(q)
        with STATE.lock:
            doc = realm.jwks()
        self.send_body(200, doc)

    def c_listen(self, q):
        """Take an HTTPS port down (connection refused, its open
        connections cut) or bring it back on the same number, with the
        same keys: an outage and its end."""
        self.need_post()
        name = q.get('port', '')
        if name not in ('https', 'wronghost', 'untrusted'):
            raise BadRequest('port is https, wronghost or untrusted')
        on = q.get('on', '')
        if on not in ('0', '1'):
            raise BadRequest('on is 0 or 1')
        with LISTEN_LOCK:
            srv = SERVERS.get(name)
            if on == '0' and srv is not None:
                srv.shutdown()
                srv.server_close()
                srv.cut_connections()
                SERVERS[name] = None
            elif on == '1' and srv is None:
                try:
                    srv = Server(name, CONTEXTS[name], STATE.ports[name])
                except OSError as e:
                    raise BadRequest('cannot listen on %d again: %s'
                                     % (STATE.ports[name], e))
                SERVERS[name] = srv
                serve(srv)
        log('listen %s on=%s' % (name, on))
        self.send_body(200, {'port': name, 'listening': on == '1'})

    def c_shape(self, q):
        self.need_post()
        realm = self.realm_of(q)
        shape = q.get('shape', '')
        if shape not in SHAPES:
            raise BadRequest('shape is one of %s' % ', '.join(SHAPES))
        with STATE.lock:
            realm.shape = shape
        self.send_body(200, {'realm': realm.name, 'shape': shape})

    def c_info(self, q):
        with STATE.lock:
            doc = {'ports': STATE.ports, 'realms': {
                r.name: {'issuer': r.issuer, 'current': r.current,
                         'published': list(r.published),
                         'enc': r.enc.kid, 'shape': r.shape,
                         'modes': {p: r.modes[p][0] for p in PATHS}}
                for r in STATE.realms.values()}}
        self.send_body(200, doc)


CONTROL = {
    '/rotate': Handler.c_rotate,
    '/remove': Handler.c_remove,
    '/token': Handler.c_token,
    '/mode': Handler.c_mode,
    '/count': Handler.c_count,
    '/reset-counts': Handler.c_reset_counts,
    '/jwks': Handler.c_jwks,
    '/info': Handler.c_info,
    '/listen': Handler.c_listen,
    '/shape': Handler.c_shape,
}
SERVERS = {}                   # port name -> Server, None while down
CONTEXTS = {}                  # port name -> its TLS context
LISTEN_LOCK = threading.Lock()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, role, ctx, port=0):
        self.role = role
        self.ctx = ctx
        self.conns = set()
        self.conns_lock = threading.Lock()
        super().__init__(('127.0.0.1', port), Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ctx:
            # handshake later, in the request's own thread
            sock = self.ctx.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False)
        with self.conns_lock:
            self.conns.add(sock)
        return sock, addr

    def shutdown_request(self, request):
        with self.conns_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def cut_connections(self):
        """An outage also ends the kept-alive connections."""
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                socket.socket.shutdown(c, socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # failed handshakes (the wrong-host and untrusted ports exist for
        # them) and vanished clients: one line, no traceback
        e = sys.exc_info()[1]
        log('- - port=%d(%s) error %s: %s' % (
            self.server_port, self.role, type(e).__name__,
            str(e).replace('\n', ' ')[:200]))


def serve(srv):
    threading.Thread(target=srv.serve_forever, kwargs={
        'poll_interval': 0.1}, daemon=True).start()


def main():
    global STATE, LOG
    ap = argparse.ArgumentParser(description='test identity provider')
    ap.add_argument('--dir', required=True)
    ap.add_argument('--issuers', type=int, default=1)
    a = ap.parse_args()
    if not 1 <= a.issuers <= 50:
        ap.error('--issuers is 1 to 50')
    d = os.path.abspath(a.dir)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)         # httpd's children (nobody) read ca.pem
    for f in ('ready', 'ports.json'):
        try:
            os.unlink(os.path.join(d, f))
        except FileNotFoundError:
            pass
    LOG = open(os.path.join(d, 'access.log'), 'a')
    write_pem(os.path.join(d, 'pid'), b'%d\n' % os.getpid(), 0o644)

    ca_key, ca = make_ca()
    write_pem(os.path.join(d, 'ca.pem'), cert_pem(ca), 0o644)
    good = make_leaf(['localhost', '127.0.0.1'], ca_key, ca)
    wrong = make_leaf(['wronghost.invalid'], ca_key, ca)
    self_signed = make_leaf(['localhost', '127.0.0.1'])

    CONTEXTS.update(https=tls_context(d, 'https', *good),
                    wronghost=tls_context(d, 'wronghost', *wrong),
                    untrusted=tls_context(d, 'untrusted', *self_signed),
                    control=None)
    servers = SERVERS
    for name, ctx in CONTEXTS.items():
        servers[name] = Server(name, ctx)
    ports = {k: s.server_port for k, s in servers.items()}
    STATE = State(a.issuers, 'https://127.0.0.1:%d' % ports['https'])
    STATE.ports = ports

    done = threading.Event()

    def on_signal(signum, frame):
        done.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    for s in servers.values():
        serve(s)
    write_pem(os.path.join(d, 'ports.json'),
              json.dumps(ports).encode() + b'\n', 0o644)
    write_pem(os.path.join(d, 'ready'), b'ready\n', 0o644)
    log('started pid=%d issuers=%d ports=%s' % (os.getpid(), a.issuers,
                                                json.dumps(ports)))
    # stop with the process that started us too: a test killed by a
    # signal runs no END block, and an orphaned IdP would hold its ports
    parent = os.getppid()
    while not done.wait(0.2):
        if os.getppid() != parent:
            log('parent %d gone' % parent)
            break
    with STATE.lock:
        STATE.stopping = True
        STATE.changed.notify_all()
    with LISTEN_LOCK:
        for s in servers.values():
            if s is not None:
                s.shutdown()
                s.server_close()
    log('stopped')
    try:
        os.unlink(os.path.join(d, 'ready'))
    except FileNotFoundError:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
