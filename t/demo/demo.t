#!/usr/bin/perl
# `make run` end to end: start the demo on a free loopback port and walk
# the seed's flow with it, then stop it by its pid.
use strict;
use warnings FATAL => 'all';
use FindBin;
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64url);
use lib "$FindBin::Bin/lib";
use DemoRun;

my $top = "$FindBin::Bin/../..";
my ($pid, $base, $http, $up) = start_demo($top);
my ($port) = $base =~ /:(\d+)$/;
ok($up, "demo answers on 127.0.0.1:$port");

my $basic = 'Basic ' . encode_base64('daehan:1234', '');
my $res = $http->get("$base/login", { headers => { Authorization => $basic } });
my $tok = eval { decode_json($res->{content})->{token} } // '';
is($res->{status}, 200, 'curl -u daehan:1234 /login gives a token: status');
ok($tok, 'curl -u daehan:1234 /login gives a token: token');
my $claims = eval { decode_json(decode_base64url((split /\./, $tok)[1])) }
             || {};
cmp_ok($claims->{id} // 0, '==', 1,
       'token carries the seed\'s "id": 1, "admin": true: id');
ok(JSON::PP::is_bool($claims->{admin}),
   'token carries the seed\'s "id": 1, "admin": true: admin a boolean');
ok($claims->{admin},
   'token carries the seed\'s "id": 1, "admin": true: admin true');

$res = $http->get("$base/");
is($res->{content}, '{"message": "Token is missing!"}', '/ without token');
$res = $http->get("$base/", { headers => { 'x-access-token' => 'x.y.z' } });
is($res->{content}, '{"message": "Token is invalid!"}', '/ with a bad one');
$res = $http->get("$base/", { headers => { 'x-access-token' => $tok } });
is($res->{status}, 200, '/ with the token: hello.html: status');
like($res->{content}, qr/Hello!/, '/ with the token: hello.html: body');
$res = $http->get("$base/admin/", { headers => { 'x-access-token' => $tok } });
is($res->{status}, 200, '/admin/ with an admin token: status');
like($res->{content}, qr/Admin area/, '/admin/ with an admin token: body');
$res = $http->get("$base/login", { headers => {
    Authorization => 'Basic ' . encode_base64('daehan:4321', '') } });
is($res->{status}, 401, 'wrong password: Could not verify: status');
is($res->{content}, 'Could not verify',
   'wrong password: Could not verify: body');

stop_demo($pid);
ok(!$http->get("$base/")->{success}, 'demo stopped');
done_testing();
