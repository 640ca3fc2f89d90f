# Robustness: a /login user name that is not UTF-8 is refused like any
# failed login (401) before any authn provider runs, never a 500; and a
# shared cache tier that fails (a memcached nobody listens for, a mutex
# a child cannot reopen) costs nothing but the work it would save, and
# says so once in the error log.  The shared-tier cases run servers of
# their own: JWTAuthSharedCache is server-wide, and the suite's server
# already has one.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use MIME::Base64 qw(encode_base64);
use JSON::PP ();
use LWP::UserAgent;
use File::Path qw(make_path remove_tree);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;
use KeysServer;

my $root = $> == 0;
my $libexec = `apxs -q LIBEXECDIR`;
chomp $libexec;
plan tests => 31, need(need_module('mod_jwtauth.c', 'mod_authn_file.c'),
    map { +{ "$libexec/mod_socache_$_.so for a server of this test's own"
             => -e "$libexec/mod_socache_$_.so" } } qw(memcache shmcb));

sub basic { 'Basic ' . encode_base64(join(':', @_), '') }

my $dir = t_dir() . '/logs/robust';
make_path($dir);
chmod 0755, $dir;

# ---- /login: user names that are not UTF-8 -------------------------
# Every row is a user of the htpasswd file with the right password: the
# name alone decides.
my $hash = `htpasswd -nbB -C 5 x 1234`;
chomp $hash;
$hash =~ s/^x://;
my @bad = (
    ["\xffdaehan", 'byte 0xff'],
    ["\xc0\xafdaehan", 'overlong "/" (c0 af)'],
    ["da\xed\xa0\x80ehan", 'surrogate U+D800 (ed a0 80)'],
    ["daehan\xf4\x90\x80\x80", 'above U+10FFFF (f4 90 80 80)'],
    ["daehan\xc3", 'truncated sequence (c3)'],
);
my $jose = "Jos\xc3\xa9";
{
    open my $fh, '>:raw', "$dir/htpasswd" or die "$dir/htpasswd: $!";
    print $fh map { "$_->[0]:$hash\n" } @bad, [$jose];
    close $fh;
    chmod 0644, "$dir/htpasswd";
}

t_start_error_log_watch();
for my $row (@bad) {
    my ($user, $what) = @$row;
    my $res = POST('/robust-login', Authorization => basic($user, '1234'));
    is($res->code, 401, "user with $what, right password: 401");
    is($res->content, 'Could not verify', "user with $what: 'Could not "
       . "verify'");
    is($res->header('WWW-Authenticate') // '', 'Basic realm="Login '
       . 'required!"', "user with $what: the Basic challenge");
}
my @log = t_finish_error_log_watch();
is(scalar(grep { /JWTAuth login: no readable credentials/ } @log),
   scalar(@bad), 'each refused as unreadable credentials, before any '
   . 'provider');

# a UTF-8 name that exists logs in, and is the token's sub
my $res = POST('/robust-login', Authorization => basic($jose, '1234'));
is($res->code, 200, 'user Jos\xc3\xa9 (UTF-8), right password: 200');
my $body = eval { json_decode($res->content) } || {};
my (undef, $payload) = split /\./, $body->{token} // '';
my $claims = eval { JSON::PP->new->utf8->decode(unb64u($payload // '')) }
    || {};
is($claims->{sub} // '', "Jos\x{e9}", 'the token\'s sub is the UTF-8 name');

# ---- the shared tier, failing: servers of this test's own ------------
# one process of 4 threads ("once per process" is then once in the log;
# KeysServer: stopped by its pid, also when this test dies), the test's
# HS256 secret, JWTAuth On at /api
my @own = (dir => $dir, fresh => 1, single => 1, threads => 4,
           modules => [qw(socache_memcache socache_shmcb)],
           loglevel => 'warn jwtauth:debug');
my @hs256 = ('JWTAuthSecretFile ' . fixture('secret'),
             'JWTAuthAlgorithms HS256',
             '<Location /api>', '    JWTAuth On', '</Location>');

# n distinct valid tokens (each one stored afresh), one per connection;
# the status codes and the tokens
sub present {
    my ($port, $n, $tok) = @_;
    my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 10);
    my (@codes, @toks);
    for my $i (1 .. $n) {
        my $t = $tok // token(jti => "robust-$i-" . time);
        push @toks, $t;
        push @codes, $ua->get("http://127.0.0.1:$port/api/index.html",
                              'x-access-token' => $t)->code;
    }
    return (\@codes, \@toks);
}

# memcached on a port nobody listens on: every store fails
{
    my $mc = '127.0.0.1:' . KeysServer::free_port();
    my $srv = eval { KeysServer->start(@own, name => 'memcache',
        lines => [@hs256, "JWTAuthSharedCache memcache:$mc"]) };
    ok($srv, "a server with JWTAuthSharedCache memcache:$mc started")
        or diag($@);
    my ($codes, $toks) = $srv ? present($srv->port, 6) : ([], []);
    is("@$codes", join(' ', (200) x 6), 'six valid tokens: all 200, '
       . 'without the tier');
    ok(!$srv || $srv->stop, 'the server stopped by its pid');
    my @log = $srv ? $srv->log_lines : ();
    my @store = grep { index($_, "JWTAuthSharedCache memcache:$mc: the "
                             . 'provider failed to store an entry') >= 0 }
                @log;
    is(scalar(@store), 1, 'one line in the log for the failed stores')
        or diag(@log);
    my $means = '(logged once per process; tokens are verified without '
              . 'the tier)';
    like($store[0] // '', qr/\Q$means\E/,
         'it says what it means for requests');
    like($store[0] // '', qr/^\[[^]]*\] \[jwtauth:warn\]/, 'at level warn');
    # the first lookup meets the refused connection; later ones find the
    # server marked down (a plain miss)
    is(scalar(grep { index($_, "JWTAuthSharedCache memcache:$mc: the "
                               . 'provider failed to look an entry up') >= 0 }
              @log), 1, 'one line for the failed lookup');
    is(scalar(grep { my $l = $_; grep { index($l, $_) >= 0 } @$toks } @log),
       0, 'no token in the log');
}

# shmcb wants a mutex; its lock file lies in a directory the children
# (nobody) cannot enter, so none can reopen it: the tier is off in them
SKIP: {
    skip 'the children run as this user: they can reopen the mutex', 5
        unless $root;
    my $locks = "$dir/locks";
    remove_tree($locks);
    make_path($locks);
    chmod 0700, $locks;
    my $srv = eval { KeysServer->start(@own, name => 'mutex',
        lines => [@hs256, 'JWTAuthSharedCache shmcb',
                  "Mutex flock:$locks jwtauth-shared-cache"]) };
    ok($srv, 'a server whose children cannot reopen the tier\'s mutex '
       . 'started') or diag($@);
    # one token, many connections: a thread that missed its own cache
    # would find it in the tier, were the tier on
    my $tok = token(jti => 'robust-mutex');
    my ($codes) = $srv ? present($srv->port, 12, $tok) : ([]);
    is("@$codes", join(' ', (200) x 12), 'twelve presentations: all 200');
    ok(!$srv || $srv->stop, 'the server stopped by its pid');
    my @log = $srv ? $srv->log_lines : ();
    my @init = grep { index($_, 'JWTAuthSharedCache shmcb: cannot reopen '
                            . 'its mutex in this child; the tier is off in '
                            . 'it') >= 0 } @log;
    is(scalar(@init), 1, 'one line in the log: the child cannot reopen the '
       . 'mutex') or diag(@log);
    is(scalar(grep { /token accepted .*shared cache\)/ } @log), 0,
       'no answer from the tier that child could not lock');
}
