#!/usr/bin/perl
# `make run` from a checkout that httpd's children cannot enter (as root,
# a clone under a 0700 directory such as /root): the demo stages what
# they read under /tmp and serves the seed's flow all the same, instead
# of answering 403 to everything.  Runs the checkout's own
# build/run-demo.sh from a copy inside a closed directory.
use strict;
use warnings FATAL => 'all';
use FindBin;
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use File::Temp qw(tempdir);
use Digest::MD5 qw(md5_hex);
use lib "$FindBin::Bin/lib";
use DemoRun;

plan skip_all => 'only root starts httpd with children as nobody' if $> != 0;

my $top = "$FindBin::Bin/../..";
my $closed = tempdir('/tmp/jwtauth-closed.XXXXXX', CLEANUP => 1);
chmod 0700, $closed or die "chmod: $!";
my $co = "$closed/checkout";
mkdir $co or die "mkdir: $!";
system('cp', '-a', "$top/build", "$top/demo", "$top/.libs", "$co/") == 0
    or die 'copy failed';
system('rm', '-rf', "$co/demo/run");
my $stage = '/tmp/mod_jwtauth-demo.' . substr(md5_hex($co), 0, 12);

my $log = "$closed/run-demo.out";
my ($pid, $base, $http, $up) = start_demo($co, $log);
my ($port) = $base =~ /:(\d+)$/;
ok($up, "demo from a closed checkout answers on 127.0.0.1:$port");
my $said = do { local (@ARGV, $/) = $log; <> } // '';
like($said, qr/closed to user nobody.*\Q$stage\E/s,
     'run-demo.sh says it serves a staged copy, and where');

my $basic = 'Basic ' . encode_base64('daehan:1234', '');
my $res = $http->get("$base/login", { headers => { Authorization => $basic } });
is($res->{status}, 200, '/login with the seed\'s user');
my $tok = eval { decode_json($res->{content})->{token} } // '';
$res = $http->get("$base/", { headers => { 'x-access-token' => $tok } });
is($res->{status}, 200, '/ with the token: 200, not 403');
like($res->{content}, qr/Hello!/, '/ with the token: hello.html');
$res = $http->get("$base/");
is($res->{content}, '{"message": "Token is missing!"}', '/ without a token');

stop_demo($pid);
ok(!$http->get("$base/")->{success}, 'demo stopped');
system('rm', '-rf', $stage);
done_testing();
