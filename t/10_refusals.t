# Refusals: a refused request is answered at once, without inviting or
# reading its body (Expect: 100-continue), as mod_auth_basic answers; an
# admin's ErrorDocument 401 replaces the seed's body, at the token check
# and at /login, while the default 401 stays the seed's JSON.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use IO::Select;
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

plan tests => 72, need_module('mod_jwtauth.c', 'mod_alias.c',
                              'mod_auth_basic.c', 'mod_authn_file.c');

my $MISSING = '{"message": "Token is missing!"}';
my $INVALID = '{"message": "Token is invalid!"}';
my $WAIT = 5;      # seconds a prompt answer may take
my $hostport = Apache::TestRequest::hostport(Apache::Test::config());

sub slurp {
    my $f = t_dir() . "/htdocs/$_[0]";
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    return scalar <$fh>;
}
my $PAGE = slurp('errors/401.html');

# ---- a raw HTTP/1.1 client: what LWP hides (interim 100 responses,
# ---- waiting for a body that was never sent, the connection's end)

my %buf;

# One read into the socket's buffer: 1 with data, 0 at EOF, undef when
# nothing came before the deadline.
sub fill {
    my ($s, $deadline) = @_;
    my $left = $deadline - time;
    return undef if $left <= 0 || !IO::Select->new($s)->can_read($left);
    my $n = sysread($s, my $chunk, 65536);
    return 0 unless $n;
    $buf{$s} .= $chunk;
    return 1;
}

# Read until the buffer holds $n bytes; false when it never does.
sub await_bytes {
    my ($s, $deadline, $n) = @_;
    while (length($buf{$s} // '') < $n) {
        return 0 unless fill($s, $deadline);
    }
    return 1;
}

# The next final response within $WAIT seconds: {lines => every status
# line seen (interim ones first), code, h => lower-cased headers, body};
# code is undef when no final response came in time.
sub read_response {
    my $s = shift;
    my $deadline = time + $WAIT;
    my %r = (lines => [], h => {}, body => '');

    for (;;) {
        while (($buf{$s} // '') !~ /\r\n\r\n/) {
            return \%r unless fill($s, $deadline);
        }
        my ($head, $rest) = split /\r\n\r\n/, $buf{$s}, 2;
        $buf{$s} = $rest;
        my ($line, @fields) = split /\r\n/, $head;
        push @{ $r{lines} }, $line;
        my ($code) = $line =~ m{^HTTP/1\.\d (\d{3})};
        next if defined $code && $code < 200;
        %{ $r{h} } = map { /^([^:]+):\s*(.*)$/ ? (lc $1, $2) : () } @fields;
        if (defined(my $cl = $r{h}{'content-length'})) {
            return \%r unless await_bytes($s, $deadline, $cl);
            $r{body} = substr($buf{$s}, 0, $cl, '');
        }
        elsif (($r{h}{'transfer-encoding'} // '') =~ /chunked/i) {
            for (;;) {
                while ($buf{$s} !~ /^([0-9a-fA-F]+)[^\r]*\r\n/) {
                    return \%r unless fill($s, $deadline);
                }
                my ($hex, $skip) = (hex $1, length $&);
                return \%r unless await_bytes($s, $deadline, $skip + $hex + 2);
                $r{body} .= substr($buf{$s}, $skip, $hex);
                substr($buf{$s}, 0, $skip + $hex + 2, '');
                last unless $hex;
            }
        }
        else {
            1 while fill($s, $deadline);
            $r{body} = $buf{$s};
            $buf{$s} = '';
        }
        $r{code} = $code;
        return \%r;
    }
}

# Does the server close the connection within $WAIT seconds?
sub closes {
    my $s = shift;
    my $deadline = time + $WAIT;
    my $got;
    1 while ($got = fill($s, $deadline));
    return defined $got;
}

sub connection {
    my $s = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => $WAIT);
    die "connect $hostport: $!" unless $s;
    return $s;
}

sub raw_request {
    my ($method, $path, @headers) = @_;
    return join("\r\n", "$method $path HTTP/1.1", "Host: $hostport",
                @headers, '', '');
}

sub basic { 'Basic ' . encode_base64(join(':', @_), '') }

# ---- the default 401 is the seed's, headers and body

# [name, path, token header, body, challenge]
my @default = (
    ['no token', '/refuse/hello.html', [], $MISSING,
     'Bearer realm="jwtauth"'],
    ['invalid token', '/refuse/hello.html', ['x-access-token' => 'abc'],
     $INVALID, 'Bearer realm="jwtauth", error="invalid_token"'],
    ['ErrorDocument 403 only', '/refuse-403/hello.html', [], $MISSING,
     'Bearer realm="jwtauth"'],
    ['ErrorDocument 401 default in a sub-scope', '/refuse-text/default/',
     [], $MISSING, 'Bearer realm="jwtauth"'],
);
for my $row (@default) {
    my ($name, $path, $hdrs, $body, $challenge) = @$row;
    my $res = GET($path, @$hdrs);
    is($res->code, 401, "$name: 401");
    is($res->content, $body, "$name: the seed's body");
    like($res->header('Content-Type') // '', qr{^application/json},
         "$name: application/json");
    is($res->header('WWW-Authenticate') // '', $challenge,
       "$name: Bearer challenge");
    is($res->header('Cache-Control') // '', 'no-store',
       "$name: Cache-Control no-store");
}

# ---- a body without Expect is discarded: the connection stays usable

{
    my $s = connection();
    print $s raw_request('POST', '/refuse/hello.html', 'Content-Length: 1000',
                         'Content-Type: application/octet-stream')
        . 'x' x 1000;
    my $r = read_response($s);
    is($r->{code}, 401, 'POST with a body: 401');
    is($r->{body}, $MISSING, 'POST with a body: the seed\'s body');
    unlike($r->{h}{connection} // '', qr/close/i,
           'POST with a body: the connection is kept');
    print $s raw_request('GET', '/refuse/hello.html');
    $r = read_response($s);
    is($r->{code}, 401,
       'the next request on that connection is answered (body discarded)');
    is($r->{body}, $MISSING, 'the next request gets its own 401 body');
    close $s;
}

# ---- Expect: 100-continue and a body never sent: the 401 comes at once,
# ---- with no 100 Continue, and the connection is closed

# [name, path, extra headers, expected body (undef: any)]
my @expect = (
    ['no token', '/refuse/hello.html', [], $MISSING],
    ['invalid token', '/refuse/hello.html', ['x-access-token: abc'],
     $INVALID],
    ['ErrorDocument 401 page', '/refuse-page/hello.html', [], $PAGE],
    ['mod_auth_basic (reference)', '/basic-ref/hello.html', [], undef],
);
for my $row (@expect) {
    my ($name, $path, $hdrs, $body) = @$row;
    my $s = connection();
    my $t0 = time;
    print $s raw_request('POST', $path, @$hdrs, 'Expect: 100-continue',
                         'Content-Length: 1000000',
                         'Content-Type: application/octet-stream');
    my $r = read_response($s);
    is($r->{code}, 401, "Expect, $name: 401 within $WAIT s");
    is($r->{lines}[0] // '', 'HTTP/1.1 401 Unauthorized',
       "Expect, $name: no 100 Continue before it");
    if (defined $body) {
        is($r->{body}, $body, "Expect, $name: the body as without Expect");
    }
    else {
        like($r->{body}, qr/401 Unauthorized/, "Expect, $name: its body");
    }
    like($r->{h}{connection} // '', qr/close/i,
         "Expect, $name: Connection: close (the body is never read)");
    ok(closes($s) && time - $t0 < $WAIT,
       "Expect, $name: the server closes the connection at once");
    close $s;
}

# ---- an admin's ErrorDocument 401 wins, at the token check and /login

my $tok = token();
# [name, path, headers, code, body, content type, challenge, whether the
# token check's Cache-Control: no-store is expected]
my @errdoc = (
    ['page, no token', '/refuse-page/hello.html', [], 401, $PAGE,
     qr{^text/html}, 'Bearer realm="jwtauth"', 1],
    ['page, invalid token', '/refuse-page/hello.html',
     ['x-access-token' => 'abc'], 401, $PAGE, qr{^text/html},
     'Bearer realm="jwtauth", error="invalid_token"', 1],
    ['string, no token', '/refuse-text/hello.html', [], 401, 'custom text',
     qr{^text/html}, 'Bearer realm="jwtauth"', 1],
    ['login page, wrong password', '/login-errpage',
     [Authorization => basic('daehan', 'wrong')], 401, $PAGE,
     qr{^text/html}, 'Basic realm="Login required!"', 0],
    ['login string, no credentials', '/login-errtext', [], 401,
     'login refused text', qr{^text/html}, 'Basic realm="Login required!"',
     0],
);
for my $row (@errdoc) {
    my ($name, $path, $hdrs, $code, $body, $ctype, $challenge, $nostore)
        = @$row;
    my $res = GET($path, @$hdrs);
    is($res->code, $code, "ErrorDocument $name: $code");
    is($res->content, $body, "ErrorDocument $name: the admin's body");
    like($res->header('Content-Type') // '', $ctype,
         "ErrorDocument $name: its content type");
    is($res->header('WWW-Authenticate') // '', $challenge,
       "ErrorDocument $name: the challenge is kept");
    is($res->header('Cache-Control') // '', 'no-store',
       "ErrorDocument $name: Cache-Control no-store is kept") if $nostore;
}

# the ErrorDocument changes nothing for a request that passes
my $res = GET('/refuse-page/hello.html', 'x-access-token' => $tok);
is($res->code, 200, 'ErrorDocument 401, valid token: 200');
like($res->content, qr/Hello, you hold a valid token/,
     'ErrorDocument 401, valid token: the page itself');
$res = GET('/login-errpage', Authorization => basic('daehan', '1234'));
is($res->code, 200, 'ErrorDocument 401 at /login, right password: 200');
like($res->content, qr/"token_type": "Bearer"/,
     'ErrorDocument 401 at /login, right password: a token');
