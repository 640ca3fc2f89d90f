package JWTTest;
# Helpers shared by the mod_jwtauth test files: fixtures and a small,
# independent JWS maker (Digest::SHA's HMAC, JSON::PP), so that tests can
# craft any header, payload or signature, broken ones included.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512);
use JSON::PP ();
use MIME::Base64 qw(encode_base64url decode_base64url);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use Cwd qw(abs_path);

our @EXPORT = qw(fixture secret b64u unb64u jws token json_decode
                 json_encode t_dir apache_t logged_rows);

my $tdir = abs_path(dirname(__FILE__) . '/..');

sub t_dir { $tdir }

sub fixture { "$tdir/fixtures/$_[0]" }

# The key bytes as the module reads them: one trailing newline removed.
sub secret {
    my $name = shift // 'secret';
    open my $fh, '<:raw', fixture($name) or die "$name: $!";
    local $/;
    my $s = <$fh>;
    $s =~ s/\n\z//;
    return $s;
}

sub b64u { encode_base64url($_[0]) }
sub unb64u { decode_base64url($_[0]) }

my $json = JSON::PP->new->canonical;
sub json_encode { $json->encode($_[0]) }
sub json_decode { JSON::PP->new->decode($_[0]) }

my %mac = (HS256 => \&hmac_sha256, HS384 => \&hmac_sha384,
           HS512 => \&hmac_sha512);

# jws(header, payload, key, mac_alg): header and payload are hash refs
# (encoded as JSON) or raw strings (used as they are); the MAC is
# computed with mac_alg (default: the header's alg, else HS256).
sub jws {
    my ($hdr, $pay, $key, $mac_alg) = @_;
    $key //= secret();
    $mac_alg //= (ref $hdr && $hdr->{alg} && $mac{$hdr->{alg}})
               ? $hdr->{alg} : 'HS256';
    my $h = b64u(ref $hdr ? json_encode($hdr) : $hdr);
    my $p = b64u(ref $pay ? json_encode($pay) : $pay);
    my $sig = $mac{$mac_alg}->("$h.$p", $key);
    return "$h.$p." . b64u($sig);
}

# A valid token for the default key: claims merged over sub/exp.
sub token {
    my (%claims) = @_;
    my %c = (sub => 'daehan', exp => time + 300, %claims);
    delete $c{$_} for grep { !defined $c{$_} } keys %c;
    return jws({ alg => 'HS256', typ => 'JWT' }, \%c);
}

# apache_t([modules], line...): `apache2 -t` of a server of its own: the
# event MPM, authn_core, authz_core, the given modules and the module
# under test, then the lines.  Returns (exit code, output).
my ($libexec, $conf_dir, $conf_n);
sub apache_t {
    my ($mods, @lines) = @_;
    my $httpd = Apache::Test::vars('httpd');
    unless ($libexec) {
        chomp($libexec = `apxs -q LIBEXECDIR`);
        $conf_dir = tempdir(CLEANUP => 1);
    }
    my $conf = "$conf_dir/c" . ++$conf_n . '.conf';
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh join "\n", "ServerRoot $conf_dir", 'ServerName localhost',
        'Listen 127.0.0.1:1', "PidFile $conf_dir/$conf_n.pid",
        "ErrorLog $conf_dir/$conf_n.error_log", "DefaultRuntimeDir $conf_dir",
        map({ "LoadModule ${_}_module $libexec/mod_$_.so" }
            qw(mpm_event authn_core authz_core), @$mods),
        "LoadModule jwtauth_module $tdir/../.libs/mod_jwtauth.so", @lines, '';
    close $fh;
    my $out = `$httpd -t -f $conf 2>&1`;
    return ($? >> 8, $out);
}

# logged_rows($file, $offset, $n): the lines $file gained past $offset, as
# { first word => the rest of the line }, once $n rows are there or after
# 2 s (mod_log_config writes a request's line when the request ends, after
# the client has its answer).  {} when there is no $file.
sub logged_rows {
    my ($file, $offset, $n) = @_;
    my %rows;
    for (1 .. 20) {
        open my $fh, '<', $file or last;
        seek $fh, $offset, 0;
        %rows = map { chomp; my ($row, $rest) = split / /, $_, 2;
                      ($row => $rest) } <$fh>;
        last if keys %rows >= $n;
        select undef, undef, undef, 0.1;
    }
    return \%rows;
}

1;
