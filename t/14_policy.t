# A policy's identity through the server (t/conf/policy.conf.in): for
# each member, a scope b that differs from scope a in that member alone
# refuses a's token, directly, from an SSI subrequest of a page in a
# (subrequest reuse), and after a has accepted it (the shared cache
# tier); t/unit/test_policy.c holds the same rows against the core.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $REPEAT = 8;

my $rsa = Crypt::PK::RSA->new(fixture('rsa.key'));
sub rs256 {
    my (%hdr) = @_;
    return encode_jwt(payload => { sub => 'daehan', exp => time + 300 },
                      key => $rsa, alg => 'RS256',
                      extra_headers => \%hdr);
}

# member => [ token, headers it travels in ]
my @rows = (
    [ algs    => token() ],
    [ keys    => token() ],
    [ keyalgs => rs256() ],
    [ kid     => rs256(kid => 'kidA') ],
    [ iss     => token(iss => 'https://a.example') ],
    [ aud     => token(aud => 'api') ],
    [ leeway  => token(exp => time - 30) ],
    [ typ     => token() ],
    [ user    => token() ],
    [ header  => token() ],
);

plan tests => 6 * @rows, need_module('mod_jwtauth.c', 'mod_include.c',
                                      'mod_alias.c');

for my $row (@rows) {
    my ($m, $tok) = @$row;
    my @h = ('x-access-token' => $tok);
    my $res = GET("/pol/$m/a/hello.html", @h);
    is($res->code, 200, "$m: a accepts the token");
    $res = GET("/pol/$m/b/hello.html", @h);
    is($res->code, 401, "$m: b, differing in $m alone, refuses it");

    $res = GET("/pol/$m/a/page.shtml", @h);
    is($res->code, 200, "$m: a's page served");
    like($res->content, qr/page of a.*end of page/s,
         "$m: a's page has its own text");
    unlike($res->content, qr/part of b/,
           "$m: the subrequest into b does not reuse a's result");

    # a has accepted the token (and the shared tier holds it): b still
    # refuses it, whichever thread or process answers
    my @codes = map { GET("/pol/$m/b/hello.html", @h)->code } 1 .. $REPEAT;
    is("@codes", join(' ', (401) x $REPEAT),
       "$m: b refuses it $REPEAT times after a accepted it");
}
