# Claims exported as JWT_CLAIM_<name>: only names of A-Z a-z 0-9 _ reach
# the environment, claims whose names differ only in case are none of
# them exported (httpd's tables ignore case), the skipped names are
# logged at info, and Require jwt-claim still decides on the exact claim.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

# payloads are written out, not made from a hash, so that the order of
# the claims (which httpd's tables would keep) is the test's
my $EXP = time + 3600;
my @env_rows = (
    # [what, claims after sub and exp, CGI's JWT_CLAIM_* but sub and exp,
    #  X-Env-Role, X-Env-Dash, skipped names logged (undef: no line)]
    ['plain names',
     '"role":"user","a_b":"under","v":"a=b","123":"d","n":[1,{"k":null}]',
     'JWT_CLAIM_123=d JWT_CLAIM_a_b=under JWT_CLAIM_n=[1,{"k":null}] '
     . 'JWT_CLAIM_role=user JWT_CLAIM_v=a=b', 'user', '(null)', undef],
    ['role then ROLE', '"role":"user","ROLE":"admin"', '', '(null)',
     '(null)', '"role", "ROLE"'],
    ['ROLE then role', '"ROLE":"admin","role":"user"', '', '(null)',
     '(null)', '"ROLE", "role"'],
    ['three spellings of role', '"Role":"a","rOLE":"b","role":"c","k":1',
     'JWT_CLAIM_k=1', '(null)', '(null)', '"Role", "rOLE", "role"'],
    ['a_b then a-b', '"a_b":"under","a-b":"dash"', 'JWT_CLAIM_a_b=under',
     '(null)', '(null)', '"a-b"'],
    ['a-b then a_b', '"a-b":"dash","a_b":"under"', 'JWT_CLAIM_a_b=under',
     '(null)', '(null)', '"a-b"'],
    ['a-b alone', '"a-b":"dash"', '', '(null)', '(null)', '"a-b"'],
    ['x=y', '"x=y":"z"', '', '(null)', '(null)', '"x=y"'],
    ['spaces, dots, empty name', '"a b":1,"a.b":2,"":3,"ok":4',
     'JWT_CLAIM_ok=4', '(null)', '(null)', '"a b", "a.b", ""'],
    ['escaped name is its decoded self', '"\u0072ole":"user"',
     'JWT_CLAIM_role=user', 'user', '(null)', undef],
    ['escaped role and ROLE', '"\u0072ole":"user","ROLE":"admin"', '',
     '(null)', '(null)', '"role", "ROLE"'],
    # no raw byte of a name reaches the log: the module escapes them
    # (\xc3, \n, \") and httpd's error log escapes the backslashes again
    ['non-ASCII and control characters',
     '"\u00e9":1,"a\nb":2,"q\"":3', '', '(null)', '(null)',
     '"\\\\xc3\\\\xa9", "a\\\\nb", "q\\\\""'],
);
my @role_rows = (
    # [what, claims after sub and exp, status, and when 200 the CGI's
    #  JWT_CLAIM_role (undef: not exported)]
    ['role user, ROLE admin', '"role":"user","ROLE":"admin"', 200, undef],
    ['ROLE admin, role user', '"ROLE":"admin","role":"user"', 200, undef],
    ['role admin, ROLE user', '"role":"admin","ROLE":"user"', 403],
    ['ROLE user alone', '"ROLE":"user"', 403],
    ['Role user, role admin', '"Role":"user","role":"admin"', 403],
    ['role user, Role admin', '"role":"user","Role":"admin"', 200, undef],
    ['escaped role user', '"\u0072ole":"user"', 200, 'user'],
    ['role user alone', '"role":"user"', 200, 'user'],
);
my $role_tests = 0;
$role_tests += $_->[2] == 200 ? 3 : 1 for @role_rows;

# one condition: Apache::Test reads only a single value after the plan
plan tests => 5 * @env_rows + $role_tests + 1 + 3,
    need(need_cgi(), need_module('mod_jwtauth.c', 'mod_headers.c',
                                 'mod_alias.c', 'mod_setenvif.c'),
         { 'CGI scripts do not start under the one-process valgrind run'
           => ($ENV{JWTAUTH_WRAP} // '') ne 'valgrind' });

sub claims_token {
    my $claims = shift;
    my $json = qq({"sub":"daehan","exp":$EXP) . ($claims ne '' ? ",$claims"
                                                             : '') . '}';
    return jws({ alg => 'HS256', typ => 'JWT' }, $json);
}

# the CGI's JWT_CLAIM_* variables but sub and exp, sorted, as N=V N=V
sub env_text {
    my $env = shift;
    return join ' ', map { "$_=$env->{$_}" }
        sort grep { /^JWT_CLAIM_/ && !/^JWT_CLAIM_(sub|exp)$/ } keys %$env;
}

# the names of the skipped-claims lines in the log (each quoted and
# escaped, joined by ", "), the lines joined by '|'
sub skipped_logged {
    my @lines = map { /claims not exported as JWT_CLAIM_\*: (.*) \(a name/
                      ? $1 : () } @_;
    return @lines ? join('|', @lines) : undef;
}

for my $row (@env_rows) {
    my ($what, $claims, $want_env, $want_role, $want_dash, $want_log) = @$row;
    t_start_error_log_watch();
    my $res = GET('/export-env/env.cgi',
                  'x-access-token' => claims_token($claims));
    my @log = t_finish_error_log_watch();
    my $env = eval { json_decode($res->content) } || {};

    is($res->code, 200, "$what: CGI runs");
    is(env_text($env), $want_env, "$what: the CGI's JWT_CLAIM_* variables");
    is($res->header('X-Env-Role') // '', $want_role,
       "$what: JWT_CLAIM_role in the request's table");
    is($res->header('X-Env-Dash') // '', $want_dash,
       "$what: JWT_CLAIM_a-b in the request's table");
    is(skipped_logged(@log), $want_log, "$what: skipped names logged");
}

for my $row (@role_rows) {
    my ($what, $claims, $want_code, $want_role) = @$row;
    my $res = GET('/export-role/env.cgi',
                  'x-access-token' => claims_token($claims));

    is($res->code, $want_code, "Require jwt-claim role user, $what");
    next if $want_code != 200;
    my $env = eval { json_decode($res->content) } || {};
    is(($env->{JWT_CLAIM_sub} // 'none') . ' '
       . ($env->{JWT_CLAIM_role} // 'none'), 'daehan ' . ($want_role // 'none'),
       "Require jwt-claim role user, $what: JWT_CLAIM_sub and JWT_CLAIM_role");
    is(join(' ', sort grep { /^JWT_CLAIM_role$/i && $_ ne 'JWT_CLAIM_role' }
                      keys %$env), '',
       "Require jwt-claim role user, $what: no other spelling exported");
}

# sub and exp are exported beside the skipped ones
my $res = GET('/export-env/env.cgi',
              'x-access-token' => claims_token('"role":"a","ROLE":"b"'));
my $env = eval { json_decode($res->content) } || {};
is(join(' ', map { "$_=" . ($env->{$_} // 'none') }
             qw(JWT_CLAIM_sub JWT_CLAIM_exp)),
   "JWT_CLAIM_sub=daehan JWT_CLAIM_exp=$EXP",
   'sub and exp exported beside a case clash');

# set before the access check under the claims' names (SetEnvIf): the
# token's values replace them, whatever the case of the name set; seen
# on a static page (a CGI's start compresses the table, last value
# winning, which would hide a variable left in front)
$res = GET('/export-preset/hello.html',
           'x-access-token' => claims_token('"role":"user"'));
is($res->header('X-Env-Role') // '', 'user',
   'JWT_CLAIM_role set before the check: the token\'s value in the table');
is($res->header('X-Env-Sub') // '', 'daehan',
   'jwt_claim_SUB set before the check: the token\'s sub in the table');
$res = GET('/export-preset/env.cgi',
           'x-access-token' => claims_token('"role":"user"'));
$env = eval { json_decode($res->content) } || {};
is(join(' ', map { "$_=$env->{$_}" } sort grep { /^JWT_CLAIM_role$/i }
             keys %$env), 'JWT_CLAIM_role=user',
   'the CGI sees JWT_CLAIM_role once, with the token\'s value');
