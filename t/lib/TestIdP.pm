package TestIdP;
# A loopback HTTPS identity provider for the tests of remote key sets
# (issue 10): starts t/idp/idp.py with Debian's /usr/bin/python3 and
# drives it through its plain-HTTP control port.
#
#   my $idp = TestIdP->start(dir => $dir, issuers => 2);
#   $idp->port('https')       # also 'wronghost', 'untrusted', 'control'
#   $idp->ca                  # DIR/ca.pem, the test CA (EC P-256)
#   $idp->issuer(0)           # https://127.0.0.1:P1/realms/r0
#   $idp->discovery_url(0)    # .../realms/r0/.well-known/openid-configuration
#   $idp->rfc8414_url(0)      # https://127.0.0.1:P1/.well-known/
#                             #   oauth-authorization-server/realms/r0
#   $idp->jwks_url(0)         # .../realms/r0/certs
#   $idp->url($port_name, $path)   # any document on any port
#   $idp->rotate(realm => 'r0', kty => 'EC', keep => 1)  # returns the kid
#                             # (also alg => 'PS256', crv => 'P-384',
#                             # kid => 'chosen')
#   $idp->remove(realm => 'r0', kid => $kid)
#   $idp->token(realm => 'r0', claims => {...}, kid => $kid|'random')
#                             # returns the token; in list context
#                             # (token, kid); a claim given as undef is
#                             # left out; defaults iss, sub, iat, exp+300
#   $idp->mode(realm => 'r0', path => 'jwks', mode => 'hang',
#              seconds => 5)
#   $idp->count(realm => 'r0', path => 'jwks')   # requests on that path
#   $idp->reset_counts
#   $idp->shape(realm => 'r0', shape => 'entra')  # how its JWKS looks
#   $idp->down('https')        # the port refuses connections (outage)
#   $idp->up('https')          # back on the same port, the same keys
#   $idp->jwks(realm => 'r0')  # the published set, decoded
#   $idp->kids(realm => 'r0')  # the kids of its signing keys
#   $idp->control(METHOD => '/path?query', $body)  # raw: (status, decoded)
#   $idp->stop                 # SIGTERM, wait, SIGKILL after 5 s
#
# The server (t/idp/idp.py) listens on 127.0.0.1 only, on free ports:
#   https      certificate of the test CA for 127.0.0.1 and localhost
#   wronghost  certificate of the same CA for wronghost.invalid only
#   untrusted  self-signed certificate for 127.0.0.1 and localhost
#   control    plain HTTP: the control API below, and the documents too
# Every port serves the same documents:
#   /realms/rI/.well-known/openid-configuration   discovery (Keycloak's)
#   /.well-known/oauth-authorization-server/realms/rI   RFC 8414, the same
#   /realms/rI/certs (and /realms/rI/protocol/openid-connect/certs)   JWKS
#   /moved/<any of those>   the target of the redirect modes (never moded)
# Each realm's JWKS holds first an RSA-OAEP "use": "enc" key (never used
# to sign), then its published signing keys (at start one RS256 key),
# each with kid, kty, alg, use and Keycloak's x5c, x5t, x5t#S256.
# Control API (JSON answers; 400 {"message": ...} for a bad request):
#   POST /rotate?realm=&kty=RSA|EC|OKP[&alg=&crv=&kid=]&keep=1|0
#   POST /remove?realm=&kid=
#   POST /token?realm=[&kid=K|random][&aud=] body: JSON claims
#   POST /mode?realm=&path=jwks|discovery&mode=M[&seconds=S]
#   GET  /count?realm=&path=   POST /reset-counts   GET /jwks?realm=
#   POST /shape?realm=&shape=keycloak|entra|auth0|okta|google   the JWKS
#        as that provider publishes it: its members and their order, no
#        enc key but Keycloak's, Entra's per-key "issuer" and no "alg"
#        (tokens are the same; give their claims in /token's body)
#   POST /listen?port=https|wronghost|untrusted&on=0|1   an outage: on=0
#        closes the listening socket (connection refused) and cuts the
#        open connections; on=1 listens again on the same port
#   GET  /info (ports, realms, current kids, modes)
# Modes (per realm and path; 'discovery' covers both metadata URLs):
#   ok; status500; status404; notjson (200 text/html);
#   hang: accept, read the request, never answer, until the mode of that
#     path changes, S seconds pass (default: no limit) or the IdP stops,
#     then close the connection without a word;
#   slow: answer normally after S seconds (default 3);
#   empty: jwks {"keys": []}, discovery {};
#   nosig: jwks with only the enc key (discovery: as ok);
#   big: the normal document plus a 2 MB "x-padding" member (valid JSON);
#   redirect: 302 to /moved/<path> on the same port (same origin);
#   redirect_other: 302 to the same on another port and scheme (https
#     ports -> http://127.0.0.1:control, control -> https port);
#   close: close the connection without answering;
#   badissuer: discovery's issuer gets a trailing slash (jwks: as ok);
#   maxage: the normal document with Cache-Control: max-age=S (def. 300).
# DIR is made mode 0755 and ca.pem 0644, but httpd's children (nobody)
# fetch with JWTAuthKeysCAFile: every directory above DIR must let them
# through too (File::Temp's tempdir is 0700).
# idp.py exits on SIGTERM, and by itself when the process that started
# it is gone (a test killed by a signal runs no END block).
# Client timeouts over TLS: HTTP::Tiny's timeout does not bound a read
# once TLS 1.3 session tickets arrived (it blocks in SSL_read); use curl
# --max-time (or IO::Socket::SSL with a select of your own) on 'hang'.
# HTTP::Tiny also retries a GET whose connection closed without an
# answer ('close', 'hang' with seconds): two requests at the IdP's count.
# Counts: every request for a path of that realm on any port, counted when
# its request line is read (so hanging ones count, and a redirect that is
# followed counts twice); a TLS handshake that fails is not a request.
use strict;
use warnings FATAL => 'all';
use HTTP::Tiny;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep time);
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $script = abs_path(dirname(__FILE__) . '/../idp/idp.py');
my $python = '/usr/bin/python3';
my %alive;                     # pid -> object, for END

# start(dir => DIR, issuers => N, timeout => seconds): a running IdP, or
# die with the tail of its log.
sub start {
    my ($class, %a) = @_;
    my $dir = $a{dir} or die "TestIdP->start: dir is required\n";
    my $n = $a{issuers} // 1;
    my $timeout = $a{timeout} // 30;
    mkdir $dir unless -d $dir;
    unlink "$dir/ready", "$dir/ports.json", "$dir/pid";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/idp.log";
        open STDERR, '>&', \*STDOUT;
        { exec $python, $script, '--dir', $dir, '--issuers', $n }
        print STDERR "exec $python: $!\n";
        POSIX::_exit(127);
    }
    my $self = bless { dir => $dir, pid => $pid, issuers => $n,
                       owner => $$ }, $class;
    $alive{$pid} = $self;
    my $end = time + $timeout;
    until (-e "$dir/ready") {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            delete $alive{$pid};
            $self->{pid} = undef;
            die "TestIdP: idp.py exited (status $?):\n" . $self->log_tail;
        }
        if (time > $end) {
            $self->stop;
            die "TestIdP: not ready after ${timeout}s:\n" . $self->log_tail;
        }
        sleep 0.05;
    }
    open my $fh, '<', "$dir/ports.json" or die "$dir/ports.json: $!";
    local $/;
    $self->{ports} = JSON::PP->new->decode(<$fh>);
    $self->{http} = HTTP::Tiny->new(timeout => 30, keep_alive => 0);
    return $self;
}

sub log_tail {
    my $self = shift;
    my $out = '';
    for my $f ("$self->{dir}/idp.log", "$self->{dir}/access.log") {
        open my $fh, '<', $f or next;
        my @l = <$fh>;
        $out .= "--- $f\n" . join '', @l[ ($#l > 30 ? $#l - 30 : 0) .. $#l ];
    }
    return $out;
}

sub dir { $_[0]{dir} }
sub pid { $_[0]{pid} }
sub ca { "$_[0]{dir}/ca.pem" }
sub issuers { $_[0]{issuers} }

sub port {
    my ($self, $name) = @_;
    my $p = $self->{ports}{$name // 'https'};
    die "TestIdP: no port named $name\n" unless defined $p;
    return $p;
}

# url(port name, path): https://127.0.0.1:P/path (http:// on control)
sub url {
    my ($self, $name, $path) = @_;
    my $scheme = ($name // 'https') eq 'control' ? 'http' : 'https';
    return "$scheme://127.0.0.1:" . $self->port($name) . $path;
}

sub _realm { my $i = $_[0] // 0; $i =~ /^r/ ? $i : "r$i" }

sub issuer {
    my ($self, $i) = @_;
    return $self->url('https', '/realms/' . _realm($i));
}
sub discovery_url {
    $_[0]->issuer($_[1]) . '/.well-known/openid-configuration';
}
sub rfc8414_url {
    my ($self, $i) = @_;
    return $self->url('https', '/.well-known/oauth-authorization-server'
                               . '/realms/' . _realm($i));
}
sub jwks_url { $_[0]->issuer($_[1]) . '/certs' }

sub _query {
    my %q = @_;
    my @k = grep { defined $q{$_} } sort keys %q;
    return '' unless @k;
    return '?' . join '&', map {
        "$_=" . ($q{$_} =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ger)
    } @k;
}

# control(METHOD, path with query, body): (status, decoded JSON answer)
sub control {
    my ($self, $method, $path, $body) = @_;
    my $r = $self->{http}->request($method, $self->url('control', $path),
        defined $body ? { content => $body,
                          headers => { 'Content-Type' =>
                                       'application/json' } } : {});
    my $doc = eval { JSON::PP->new->decode($r->{content}) };
    return ($r->{status}, $doc);
}

# the same, dying unless the answer is 200
sub _ok {
    my ($self, $method, $path, $body) = @_;
    my ($status, $doc) = $self->control($method, $path, $body);
    die "TestIdP: $method $path: $status "
        . ($doc && ref $doc eq 'HASH' ? $doc->{message} // '' : '') . "\n"
        unless $status == 200 && ref $doc eq 'HASH';
    return $doc;
}

sub rotate {
    my ($self, %a) = @_;
    my $d = $self->_ok(POST => '/rotate' . _query(
        realm => _realm($a{realm}), kty => $a{kty} // 'RSA',
        keep => $a{keep} // 1, alg => $a{alg}, crv => $a{crv},
        kid => $a{kid}));
    return $d->{kid};
}

sub remove {
    my ($self, %a) = @_;
    $self->_ok(POST => '/remove' . _query(realm => _realm($a{realm}),
                                           kid => $a{kid}));
    return 1;
}

sub token {
    my ($self, %a) = @_;
    my $claims = $a{claims} // {};
    my $d = $self->_ok(POST => '/token' . _query(
        realm => _realm($a{realm}), kid => $a{kid}, kty => $a{kty},
        alg => $a{alg}, crv => $a{crv}, aud => $a{aud}),
        JSON::PP->new->canonical->encode($claims));
    return wantarray ? ($d->{token}, $d->{kid}) : $d->{token};
}

sub mode {
    my ($self, %a) = @_;
    $self->_ok(POST => '/mode' . _query(
        realm => _realm($a{realm}), path => $a{path} // 'jwks',
        mode => $a{mode} // 'ok', seconds => $a{seconds}));
    return 1;
}

sub count {
    my ($self, %a) = @_;
    return $self->_ok(GET => '/count' . _query(
        realm => _realm($a{realm}), path => $a{path} // 'jwks'))->{count};
}

sub reset_counts { $_[0]->_ok(POST => '/reset-counts'); 1 }

sub jwks {
    my ($self, %a) = @_;
    return $self->_ok(GET => '/jwks' . _query(realm => _realm($a{realm})));
}

# the kids of the published signing keys (the enc key left out)
sub kids {
    my ($self, %a) = @_;
    return map { $_->{kid} } grep { ($_->{use} // '') ne 'enc' }
        @{ $self->jwks(%a)->{keys} };
}

sub info { $_[0]->_ok(GET => '/info') }

sub shape {
    my ($self, %a) = @_;
    $self->_ok(POST => '/shape' . _query(realm => _realm($a{realm}),
                                          shape => $a{shape}));
    return 1;
}

# down(port name) / up(port name): an outage of that HTTPS port and its end
sub down {
    my ($self, $name) = @_;
    $self->_ok(POST => '/listen' . _query(port => $name // 'https', on => 0));
    return 1;
}
sub up {
    my ($self, $name) = @_;
    $self->_ok(POST => '/listen' . _query(port => $name // 'https', on => 1));
    return 1;
}

# stop: SIGTERM, wait up to 5 s, then SIGKILL; idempotent.  Only the
# process that started the IdP stops it (not a forked child's exit).
sub stop {
    my $self = shift;
    my $pid = $self->{pid};
    return 1 unless $pid && $self->{owner} == $$;
    kill 'TERM', $pid;
    my $end = time + 5;
    while (time < $end) {
        last if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.05;
    }
    if (kill 0, $pid) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    delete $alive{$pid};
    $self->{pid} = undef;
    return 1;
}

sub DESTROY { local ($?, $@); $_[0]->stop }

END { local $?; $_->stop for values %alive }

1;
