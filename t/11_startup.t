# Startup checks: `apache2 -t` refuses only a scope certain to fail, as
# a request for the section's own path merges it (every <Location> that
# matches that path, in order; a <Directory> after its parents); what
# only a request can tell fails that request with a 500 and one log line.
# Every JWTAuthAlgorithms entry needs a key somewhere that can run it;
# JWTAuth On meeting Satisfy Any is warned about.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use IO::Socket::INET;
use LWP::UserAgent;
use POSIX qw(WNOHANG);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $httpd = Apache::Test::vars('httpd');
my $libexec = `apxs -q LIBEXECDIR`;
chomp $libexec;
my $so = t_dir() . '/../.libs/mod_jwtauth.so';
my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
my $fx = t_dir() . '/fixtures';
my $s64 = fixture('secret');
make_path("$dir/d/sub", "$dir/e", "$dir/h", "$dir/htdocs/api/admin");

# the head of every configuration: a server that loads the module
sub conf_file {
    my ($name, @directives) = @_;
    my $conf = "$dir/$name.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh join "\n",
        "ServerRoot $dir", "ServerName localhost",
        "PidFile $dir/$name.pid", "ErrorLog $dir/$name.error_log",
        "DefaultRuntimeDir $dir",
        map({ "LoadModule ${_}_module $libexec/mod_$_.so" }
            qw(mpm_event authn_core authz_core access_compat)),
        "LoadModule jwtauth_module $so", @directives, '';
    close $fh;
    return $conf;
}

my $ON = "JWTAuth On";
my $KEY = "JWTAuthSecretFile $s64";
sub loc { my $p = shift; join "\n", "<Location $p>", @_, '</Location>' }
sub dir { my $p = shift; join "\n", "<Directory $p>", @_, '</Directory>' }

# [name, directives, refused?, pattern the output matches, and one it
# must not match]
my @rows = (
    # defect 1: each section in the scope of a request for its own path
    ['a key in /api reaches JWTAuth On in /api/admin',
     loc('/api', $KEY) . "\n" . loc('/api/admin', $ON), 0, qr/Syntax OK/],
    ['a later /b merges into /b/admin too',
     loc('/b/admin', $ON) . "\n" . loc('/b', $KEY), 0, qr/Syntax OK/],
    ['JWTAuth On with no key anywhere', loc('/z', $ON), 1,
     qr{section for /z: JWTAuth On but no key}],
    ['/api does not prefix /apix', loc('/api', $KEY) . "\n"
     . loc('/apix', $ON), 1, qr{section for /apix: JWTAuth On but no key}],
    ['a key in a matching LocationMatch', qq{<LocationMatch "^/m">\n$KEY\n}
     . "</LocationMatch>\n" . loc('/m/x', $ON), 0, qr/Syntax OK/],
    ['a key in a LocationMatch that does not match',
     qq{<LocationMatch "^/q">\n$KEY\n</LocationMatch>\n} . loc('/m/x', $ON),
     1, qr{section for /m/x: JWTAuth On but no key}],
    ['JWTAuth On in a LocationMatch is left to the request',
     qq{<LocationMatch "^/r[0-9]">\n$ON\n</LocationMatch>}, 0, qr/Syntax OK/],
    ['JWTAuth On in <Location ~> is left to the request',
     qq{<Location ~ "^/t">\n$ON\n</Location>}, 0, qr/Syntax OK/],
    ['JWTAuth On in <Files> is left to the request',
     qq{<Files "x.html">\n$ON\n</Files>}, 0, qr/Syntax OK/],
    ['JWTAuth On in <If> is left to the request',
     qq{<If "%{REQUEST_URI} =~ m#^/iff#">\n$ON\n</If>}, 0, qr/Syntax OK/],
    ['a key in a <Directory> may reach a Location', dir("$dir/h", $KEY)
     . "\n" . loc('/k', $ON), 0, qr/Syntax OK/],
    ['a key in a parent <Directory>', dir("$dir/d", $KEY) . "\n"
     . dir("$dir/d/sub", $ON), 0, qr/Syntax OK/],
    ['JWTAuth On in a <Directory> with no key', dir("$dir/e", $ON), 1,
     qr{section for \Q$dir\E/e/: JWTAuth On but no key}],
    ['a .htaccess may lift JWTAuth On', dir("$dir/e", $ON,
     'AllowOverride AuthConfig'), 0, qr/Syntax OK/],
    # defect 2: every listed algorithm needs a key somewhere
    ['HS256 RS256 ES512 with an HMAC secret only',
     "$KEY\nJWTAuthAlgorithms HS256 RS256 ES512", 1,
     qr/mod_jwtauth:\ JWTAuthAlgorithms\ RS256\ ES512:\ no\ key\ of\ the
        \ configuration\ can\ run\ it/x],
    ['... and JWTAuth On under it', "$KEY\nJWTAuthAlgorithms HS256 RS256\n"
     . loc('/x', $ON), 1, qr/JWTAuthAlgorithms RS256: no key/],
    ['a server-wide list for the keys of sections',
     "$KEY\nJWTAuthAlgorithms HS256 RS256 ES256\n"
     . loc('/rsa', $ON, "JWTAuthKeyFile $fx/rsa.pub") . "\n"
     . loc('/ec', $ON, "JWTAuthKeyFile $fx/ec256.pub"), 0, qr/Syntax OK/],
    ['a section naming an algorithm no key runs',
     loc('/x', "JWTAuthKeyFile $fx/ec256.pub", 'JWTAuthAlgorithms ES256 '
     . 'PS256 EdDSA'), 1,
     qr{section\ for\ /x:\ JWTAuthAlgorithms\ PS256\ EdDSA:\ no\ key}x],
    ['the signing key counts', "$KEY\nJWTAuthSigningKeyFile $fx/rsa.key\n"
     . "JWTAuthAlgorithms RS256 HS256", 0, qr/Syntax OK/],
    ['an <If> naming an algorithm no key runs',
     qq{$KEY\n<If "true">\nJWTAuthAlgorithms ES384\n</If>}, 1,
     qr{section for <If>: JWTAuthAlgorithms ES384: no key}],
    # defect 8: JWTAuth On meets Satisfy Any
    ['Satisfy Any with JWTAuth On warns',
     loc('/sa', $ON, $KEY, 'Satisfy Any', 'Require jwt-claim admin true'), 0,
     qr{section\ for\ /sa:\ JWTAuth\ On\ with\ Satisfy\ Any:\ the\ Require
        \ rules\ may\ then\ not\ be\ checked:\ a\ valid\ token\ passes
        \ as\ soon\ as\ the\ host\ rules\ do}x],
    ['Satisfy Any in /p meets JWTAuth On in /p/x',
     loc('/p', 'Satisfy Any') . "\n" . loc('/p/x', $ON, $KEY), 0,
     qr{section for /p/x: JWTAuth On with Satisfy Any}],
    ['Satisfy Any under <Limit GET>',
     loc('/sl', $ON, $KEY, "<Limit GET>\nSatisfy Any\n</Limit>"), 0,
     qr{section for /sl: JWTAuth On with Satisfy Any}],
    ['no warning without Satisfy Any',
     loc('/ns', $ON, $KEY, 'Satisfy All', 'Require jwt-claim admin true'), 0,
     qr/Syntax OK/, qr/Satisfy Any/],
    ['no warning where Satisfy Any has no JWTAuth On',
     "$KEY\n" . loc('/nj', 'Satisfy Any'), 0, qr/Syntax OK/, qr/Satisfy Any/],
);

plan tests => 2 * @rows + scalar(grep { $_->[4] } @rows) + 8,
    need_module('mod_jwtauth.c', 'mod_access_compat.c');

my $n = 0;
for my $r (@rows) {
    my ($name, $directives, $refused, $pat, $not) = @$r;
    my $conf = conf_file('t' . $n++, 'Listen 127.0.0.1:1', $directives);
    my $out = `$httpd -t -f $conf 2>&1`;
    my $rc = $? >> 8;
    is($rc != 0 ? 'refused' : 'accepted', $refused ? 'refused' : 'accepted',
       "$name: apache2 -t") or diag($out);
    like($out, $pat, "$name: message");
    unlike($out, $not, "$name: nothing else") if $not;
}

# a running server with no key but /api's: the nested scope validates,
# what only a request can tell answers 500 with one log line
my $port = do {
    my $sock = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                     LocalPort => 0) or die "port: $!";
    $sock->sockport;
};
for my $f (qw(x.html y.html iff.html r1.html api/admin/index.html)) {
    open my $fh, '>', "$dir/htdocs/$f" or die "$f: $!";
    print $fh "ok\n";
    close $fh;
}
system('chmod', '-R', 'a+rX', "$dir/htdocs");
my $conf = conf_file('live', "Listen 127.0.0.1:$port", 'User nobody',
    'Group nogroup', "DocumentRoot $dir/htdocs",
    dir("$dir/htdocs", 'Require all granted'),
    loc('/api', $KEY), loc('/api/admin', $ON),
    qq{<Files "x.html">\n$ON\n</Files>},
    qq{<Files "y.html">\n$ON\nSatisfy Any\n</Files>},
    qq{<If "%{REQUEST_URI} =~ m#^/iff#">\n$ON\n</If>},
    qq{<LocationMatch "^/r[0-9]">\n$ON\n</LocationMatch>});
my $pid = fork // die "fork: $!";
if (!$pid) {
    exec $httpd, '-f', $conf, '-DFOREGROUND';
    die "exec: $!";
}
my $up = 0;
for (1 .. 100) {
    last if waitpid($pid, WNOHANG) == $pid;
    if (IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")) {
        $up = 1;
        last;
    }
    select(undef, undef, undef, 0.1);
}
ok($up, 'the server with Files, If and LocationMatch sections starts')
    or diag(`cat $dir/live.error_log`);

my $ua = LWP::UserAgent->new(timeout => 10);
my $tok = token();
my @live = (
    ['/api/admin/index.html', 200, 'nested Location: /api\'s key validates'],
    ['/x.html', 500, '<Files> with no key'],
    ['/y.html', 500, '<Files> with no key under Satisfy Any'],
    ['/iff.html', 500, '<If> with no key'],
    ['/r1.html', 500, 'LocationMatch with no key'],
);
for my $l (@live) {
    my ($path, $code, $name) = @$l;
    my $res = $ua->get("http://127.0.0.1:$port$path",
                       'x-access-token' => $tok);
    # LWP makes up a 500 of its own when nobody answers
    my $from = ($res->header('Client-Warning') // '') eq 'Internal response'
             ? ' from LWP (no server)' : '';
    is($res->code . $from, $code, "$name: $path answers $code");
}
kill 'TERM', $pid;
waitpid($pid, 0);

my @lines;
if (open my $log, '<', "$dir/live.error_log") {
    @lines = grep { /JWTAuth On but no key/ } <$log>;
    close $log;
}
my %count;
for my $l (@lines) {
    $count{$1}++ if $l =~ m{\[jwtauth:error\]\ .*JWTAuth\ On\ but\ no\ key\ in
        \ the\ scope\ of\ (\S+):\ add\ JWTAuthSecretFile\ or
        \ JWTAuthKeyFile$}x;
}
is(join(' ', map { "$_=$count{$_}" } sort keys %count),
   '/iff.html=1 /r1.html=1 /x.html=1 /y.html=1',
   'one error line (jwtauth:error) per failed request, naming its URI');
is(scalar @lines, 4, 'and no other line about the missing key')
    or diag(@lines);
