#!/usr/bin/perl
# The demo in a real browser: `make run` on a free loopback port, then
# headless Chromium driven by Selenium (t/demo/browser.py, Debian's
# chromium, chromium-driver and python3-selenium under /usr/bin/python3)
# walks it as a person would: open /, land on the login page, a wrong
# password, log in, the greeting with the user's name, reload (the
# cookie holds), /admin/, a form on another origin posting to /admin/
# (403), log out (the login page again), and return_to values that point
# elsewhere (they land on /).  browser.py reports what the browser saw;
# the assertions are here.
use strict;
use warnings FATAL => 'all';
use FindBin;
use Test::More;
use JSON::PP;
use lib "$FindBin::Bin/lib";
use DemoRun;

my $top = "$FindBin::Bin/../..";
my ($pid, $base, $http, $up) = start_demo($top);
END { stop_demo($pid) if $pid }
ok($up, "demo answers at $base");

my $out = `timeout 180 /usr/bin/python3 $FindBin::Bin/browser.py $base`;
my $seen = eval { decode_json($out) } || {};
ok(keys %$seen, 'browser.py reported what the browser saw') or diag($out);
is($seen->{error}, undef, 'the browser ran without a WebDriver error');

my $login = "$base/login.html";
my $cookie = { secure => JSON::PP::true, httpOnly => JSON::PP::true,
               sameSite => 'Lax', path => '/' };
my @steps = (
    ['open /: url', "$login?return_to=/"],
    ['open /: title', 'login'],
    ['wrong password: url', "$login?error=1"],
    ['wrong password: error shown', JSON::PP::true],
    ['wrong password: no cookie', undef],
    ['log in: url', "$base/"],
    ['log in: greeting', 'Hello, daehan.'],
    # Secure on plain http: Chromium counts 127.0.0.1 as a secure
    # context and keeps the cookie
    ['log in: cookie', $cookie],
    ['reload: url', "$base/"],
    ['reload: greeting', 'Hello, daehan.'],
    ['admin: heading', 'Admin area'],
    ['foreign page: title', 'elsewhere'],
    ['cross-site form: url', "$base/admin/"],
    ['cross-site form: body', '{"message": "Cross-site request refused!"}'],
    ['log out: url', "$login?return_to=/"],
    ['log out: title', 'login'],
    ['log out: cookie', undef],
    ['after log out, open /: url', "$login?return_to=/"],
    ['return_to //evil.example/: url', "$base/"],
    ['return_to /\\evil.example: url', "$base/"],
    ['return_to https://evil.example/: url', "$base/"],
);
for my $s (@steps) {
    my ($what, $want) = @$s;
    ok(exists $seen->{$what}, "$what: observed") or next;
    is_deeply($seen->{$what}, $want, $what);
}

# the logout ended the token itself (JWTAuthSessionStore), not only the
# cookie: presented again, in the cookie or the header, it is refused
my $old = $seen->{'token before log out'} // '';
ok($old =~ /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the token of the session was seen');
for my $h (['Cookie' => "jwt=$old"], ['x-access-token' => $old]) {
    my $res = $http->get("$base/", { headers => { @$h } });
    is("$res->{status} $res->{content}",
       '401 {"message": "Token is invalid!"}',
       "the token after the logout, in $h->[0]: refused");
}

# the browser, the driver and the profile are gone
ok(@{ $seen->{pids} || [] } >= 2, 'browser.py saw the driver and browser '
   . 'pids');
# alive and still ours (a pid may have been reused since)
my @alive = grep {
    my $cmd = do { local (@ARGV, $/) = "/proc/$_/cmdline"; eval { <> } };
    defined $cmd && $cmd =~ /jwtauth-chromium|chromedriver/
} @{ $seen->{pids} || [] };
is("@alive", '', 'no driver or browser process is left');
ok($seen->{'profile removed'}, 'the browser profile under /tmp is removed');

stop_demo($pid);
$pid = undef;
ok(!$http->get("$base/")->{success}, 'demo stopped');
done_testing();
