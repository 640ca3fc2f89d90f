# JWTAuthClaimHeader and JWTAuthForwardToken: what the backend gets of
# the token, through mod_proxy, to a CGI and to the CGIs of SSI
# subrequests (t/conf/headers.conf.in).  The backend is
# t/htdocs/headers/echo.cgi, which answers with the request headers it
# received as JSON (HTTP_*); the proxied sections forward to it on the
# test server itself.  A claim header the client sends never gets
# through; claims that could break a header line arrive encoded.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $VG = ($ENV{JWTAUTH_WRAP} // '') eq 'valgrind';
my $J = JSON::PP->new->utf8->canonical;

# a token of these claims (over sub and exp), encoded as UTF-8
sub tok {
    my %c = (sub => 'daehan', exp => time + 300, @_);
    return jws({ alg => 'HS256', typ => 'JWT' }, $J->encode(\%c));
}

# Keycloak's shape: realm roles nested, a display name, a number, a bool
my %kc = (realm_access => { roles => ['offline_access', 'admin'] },
          resource_access => { api => { roles => ['writer'] } },
          name => 'Jane Doe', n => 42, admin => JSON::PP::true,
          preferred_username => 'jane');
my $KC = tok(%kc);
my $ROLES = '["offline_access","admin"]';
my $CRLF = tok(%kc, name => "a\r\nX-Injected: 1");
my $CRLF_ENC = '=?UTF-8?B?YQ0KWC1JbmplY3RlZDogMQ==?=';
my $JOSE = tok(%kc, name => "Jos\x{e9}");
my $JOSE_ENC = '=?UTF-8?B?Sm9zw6k=?=';
my %noname = %kc;
delete $noname{name};
my $NONAME = tok(%noname);
my $NUL = tok(%kc, name => "a\x{0}b");
my @SPOOF = ('X-Name' => 'spoofed', 'X-Roles' => '["spoofed"]',
             'X-Missing' => 'spoofed', ':x-name' => 'spoofed-lower',
             ':X_Name' => 'spoofed-underscore');

# [name, proxied, url, request headers, status, {HTTP_* => value, or
# undef: absent}]
my @rows = (
    # claims to the backend, proxied and to a CGI
    (map {
        my ($via, $px, $base) = @$_;
        (["$via: Keycloak token: roles array, string, number, boolean, "
          . 'absent claim', $px, "$base/echo.cgi", ['x-access-token' => $KC],
          200, { HTTP_X_ROLES => $ROLES, HTTP_X_NAME => 'Jane Doe',
                 HTTP_X_NUM => '42', HTTP_X_ADMIN => 'true',
                 HTTP_X_MISSING => undef, HTTP_X_ACCESS_TOKEN => $KC }],
         ["$via: CR LF in a claim: one header, encoded, none injected", $px,
          "$base/echo.cgi", ['x-access-token' => $CRLF], 200,
          { HTTP_X_NAME => $CRLF_ENC, HTTP_X_INJECTED => undef,
            HTTP_X_ROLES => $ROLES }],
         ["$via: non-ASCII in a claim: encoded", $px, "$base/echo.cgi",
          ['x-access-token' => $JOSE], 200, { HTTP_X_NAME => $JOSE_ENC }],
         ["$via: the client's claim headers, valid token: the token's "
          . 'values, no spoofed one', $px, "$base/echo.cgi",
          ['x-access-token' => $KC, @SPOOF], 200,
          { HTTP_X_NAME => 'Jane Doe', HTTP_X_ROLES => $ROLES,
            HTTP_X_MISSING => undef }],
         ["$via: the client's claim headers, token without the claim: "
          . 'none', $px, "$base/echo.cgi", ['x-access-token' => $NONAME,
                                           @SPOOF], 200,
          { HTTP_X_NAME => undef, HTTP_X_MISSING => undef,
            HTTP_X_ROLES => $ROLES }],
         ["$via: \\u0000 in a claim: the token is invalid", $px,
          "$base/echo.cgi", ['x-access-token' => $NUL], 401, {}],
         ["$via: no token: 401, the backend is not reached", $px,
          "$base/echo.cgi", [@SPOOF], 401, {}],
         ["$via: JWTAuthForwardToken On (default): Authorization: Bearer "
          . 'forwarded', $px, "$base/echo.cgi",
          [Authorization => "Bearer $KC"], 200,
          { HTTP_AUTHORIZATION => "Bearer $KC", HTTP_X_NAME => 'Jane Doe' }])
    } (['proxy', 1, '/hdr-proxy'], ['CGI', 0, '/hdr-cgi'])),

    # subrequests: mod_include's CGIs get the claims, not the client's
    ['SSI subrequest in the same section', 0, '/hdr-cgi/same.shtml',
     ['x-access-token' => $KC, @SPOOF], 200,
     { HTTP_X_NAME => 'Jane Doe', HTTP_X_ROLES => $ROLES,
       HTTP_X_MISSING => undef }],
    ['SSI subrequest into another section under the same policy', 0,
     '/hdr-cgi/other.shtml', ['x-access-token' => $JOSE, @SPOOF], 200,
     { HTTP_X_NAME => $JOSE_ENC, HTTP_X_ROLES => $ROLES,
       HTTP_X_MISSING => undef }],

    ['ErrorDocument: a redirect in the same section', 0,
     '/hdr-cgi/none.html', ['x-access-token' => $KC, @SPOOF], 404,
     { HTTP_X_NAME => 'Jane Doe', HTTP_X_ROLES => $ROLES,
       HTTP_X_MISSING => undef }],

    # mod_include puts the parent's headers into its environment, which
    # a subrequest copies: the client's header, and the token, must not
    # come through that way either
    ['SSI from an open page into a claim-header section: the client\'s '
     . 'header not passed on', 0, '/hdr-echo/into.shtml',
     ['x-access-token' => $NONAME, @SPOOF], 200,
     { HTTP_X_NAME => undef, HTTP_X_MISSING => undef,
       HTTP_X_ROLES => $ROLES }],
    ['SSI from an open page into a ForwardToken Off section: the token '
     . 'not passed on', 0, '/hdr-echo/into-notoken.shtml',
     ['X-Token' => $KC, Authorization => "Bearer $KC"], 200,
     { HTTP_X_TOKEN => undef, HTTP_AUTHORIZATION => undef,
       REMOTE_USER => 'daehan' }],

    # JWTAuth Off: nothing set, the client's header still removed
    ['JWTAuth Off, no token: the client\'s claim header removed', 0,
     '/hdr-off/echo.cgi', [@SPOOF], 200,
     { HTTP_X_NAME => undef, HTTP_X_ROLES => '["spoofed"]' }],
    ['JWTAuth Off, a token: not validated, no claim header', 0,
     '/hdr-off/echo.cgi', ['x-access-token' => $KC, @SPOOF], 200,
     { HTTP_X_NAME => undef }],

    # JWTAuth Optional: anonymous without a token, the client's header
    # still removed; a valid token's claim with one
    ['JWTAuth Optional, no token: the client\'s claim header removed', 0,
     '/hdr-optional/echo.cgi', [@SPOOF], 200, { HTTP_X_NAME => undef }],
    ['JWTAuth Optional, a valid token: its claim, not the client\'s', 0,
     '/hdr-optional/echo.cgi', ['x-access-token' => $KC, @SPOOF], 200,
     { HTTP_X_NAME => 'Jane Doe' }],

    # merging: the parent's headers reach the section below, a name it
    # gives again takes its path; an admin's RequestHeader wins
    ['a nested section: parent\'s and own headers, own path wins', 0,
     '/hdr-nest/echo.cgi', ['x-access-token' => $KC, 'X-Sub' => 'spoofed',
                            @SPOOF], 200,
     { HTTP_X_NAME => 'Jane Doe', HTTP_X_SUB => 'daehan',
       HTTP_X_NUM => 'true' }],
    ['a claim header a section below reads the token from: never set', 0,
     '/hdr-rename/echo.cgi', ['X-Name' => $KC], 200,
     { HTTP_X_NAME => undef, HTTP_X_NUM => '42' }],
    ['RequestHeader set wins over JWTAuthClaimHeader', 0,
     '/hdr-admin/echo.cgi', ['x-access-token' => $KC], 200,
     { HTTP_X_NAME => 'set by RequestHeader' }],

    # JWTAuthForwardToken Off
    ['ForwardToken Off, proxy: no x-access-token, Basic kept', 1,
     '/hdr-notoken/echo.cgi', ['x-access-token' => $KC,
                               Authorization => 'Basic ZGE6MTI='], 200,
     { HTTP_X_ACCESS_TOKEN => undef, HTTP_AUTHORIZATION => 'Basic ZGE6MTI=',
       REMOTE_USER => undef }],
    ['ForwardToken Off, proxy: no Authorization: Bearer', 1,
     '/hdr-notoken/echo.cgi', [Authorization => "Bearer $KC"], 200,
     { HTTP_AUTHORIZATION => undef, HTTP_X_ACCESS_TOKEN => undef }],
    ['ForwardToken Off, CGI: the scope\'s JWTAuthHeader removed, another '
     . 'header kept', 0, '/hdr-notoken-cgi/echo.cgi',
     ['X-Token' => $KC, ':X_Token' => 'x', 'x-access-token' => 'other',
      Authorization => 'Basic ZGE6MTI='], 200,
     { HTTP_X_TOKEN => undef, HTTP_X_ACCESS_TOKEN => 'other',
       HTTP_AUTHORIZATION => 'Basic ZGE6MTI=', REMOTE_USER => 'daehan' }],
    ['ForwardToken Off, CGI: no Authorization: Bearer', 0,
     '/hdr-notoken-cgi/echo.cgi', [Authorization => "Bearer $KC"], 200,
     { HTTP_AUTHORIZATION => undef }],
    ['ForwardToken Off, no token needed: token headers still removed', 0,
     '/hdr-notoken-open/echo.cgi', ['x-access-token' => 'junk',
                                    Authorization => 'bearer junk'], 200,
     { HTTP_X_ACCESS_TOKEN => undef, HTTP_AUTHORIZATION => undef }],
);

# apache2 -t rows: [name, directives, refused?, output pattern]
my @conf_rows = (
    ['a sound configuration', "JWTAuthClaimHeader realm_access.roles X-Roles"
     . "\nJWTAuthClaimHeader name X-Name\nJWTAuthForwardToken Off\n"
     . "<Location /a>\nJWTAuthClaimHeader sub X-Sub\nJWTAuthForwardToken On"
     . "\n</Location>", 0, qr/Syntax OK/],
    ['a bad path', 'JWTAuthClaimHeader a..b X-A', 1,
     qr/JWTAuthClaimHeader: claim path "a\.\.b" has an empty segment/],
    ['a bad header name', 'JWTAuthClaimHeader sub "X Sub"', 1,
     qr/JWTAuthClaimHeader: 'X Sub' is not a header name/],
    ['Host', 'JWTAuthClaimHeader sub host', 1,
     qr/JWTAuthClaimHeader: 'host' is not for claims \(framing\)/],
    ['Content_Length (an underscore)', 'JWTAuthClaimHeader sub Content_Length',
     1, qr/JWTAuthClaimHeader: 'Content_Length' is not for claims/],
    ['Content-Type', 'JWTAuthClaimHeader sub Content-Type', 1,
     qr/JWTAuthClaimHeader: 'Content-Type' is not for claims \(Content-\*\)/],
    ['Authorization', 'JWTAuthClaimHeader sub Authorization', 1,
     qr/'Authorization' is not for claims \(credentials\)/],
    ['Cookie', 'JWTAuthClaimHeader sub Cookie', 1,
     qr/'Cookie' is not for claims \(credentials\)/],
    ['X-Forwarded-For', 'JWTAuthClaimHeader sub X-Forwarded-For', 1,
     qr/'X-Forwarded-For' is not for claims \(X-Forwarded-\*\)/],
    ['the default token header', 'JWTAuthClaimHeader sub X-Access-Token', 1,
     qr/'X-Access-Token' carries the token \(JWTAuthHeader\)/],
    ['the section\'s token header', "<Location /b>\nJWTAuthHeader X-Token\n"
     . "JWTAuthClaimHeader sub x_token\n</Location>", 1,
     qr/'x_token' carries the token/],
    ['a name twice in a section', "JWTAuthClaimHeader sub X-User\n"
     . "JWTAuthClaimHeader name x-user", 1,
     qr/JWTAuthClaimHeader: 'x-user' is given twice in this section/],
    ['ForwardToken not a flag', 'JWTAuthForwardToken maybe', 1,
     qr/JWTAuthForwardToken must be On or Off/],
);

my $checks = 0;
$checks += 1 + keys %{ $_->[5] } for @rows;
plan tests => $checks + 2 * @conf_rows + 3,
    need_cgi, need_module('mod_jwtauth.c', 'mod_headers.c', 'mod_include.c',
                          'mod_proxy_http.c');

for my $r (@rows) {
    my ($name, $px, $url, $hdrs, $status, $want) = @$r;
  SKIP: {
        skip 'one process (valgrind run) cannot proxy to itself',
            1 + keys %$want if $px && $VG;
        my $res = GET($url, @$hdrs);
        is($res->code, $status, "$name: status") or diag($res->content);
        my $got = eval { $J->decode($res->content) } || {};
        for my $k (sort keys %$want) {
            is($got->{$k}, $want->{$k}, "$name: $k");
        }
    }
}

# a header spelled with '_' in place of '-', which a CGI never sees but
# other backends may read as the same one: removed before the proxy
SKIP: {
    skip 'one process (valgrind run) cannot proxy to itself', 3 if $VG;
    my $res = GET('/hdr-echo/echo.cgi', ':X_Name' => 'seen');
    is(scalar $res->header('X-Seen-Underscore'), 'seen',
       'the backend reports a header with an underscore (the check works)');
    $res = GET('/hdr-proxy/echo.cgi', 'x-access-token' => $KC,
               ':X_Name' => 'spoofed');
    is($res->code, 200, 'X_Name to the proxy: status');
    is(scalar $res->header('X-Seen-Underscore'), undef,
       'X_Name to the proxy: the backend never gets it');
}

# configuration errors stop apache2 -t naming the directive
for my $r (@conf_rows) {
    my ($name, $directives, $refused, $pat) = @$r;
    my ($rc, $out) = apache_t([], 'JWTAuthSecretFile ' . fixture('secret'),
                              $directives);
    my $want = $refused ? 'refuses' : 'accepts';
    is($rc ? 'refuses' : 'accepts', $want, "config: $name: apache2 -t $want")
        or diag($out);
    like($out, $pat, "config: $name: message");
}
