# Independent implementations: PyJWT (the seed's own library, Debian's
# python3-jwt) and Crypt::JWT make tokens we must accept or refuse, and
# verify the tokens /login issues.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use MIME::Base64 qw(encode_base64);
use Crypt::JWT qw(encode_jwt decode_jwt);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

plan tests => 29, need_module('mod_jwtauth.c');

my $PY = '/usr/bin/python3';    # Debian's: PyJWT is not in pyenv's python

# Run a PyJWT snippet; argv[1] is the key file, the rest as given.
sub pyjwt {
    my ($code, @args) = @_;
    open my $fh, '-|', $PY, '-c', "import sys, time, jwt\n"
        . "key = open(sys.argv[1], 'rb').read()\n"
        . "if key.endswith(b'\\n'): key = key[:-1]\n$code", fixture('secret'),
        @args or die "python3: $!";
    local $/;
    my $out = <$fh>;
    close $fh;
    $out =~ s/\n\z// if defined $out;
    return ($? >> 8, $out // '');
}

sub status { GET('/protected/hello.html', 'x-access-token' => $_[0])->code }

# PyJWT makes, we check
for my $alg (qw(HS256 HS384 HS512)) {
    my ($rc, $tok) = pyjwt("print(jwt.encode({'sub': 'daehan', 'exp': "
        . "int(time.time()) + 60}, key, algorithm='$alg'))");
    is($rc, 0, "PyJWT $alg token accepted: PyJWT ran");
    is(status($tok), 200, "PyJWT $alg token accepted: status");
}
my ($rc, $tok) = pyjwt("print(jwt.encode({'sub': 'daehan', 'exp': "
    . "int(time.time()) - 5}, key, algorithm='HS256'))");
is(status($tok), 401, 'PyJWT expired token refused');
($rc, $tok) = pyjwt("print(jwt.encode({'sub': 'daehan', 'exp': "
    . "int(time.time()) + 60}, b'x' * 64, algorithm='HS256'))");
is(status($tok), 401, 'PyJWT token under another key refused');
($rc, $tok) = pyjwt("print(jwt.encode({'sub': 'daehan', 'exp': "
    . "int(time.time()) + 60}, None, algorithm='none'))");
like($tok, qr/\.$/, 'PyJWT alg none refused: no signature');
is(status($tok), 401, 'PyJWT alg none refused: status');
($rc, $tok) = pyjwt("print(jwt.encode({'sub': 'daehan', 'exp': "
    . "int(time.time()) + 60, 'nbf': int(time.time()) + 3600}, key, "
    . "algorithm='HS256'))");
is(status($tok), 401, 'PyJWT token with nbf an hour ahead refused');
# the seed's own token, as dh_jwt.py makes it
($rc, $tok) = pyjwt("import datetime\nprint(jwt.encode({'id': 1, 'exp': "
    . "datetime.datetime.utcnow() + datetime.timedelta(minutes=30)}, key))");
is(GET('/seed/', 'x-access-token' => $tok)->code, 200,
   "the seed's PyJWT token accepted (JWTAuthUserClaim id)");

# Crypt::JWT makes, we check
my $key = secret();
for my $alg (qw(HS256 HS384 HS512)) {
    my $t = encode_jwt(payload => { sub => 'daehan', exp => time + 60 },
                       alg => $alg, key => $key);
    is(status($t), 200, "Crypt::JWT $alg token accepted");
}
$tok = encode_jwt(payload => { sub => 'daehan', exp => time + 60 },
                  alg => 'none', allow_none => 1);
is(status($tok), 401, 'Crypt::JWT alg none refused');
$tok = encode_jwt(payload => { sub => 'daehan', exp => time + 60 },
                  alg => 'HS256', key => $key, extra_headers => {
                      crit => ['exp'] });
is(status($tok), 401, 'Crypt::JWT token with crit refused');
$tok = encode_jwt(payload => { sub => 'daehan' }, alg => 'HS256',
                  key => $key);
is(status($tok), 401, 'Crypt::JWT token without exp refused');

# /login makes, they check
my $basic = 'Basic ' . encode_base64('daehan:1234', '');
my $issued = json_decode(GET_BODY('/login', Authorization => $basic))->{token};
($rc, my $out) = pyjwt("print(jwt.decode(sys.argv[2], key, "
    . "algorithms=['HS256'])['sub'])", $issued);
is($rc, 0, 'PyJWT verifies a /login token: exit status');
is($out, 'daehan', 'PyJWT verifies a /login token: sub');
($rc, $out) = pyjwt("print(jwt.decode(sys.argv[2], b'y' * 64, "
    . "algorithms=['HS256']))", $issued);
isnt($rc, 0, 'PyJWT refuses it under another key (the check can fail)');
my $c = eval { decode_jwt(token => $issued, key => $key,
                          accepted_alg => 'HS256', verify_exp => 1) } || {};
is($c->{sub}, 'daehan', 'Crypt::JWT verifies a /login token');
ok(!eval { decode_jwt(token => $issued, key => 'z' x 64); 1 },
   'Crypt::JWT refuses it under another key');

my $issaud = json_decode(GET_BODY('/login-issaud',
                                  Authorization => $basic))->{token};
($rc, $out) = pyjwt("c = jwt.decode(sys.argv[2], key, algorithms=['HS384'], "
    . "audience='web', issuer='https://login.example')\nprint(c['iss'])",
    $issaud);
is($rc, 0, 'PyJWT verifies HS384 with iss and aud: exit status');
is($out, 'https://login.example', 'PyJWT verifies HS384 with iss and aud: iss');
($rc, $out) = pyjwt("jwt.decode(sys.argv[2], key, algorithms=['HS384'], "
    . "audience='other')", $issaud);
isnt($rc, 0, 'PyJWT refuses it for another audience');
$c = eval { decode_jwt(token => $issaud, key => $key, accepted_alg => 'HS384',
                       verify_iss => 'https://login.example',
                       verify_aud => sub {
                           my $aud = shift;   # this Crypt::JWT compares
                           return grep { $_ eq 'api' }   # arrays as text
                                  ref $aud ? @$aud : $aud;
                       }) } || {};
is(ref $c->{aud}, 'ARRAY', 'Crypt::JWT verifies HS384 with iss and aud');

my $dbd = json_decode(GET_BODY('/login-dbd', Authorization => $basic))->{token};
($rc, $out) = pyjwt("c = jwt.decode(sys.argv[2], key, algorithms=['HS256'])\n"
    . "print(repr(c['id']), repr(c['admin']))", $dbd);
is($rc, 0, "PyJWT reads the seed's claims as int 1 and True: exit status");
is($out, '1 True', "PyJWT reads the seed's claims as int 1 and True: repr");
